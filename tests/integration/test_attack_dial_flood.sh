#!/usr/bin/env bash
# Issue 10, dials: `weft connect` with 3,000 unreachable targets (a subnet that h1 routes into a
# black hole inside its own namespace, so SYNs vanish) keeps h1's descriptors bounded
# (64 dials at once, each closed after the 8 s handshake timeout) while the mesh to h2 stays up;
# `weft forget` closes the dials in progress at once and nothing is dialed again.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../../scripts/lib/netns.sh
source "$here/../../scripts/lib/netns.sh"
# shellcheck source=SCRIPTDIR/lib_weft.sh
source "$here/lib_weft.sh"

harness_init adial
harness_add_hosts 2
# The black hole: a veth pair inside h1; 10.77/16 goes to a gateway on it whose MAC (a permanent
# neighbour entry, so no ARP fails fast) belongs to nobody, so the far end drops every SYN.
{ hexec h1 ip link add bh0 type veth peer name bh1 &&
  hexec h1 ip link set bh1 up &&
  hexec h1 ip addr add 10.66.0.1/30 dev bh0 &&
  hexec h1 ip link set bh0 up &&
  hexec h1 ip neigh add 10.66.0.2 lladdr 02:00:00:00:00:01 dev bh0 nud permanent &&
  hexec h1 ip route add 10.77.0.0/16 via 10.66.0.2; } || fail "cannot blackhole 10.77.0.0/16 in h1"
weft_launch_first h1 >/dev/null || fail "weft launch on h1 failed"
weft_launch_join h2 h1 >/dev/null || fail "weft launch on h2 failed"
wait_for "h1 and h2 to connect" 20 weft_full_mesh h1 h2 || fail "no mesh"
pid=$(weft_router_pid h1)
fds() { find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 | wc -l; }
fds0=$(fds)
targets=()
for i in $(seq 0 2999); do targets+=("10.77.$((i / 250)).$((1 + i % 250))"); done

weft_on h1 connect "${targets[@]}" >/dev/null || fail "weft connect with 3,000 targets failed"
n=$(weft_on h1 status targets | grep -c '10\.77\.' || true)
((n == 3000)) || fail "h1 lists $n of the 3,000 targets"
# Through two waves of dials (each 8 s), the descriptors never exceed the bound; sampled while
# waiting for the second wave to start.
max_fds=0
second_wave() {
  local f started
  f=$(fds)
  ((f > max_fds)) && max_fds=$f
  started=$(weft_metric h1 weft_dials_started_total) || return 1
  echo "dials started: $started, descriptors: $f (max $max_fds, before $fds0)"
  ((started >= 128 + 1))
}
wait_for "the second wave of dials" 30 second_wave || fail "the dials did not proceed in waves"
((max_fds <= fds0 + 64 + 8)) || fail "h1 held $max_fds descriptors (was $fds0; 64 dials allowed)"
waiting=$(weft_metric h1 weft_dials_waiting)
((waiting > 2000)) || fail "only $waiting dials waiting: the bound did not apply"
weft_full_mesh h1 h2 >/dev/null || fail "the mesh h1-h2 broke during the dials"
pass "3,000 unreachable targets: at most $max_fds descriptors (was $fds0), $waiting dials waiting, mesh up"

a0=$(weft_metric h1 weft_dials_abandoned_total)
weft_on h1 forget "${targets[@]}" >/dev/null || fail "weft forget failed"
released() {
  local f
  f=$(fds)
  echo "descriptors: $f (before the targets: $fds0)"
  ((f <= fds0 + 2))
}
wait_for "h1 to close the forgotten dials" 5 released || fail "forget did not release the dials"
a1=$(weft_metric h1 weft_dials_abandoned_total)
((a1 > a0)) || fail "no dial counted as abandoned"
s0=$(weft_metric h1 weft_dials_started_total)
# Nothing is dialed again. The marker is a new unreachable target: its first dial times out
# after 8 s and is retried, so once it has been dialed twice, a whole wave's time has passed.
hexec h1 ip route add 10.78.0.0/16 via 10.66.0.2
weft_on h1 connect 10.78.0.1 >/dev/null || fail "weft connect 10.78.0.1 failed"
marker_retried() {
  local s
  s=$(weft_metric h1 weft_dials_started_total) || return 1
  echo "dials started since forget: $((s - s0)) (want 2: the marker and its retry)"
  ((s >= s0 + 2))
}
wait_for "the marker target to be dialed again" 20 marker_retried || fail "the marker was not retried"
s1=$(weft_metric h1 weft_dials_started_total)
((s1 - s0 <= 3)) || fail "$((s1 - s0)) dials since forget: forgotten targets were dialed again"
f1=$(fds)
((f1 <= fds0 + 3)) || fail "h1 holds $f1 descriptors after forget (was $fds0)"
pass "forget closed $((a1 - a0)) dials in progress and released the descriptors; only the marker was dialed since"
