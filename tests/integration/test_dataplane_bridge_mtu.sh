#!/usr/bin/env bash
# The capture port's own MTU is far above the overlay's (so that the router sees, and answers,
# packets too big for the overlay), yet the bridge keeps the overlay MTU, even when that equals
# the kernel's default 1500 (a bridge nobody set an MTU on follows its smallest port). One host
# per capture backend, launched with --mtu 1500.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../../scripts/lib/netns.sh
source "$here/../../scripts/lib/netns.sh"
# shellcheck source=SCRIPTDIR/lib_weft.sh
source "$here/lib_weft.sh"

harness_init dpbrmtu
harness_add_hosts 2
declare -A capture=([h1]=tap [h2]=pcap) port=([h1]=weft-tap [h2]=weft-pcap-br)
for h in h1 h2; do
  weft_launch_first "$h" --mtu 1500 --capture "${capture[$h]}" >/dev/null || fail "weft launch on $h failed"
done
mtu_of() { ip -n "$(host_ns "$1")" -j link show "$2" | jq -r '.[0].mtu'; }
for h in h1 h2; do
  wait_for "$h's capture port ${port[$h]}" 10 ip -n "$(host_ns "$h")" link show "${port[$h]}" ||
    fail "$h has no capture port ${port[$h]}"
  wait_for "$h's router to report its data plane" 10 weft_jq "$h" '.dataplane.mtu' ||
    fail "$h's router reports no data plane"
  got=$(mtu_of "$h" weft)
  [[ $got == 1500 ]] || fail "$h (${capture[$h]}): the bridge's MTU is $got, not the overlay's 1500"
  got=$(mtu_of "$h" "${port[$h]}")
  [[ $got == 65000 ]] || fail "$h (${capture[$h]}): the capture port's MTU is $got, not 65000"
  pass "${capture[$h]}: bridge MTU 1500, capture port ${port[$h]} MTU 65000"
done
