#!/usr/bin/env bash
# Four hosts in a ring (--no-discovery, h1->h2->h3->h4->h1): h1's workload pings h3's workload
# across two hops with no duplicate replies, a relay counts the relayed frames, and a broadcast
# ARP from one workload reaches every other workload exactly once.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../../scripts/lib/netns.sh
source "$here/../../scripts/lib/netns.sh"
# shellcheck source=SCRIPTDIR/lib_weft.sh
source "$here/lib_weft.sh"
command -v tcpdump >/dev/null || fail "this test needs tcpdump (apt-get install tcpdump)"
command -v arping >/dev/null || fail "this test needs arping (apt-get install iputils-arping)"

harness_init dprelay
harness_add_hosts 4
weft_launch_first h1 --no-discovery "$(host_ip h2)" >/dev/null || fail "weft launch on h1 failed"
declare -A next=([h2]=h3 [h3]=h4 [h4]=h1)
for h in h2 h3 h4; do
  copy=$(weft_secret_copy h1 "$h") || fail "cannot copy h1's secret to $h"
  weft_on "$h" launch --nickname "$h" --password-file "$copy" --no-discovery "$(host_ip "${next[$h]}")" \
    >/dev/null || fail "weft launch on $h failed"
done
# ring_ok: every host has exactly its two ring neighbours and reaches all four peers.
ring_ok() {
  weft_expect "h1 est" "$(weft_established h1)" "h2 h4" &&
    weft_expect "h2 est" "$(weft_established h2)" "h1 h3" &&
    weft_expect "h3 est" "$(weft_established h3)" "h2 h4" &&
    weft_expect "h4 est" "$(weft_established h4)" "h1 h3" &&
    weft_expect "h1 reach" "$(weft_reachable h1)" "h1 h2 h3 h4" &&
    weft_expect "h3 reach" "$(weft_reachable h3)" "h1 h2 h3 h4"
}
wait_for "the ring h1-h2-h3-h4-h1" 30 ring_ok || fail "the ring did not form"
route_2hops() { local r; r=$(weft_route h1 h3) && echo "h1 -> h3: $r" && [[ $r == "h2 2" || $r == "h4 2" ]]; }
wait_for "h1's route to h3 via h2 or h4, 2 hops" 10 route_2hops || fail "h1 has no 2-hop route to h3"
route=$(weft_route h1 h3) || fail "h1 has no route to h3"
[[ $route == "h2 2" || $route == "h4 2" ]] || fail "h1's route to h3 is '$route' (want via h2 or h4, 2 hops)"
pass "ring formed; h1 routes to h3 via '$route'"

declare -A wns
for n in 1 2 3 4; do
  wns[h$n]="$(host_ns "h$n")-w$n"
  ip netns add "${wns[h$n]}" || fail "cannot create the namespace ${wns[h$n]}"
  weft_on "h$n" attach "10.32.$n.1/12" "${wns[h$n]}" >/dev/null || fail "attach on h$n failed"
done

relayed() { echo $(($(weft_metric h2 weft_dataplane_frames_relayed_total) + $(weft_metric h4 weft_dataplane_frames_relayed_total))); }
r0=$(relayed) || fail "no relayed metric"
wait_for "${wns[h1]} to reach ${wns[h3]}" 10 ip netns exec "${wns[h1]}" ping -c1 -W1 -q 10.32.3.1 ||
  fail "h1's workload cannot ping h3's workload across the ring"
out=$(ip netns exec "${wns[h1]}" ping -c10 -i0.2 -W2 10.32.3.1 2>&1) || fail "pings h1 -> h3 lost: $out"
grep -q "DUP!" <<<"$out" && fail "duplicate replies across the ring: $(grep -m3 'DUP!' <<<"$out")"
grep -q "10 packets transmitted, 10 received" <<<"$out" || fail "unexpected ping summary: $(tail -2 <<<"$out")"
r1=$(relayed)
((r1 - r0 >= 20)) || fail "relays h2+h4 relayed only $((r1 - r0)) frames for 11+ pings each way"
pass "h1's workload pings h3's (2 hops) with no DUP!; h2+h4 relayed $((r1 - r0)) frames"

# Broadcast ARP for a fresh address A, then for B as the marker that A's flood is over.
a=10.32.9.9
b=10.32.9.10
declare -A cap cpid
for h in h2 h3 h4; do
  cap[$h]="$HARNESS_DIR/arp-$h.pcap"
  ip netns exec "${wns[$h]}" tcpdump -n -s 0 -U -i ethweft -w "${cap[$h]}" arp >"${cap[$h]}.log" 2>&1 </dev/null &
  cpid[$h]=$!
  wait_for "tcpdump in ${wns[$h]} to listen" 10 grep -q "listening on" "${cap[$h]}.log" || fail "no tcpdump in $h"
done
arp_count() { tcpdump -n -r "$1" "arp[6:2] == 1 and arp dst host $2" 2>/dev/null | wc -l; }
ip netns exec "${wns[h1]}" arping -c1 -w1 -I ethweft "$a" >/dev/null 2>&1 || true # nobody answers
ip netns exec "${wns[h1]}" arping -c1 -w1 -I ethweft "$b" >/dev/null 2>&1 || true
all_saw_b() {
  local h
  for h in h2 h3 h4; do
    echo "$h: $(arp_count "${cap[$h]}" "$b") requests for $b"
    (($(arp_count "${cap[$h]}" "$b") >= 1)) || return 1
  done
}
wait_for "every workload to see the ARP request for $b" 10 all_saw_b || fail "an ARP broadcast did not reach every workload"
for h in h2 h3 h4; do
  kill -INT "${cpid[$h]}"
  wait_for "tcpdump in $h to finish" 10 grep -Eq "packets? captured" "${cap[$h]}.log" || fail "tcpdump in $h did not finish"
done
summary=""
for h in h2 h3 h4; do
  na=$(arp_count "${cap[$h]}" "$a")
  nb=$(arp_count "${cap[$h]}" "$b")
  summary+=" $h:$na/$nb"
  ((na == 1 && nb == 1)) || fail "$h's workload saw the ARP request for $a $na times and for $b $nb times (want 1 each)"
done
pass "a broadcast ARP from h1's workload reached each other workload exactly once (A/B:$summary)"
