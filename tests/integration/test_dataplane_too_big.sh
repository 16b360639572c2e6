#!/usr/bin/env bash
# A packet too big for the overlay gets ICMP "fragmentation needed" from the router instead of
# vanishing. Two hosts, one workload each; h1's workload then raises its MTU (both ends of its
# veth) to 9000, as a misconfigured workload or a host-side interface on the bridge might: a DF
# ping one byte over the overlay MTU is answered "Frag needed ... mtu = N" (IPv6: "Packet too
# big"), the workload's kernel caches the path MTU, and a TCP transfer between two such workloads (TSO super-frames whose
# segments are too big) completes instead of stalling. Runs with the capture backend in
# $WEFT_CAPTURE (default tap).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../../scripts/lib/netns.sh
source "$here/../../scripts/lib/netns.sh"
# shellcheck source=SCRIPTDIR/lib_weft.sh
source "$here/lib_weft.sh"
command -v nc >/dev/null || fail "this test needs nc (apt-get install netcat-openbsd)"
capture=${WEFT_CAPTURE:-tap}

harness_init dpbig
harness_add_hosts 2
weft_launch_first h1 --capture "$capture" >/dev/null || fail "weft launch on h1 failed"
weft_launch_join h2 h1 --capture "$capture" >/dev/null || fail "weft launch on h2 failed"
wait_for "a full mesh" 20 weft_full_mesh h1 h2 || fail "no full mesh"

declare -A wns=([w1]="$(host_ns h1)-w1" [w2]="$(host_ns h2)-w2") whost=([w1]=h1 [w2]=h2)
for w in w1 w2; do ip netns add "${wns[$w]}" || fail "cannot create the namespace ${wns[$w]}"; done
weft_on h1 attach 10.32.1.1/12 "${wns[w1]}" >/dev/null || fail "attach w1 on h1 failed"
# Two addresses: the second (10.32.2.2) is kept for the TCP transfer below, to which w1 has no
# path MTU yet. (Both are w2's own, so the port guard lets w2 send from either.)
weft_on h2 attach 10.32.2.1/12 10.32.2.2/12 "${wns[w2]}" >/dev/null || fail "attach w2 on h2 failed"
wexec() { local w=$1; shift; ip netns exec "${wns[$w]}" "$@"; }
wait_for "w1 to reach w2" 10 wexec w1 ping -c1 -W1 -q 10.32.2.1 || fail "w1 cannot ping w2"

mtu=$(ip -n "${wns[w1]}" -j link show ethweft | jq -r '.[0].mtu')
[[ $mtu =~ ^[0-9]+$ ]] || fail "cannot read ethweft's MTU: $mtu"
wexec w1 ping -c2 -W1 -q -M "do" -s $((mtu - 28)) 10.32.2.1 >/dev/null ||
  fail "a full-MTU ($mtu) DF ping w1 -> w2 does not cross"
pass "a full-MTU ($mtu) DF ping crosses"

# raise_mtu W N: both ends of workload W's veth to MTU N (the bridge end is the host interface
# whose index ethweft names as its link).
raise_mtu() {
  local w=$1 n=$2 h=${whost[$1]} idx port
  idx=$(ip -n "${wns[$w]}" -j link show ethweft | jq -r '.[0].link_index')
  port=$(ip -n "$(host_ns "$h")" -j link show | jq -r --argjson i "$idx" '.[] | select(.ifindex == $i) | .ifname')
  [[ -n $port ]] || fail "cannot find the bridge end of $w's veth (ifindex $idx on $h)"
  ip -n "$(host_ns "$h")" link set "$port" mtu "$n" || fail "cannot set $port's MTU on $h"
  ip -n "${wns[$w]}" link set ethweft mtu "$n" || fail "cannot set ethweft's MTU in $w"
}
raise_mtu w1 9000

set +e
out=$(wexec w1 ping -c1 -W2 -M "do" -s $((mtu - 27)) 10.32.2.1 2>&1)
set -e
grep -q "Frag needed and DF set (mtu = $mtu)" <<<"$out" ||
  fail "a DF ping one byte over the overlay MTU got no 'Frag needed ... (mtu = $mtu)': $out"
pass "a DF ping one byte over the overlay MTU: $(grep -m1 'Frag needed' <<<"$out")"
route=$(ip -n "${wns[w1]}" route get 10.32.2.1)
grep -q "mtu $mtu" <<<"$route" || fail "w1's kernel did not learn the path MTU $mtu: $route"
pass "w1's kernel caches path MTU $mtu for w2"
wait_for "h1 to count the ICMP error" 5 weft_metric_at_least h1 weft_dataplane_icmp_too_big_sent_total 1 ||
  fail "h1 did not count the ICMP error it sent"
wait_for "h1 to count the dropped frame" 5 weft_metric_at_least h1 'weft_dataplane_dropped_total{reason="too_big"}' 1 ||
  fail "h1 did not count the frame it dropped as too big"

# IPv6: the same for Packet Too Big (addresses of a private prefix, no duplicate detection).
wexec w1 ip -6 addr add fd32::1/64 dev ethweft nodad
wexec w2 ip -6 addr add fd32::2/64 dev ethweft nodad
wait_for "w1 to reach w2 over IPv6" 10 wexec w1 ping -6 -c1 -W1 -q fd32::2 || fail "w1 cannot ping w2 over IPv6"
set +e
out=$(wexec w1 ping -6 -c1 -W2 -M "do" -s $((mtu - 47)) fd32::2 2>&1)
set -e
grep -Eq "Packet too big: mtu=$mtu|mtu=$mtu" <<<"$out" ||
  fail "an IPv6 ping one byte over the overlay MTU got no 'Packet too big: mtu=$mtu': $out"
pass "an IPv6 ping one byte over the overlay MTU: $(grep -m1 -E 'mtu=' <<<"$out")"
route=$(ip -n "${wns[w1]}" -6 route get fd32::2)
grep -q "mtu $mtu" <<<"$route" || fail "w1's kernel did not learn the IPv6 path MTU $mtu: $route"

# TCP between two workloads at MTU 9000, to an address of w2's that w1 has no path MTU for yet:
# w1's stack sends segments of ~8948 bytes (with TAP offloads, super-frames of them) until the
# router's ICMP teaches it the overlay's MTU.
raise_mtu w2 9000
sent_before=$(weft_metric h1 weft_dataplane_icmp_too_big_sent_total) || fail "no ICMP counter on h1"
out="$HARNESS_DIR/tcp.out"
: >"$out"
ip netns exec "${wns[w2]}" nc -l 5000 >"$out" 2>&1 </dev/null &
wait_for "nc to listen on TCP 5000 in w2" 5 bash -c "ip netns exec '${wns[w2]}' ss -Hltn | grep -q ':5000 '" ||
  fail "TCP listener did not start"
head -c 2000000 /dev/urandom >"$HARNESS_DIR/blob"
wexec w1 timeout 20 nc -N -w5 10.32.2.2 5000 <"$HARNESS_DIR/blob" || fail "the TCP transfer w1 -> w2 did not complete"
wait_for "2 MB to arrive at w2" 10 cmp -s "$HARNESS_DIR/blob" "$out" ||
  fail "w2 received $(stat -c %s "$out") of 2000000 bytes"
route=$(ip -n "${wns[w1]}" route get 10.32.2.2)
grep -q "mtu $mtu" <<<"$route" || fail "the TCP transfer did not teach w1 the path MTU $mtu: $route"
weft_metric_at_least h1 weft_dataplane_icmp_too_big_sent_total $((sent_before + 1)) >/dev/null ||
  fail "h1 sent no ICMP error for the TCP segments"
pass "2 MB over TCP between two MTU-9000 workloads arrive whole; w1 learned path MTU $mtu from the router"
