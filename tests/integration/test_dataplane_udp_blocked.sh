#!/usr/bin/env bash
# With UDP blocked between two hosts, their workloads still ping each other (frames fall back to
# the encrypted TCP control connection), status says so, and fallback counters rise; once UDP is
# unblocked, the path returns to UDP.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../../scripts/lib/netns.sh
source "$here/../../scripts/lib/netns.sh"
# shellcheck source=SCRIPTDIR/lib_weft.sh
source "$here/lib_weft.sh"

harness_init dpudpblk
harness_add_hosts 3
w1="$(host_ns h1)-w1"
w2="$(host_ns h2)-w2"
w3="$(host_ns h3)-w3"
for w in "$w1" "$w2" "$w3"; do ip netns add "$w" || fail "cannot create the namespace $w"; done
weft_launch_first h1 >/dev/null || fail "weft launch on h1 failed"
weft_launch_join h2 h1 >/dev/null || fail "weft launch on h2 failed"
weft_launch_join h3 h1 >/dev/null || fail "weft launch on h3 failed"
wait_for "a full mesh" 20 weft_full_mesh h1 h2 h3 || fail "no full mesh"
weft_on h1 attach 10.32.1.1/12 "$w1" >/dev/null || fail "attach on h1 failed"
weft_on h2 attach 10.32.2.1/12 "$w2" >/dev/null || fail "attach on h2 failed"
weft_on h3 attach 10.32.3.1/12 "$w3" >/dev/null || fail "attach on h3 failed"
wait_for "$w1 to reach $w2" 10 ip netns exec "$w1" ping -c1 -W1 -q 10.32.2.1 || fail "$w1 cannot ping $w2"

# path_is hN hM PATH: hN's data-plane path to hM is PATH.
path_is() {
  local got
  # shellcheck disable=SC2016 # $n is a jq variable
  got=$(weft_jq "$1" '[.dataplane.paths[] | select(.nickname == $n) | .path] | join(",")' --arg n "$2") ||
    { echo "$1: no status" && return 1; }
  weft_expect "$1 path to $2" "$got" "$3"
}
# path_both PATH: h1's path to h2 and h2's path to h1 are both PATH.
path_both() { path_is h1 h2 "$1" && path_is h2 h1 "$1"; }
wait_for "h1 <-> h2 on udp" 10 path_both udp ||
  fail "the h1 <-> h2 path is not udp before the block"
pass "h1 <-> h2 path is udp"

fb1=$(weft_metric h1 weft_dataplane_fallback_sent_total) || fail "no fallback_sent metric on h1"
fb2=$(weft_metric h2 weft_dataplane_fallback_sent_total) || fail "no fallback_sent metric on h2"
fr1=$(weft_metric h1 weft_dataplane_fallback_received_total) || fail "no fallback_received metric on h1"
fr2=$(weft_metric h2 weft_dataplane_fallback_received_total) || fail "no fallback_received metric on h2"
harness_block_udp h1 h2
t0=$(weft_now_ms)
wait_for "h1 and h2 to see UDP not working" 15 \
  path_both 'tcp (UDP not working)' ||
  fail "status does not show 'tcp (UDP not working)' between h1 and h2 after blocking UDP"
pass "status shows 'tcp (UDP not working)' both ways $(($(weft_now_ms) - t0)) ms after the block"
path_is h1 h3 udp >/dev/null || fail "h1 -> h3 left udp although only h1-h2 was blocked: $(path_is h1 h3 udp)"
ip netns exec "$w1" ping -c5 -i0.2 -W2 -q 10.32.2.1 >/dev/null || fail "$w1 cannot ping $w2 with UDP blocked"
ip netns exec "$w2" ping -c5 -i0.2 -W2 -q 10.32.1.1 >/dev/null || fail "$w2 cannot ping $w1 with UDP blocked"
ip netns exec "$w1" ping -c2 -W2 -q 10.32.3.1 >/dev/null || fail "$w1 cannot ping $w3 (UDP path) during the block"
weft_metric_at_least h1 weft_dataplane_fallback_sent_total $((fb1 + 5)) >/dev/null ||
  fail "h1's fallback_sent did not rise by >= 5: $(weft_metric_at_least h1 weft_dataplane_fallback_sent_total $((fb1 + 5)))"
weft_metric_at_least h2 weft_dataplane_fallback_sent_total $((fb2 + 5)) >/dev/null ||
  fail "h2's fallback_sent did not rise by >= 5: $(weft_metric_at_least h2 weft_dataplane_fallback_sent_total $((fb2 + 5)))"
weft_metric_at_least h1 weft_dataplane_fallback_received_total $((fr1 + 5)) >/dev/null ||
  fail "h1's fallback_received did not rise by >= 5: $(weft_metric_at_least h1 weft_dataplane_fallback_received_total $((fr1 + 5)))"
weft_metric_at_least h2 weft_dataplane_fallback_received_total $((fr2 + 5)) >/dev/null ||
  fail "h2's fallback_received did not rise by >= 5: $(weft_metric_at_least h2 weft_dataplane_fallback_received_total $((fr2 + 5)))"
pass "workloads ping over the TCP fallback; fallback counters rose (h1 $fb1 -> $(weft_metric h1 weft_dataplane_fallback_sent_total), h2 $fb2 -> $(weft_metric h2 weft_dataplane_fallback_sent_total))"

harness_unblock_udp h1 h2
t0=$(weft_now_ms)
wait_for "h1 <-> h2 back on udp" 15 path_both udp ||
  fail "the h1 <-> h2 path did not return to udp after unblocking"
fb1=$(weft_metric h1 weft_dataplane_fallback_sent_total)
ip netns exec "$w1" ping -c5 -i0.2 -W2 -q 10.32.2.1 >/dev/null || fail "$w1 cannot ping $w2 after unblocking"
fb1b=$(weft_metric h1 weft_dataplane_fallback_sent_total)
((fb1b == fb1)) || fail "h1 still sends over the fallback on a udp path ($fb1 -> $fb1b)"
pass "path back to udp $(($(weft_now_ms) - t0)) ms after unblocking; pings no longer use the fallback"
