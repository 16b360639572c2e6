#!/usr/bin/env bash
# A host with the cluster secret cannot speak for another host's workload: while w1 (on h1) is
# active, a workload on h3 that takes w1's IP, or w1's MAC, reaches nobody; h2 drops its frames
# and counts them (spoofed_source_ip / spoofed_source), and w1 keeps working. The same workload
# with addresses of its own gets through, so the drops are the check's doing.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../../scripts/lib/netns.sh
source "$here/../../scripts/lib/netns.sh"
# shellcheck source=SCRIPTDIR/lib_weft.sh
source "$here/lib_weft.sh"

harness_init dpspoof
harness_add_hosts 3
weft_launch_first h1 >/dev/null || fail "weft launch on h1 failed"
weft_launch_join h2 h1 >/dev/null || fail "weft launch on h2 failed"
weft_launch_join h3 h1 >/dev/null || fail "weft launch on h3 failed"
wait_for "a full mesh" 20 weft_full_mesh h1 h2 h3 || fail "no full mesh"

declare -A wns=([w1]="$(host_ns h1)-w1" [w2]="$(host_ns h2)-w2" [x3]="$(host_ns h3)-x3")
for w in w1 w2 x3; do ip netns add "${wns[$w]}" || fail "cannot create the namespace ${wns[$w]}"; done
weft_on h1 attach 10.32.1.1/12 "${wns[w1]}" >/dev/null || fail "attach w1 on h1 failed"
weft_on h2 attach 10.32.2.1/12 "${wns[w2]}" >/dev/null || fail "attach w2 on h2 failed"
weft_on h3 attach 10.32.3.1/12 "${wns[x3]}" >/dev/null || fail "attach x3 on h3 failed"
# h3 plays a compromised host (root there, the secret in hand): it drops its own port guard
# (common/port_guard.h), so only h2's check of the sender stands.
if command -v nft >/dev/null; then hexec h3 nft delete table bridge weft 2>/dev/null || true; fi
wexec() { local w=$1; shift; ip netns exec "${wns[$w]}" "$@"; }

wait_for "w1 to reach w2" 10 wexec w1 ping -c1 -W1 -q 10.32.2.1 || fail "w1 cannot ping w2"
wait_for "x3 to reach w2" 10 wexec x3 ping -c1 -W1 -q 10.32.2.1 || fail "x3 cannot ping w2 with its own addresses"
pass "w1 and x3 (with addresses of their own) reach w2"

# w1 stays active for the rest of the test.
ip netns exec "${wns[w1]}" ping -i 0.2 -q 10.32.2.1 >/dev/null 2>&1 </dev/null &

spoofed() { weft_metric h2 "weft_dataplane_dropped_total{reason=\"$1\"}"; }
ip_before=$(spoofed spoofed_source_ip) || fail "h2 has no spoofed_source_ip counter"
mac_before=$(spoofed spoofed_source) || fail "h2 has no spoofed_source counter"

# x3 takes w1's IP (its own MAC).
wexec x3 ip addr flush dev ethweft
wexec x3 ip addr add 10.32.1.1/12 dev ethweft
wexec x3 ip neigh flush dev ethweft
if out=$(wexec x3 ping -c3 -W1 10.32.2.1 2>&1); then
  fail "x3, using w1's IP, got answers from w2: $out"
fi
wait_for "h2 to count x3's frames as spoofed (IP)" 5 weft_metric_at_least h2 \
  'weft_dataplane_dropped_total{reason="spoofed_source_ip"}' $((ip_before + 1)) ||
  fail "h2 did not count frames from w1's IP arriving from h3"
pass "x3 with w1's IP reaches nobody; h2 counts $(($(spoofed spoofed_source_ip) - ip_before)) spoofed-IP drops"

# x3 takes w1's MAC (and an unused IP of its own).
w1_mac=$(ip -n "${wns[w1]}" -j link show ethweft | jq -r '.[0].address')
wexec x3 ip addr flush dev ethweft
wexec x3 ip link set ethweft address "$w1_mac"
wexec x3 ip addr add 10.32.3.9/12 dev ethweft
wexec x3 ip neigh flush dev ethweft
if out=$(wexec x3 ping -c3 -W1 10.32.2.1 2>&1); then
  fail "x3, using w1's MAC, got answers from w2: $out"
fi
wait_for "h2 to count x3's frames as spoofed (MAC)" 5 weft_metric_at_least h2 \
  'weft_dataplane_dropped_total{reason="spoofed_source"}' $((mac_before + 1)) ||
  fail "h2 did not count frames from w1's MAC arriving from h3"
pass "x3 with w1's MAC reaches nobody; h2 counts $(($(spoofed spoofed_source) - mac_before)) spoofed-MAC drops"

wexec w1 ping -c3 -W1 -q 10.32.2.1 >/dev/null || fail "w1 lost its connectivity to w2 after the spoofing"
pass "w1 still reaches w2"
