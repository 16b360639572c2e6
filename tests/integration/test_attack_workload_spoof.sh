#!/usr/bin/env bash
# Issue 10, hostile workloads: w3 (on h1) sends ICMP with w1's source IP, frames with w1's source
# MAC, and ARP replies claiming w1's IP, to w2 (same host) and w4 (on h2). The port guard
# (common/port_guard.h, nftables table `bridge weft`, installed by the router from its workload
# registry: router/os/port_guard_service.h) drops them all at w3's bridge port and counts them;
# w3's own traffic still flows (the positive control). Before the attack, h1's router is killed
# and its table tampered with (w3's binding removed, a binding for a port that is gone added):
# the relaunched router puts back exactly its workloads' bindings. Detaching w3 removes its.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../../scripts/lib/netns.sh
source "$here/../../scripts/lib/netns.sh"
# shellcheck source=SCRIPTDIR/lib_weft.sh
source "$here/lib_weft.sh"
# shellcheck source=SCRIPTDIR/lib_attack.sh
source "$here/lib_attack.sh"
for c in nft tcpdump python3; do command -v $c >/dev/null || fail "this test needs $c"; done
spoof="$here/tools/spoof.py"

harness_init aspoof
harness_add_hosts 2
declare -A ws=([w1]=h1 [w2]=h1 [w3]=h1 [w4]=h2) ip=([w1]=10.32.1.1 [w2]=10.32.1.2 [w3]=10.32.1.3 [w4]=10.32.2.4)
weft_launch_first h1 >/dev/null || fail "weft launch on h1 failed"
weft_launch_join h2 h1 >/dev/null || fail "weft launch on h2 failed"
wait_for "h1 and h2 to connect" 20 weft_full_mesh h1 h2 || fail "no mesh"
for w in w1 w2 w3 w4; do
  ns="$(host_ns "${ws[$w]}")-$w"
  declare "ns_$w=$ns"
  ip netns add "$ns" || fail "cannot create $ns"
  weft_on "${ws[$w]}" attach "${ip[$w]}/12" "$ns" >/dev/null || fail "attach $w failed"
done
wx() { local v="ns_$1"; ip netns exec "${!v}" "${@:2}"; }
# port_chains hN: the bound ports' chains in hN's table, sorted, on one line.
port_chains() { hexec "$1" nft list table bridge weft | grep -o "chain port_vethwe[0-9a-z]*" | sort | tr '\n' ' '; }
veth_of() { local v="ns_$1"; weft_on h1 ps --json | jq -r --arg n "${!v}" '.[] | select(.name == $n) | .veth'; }
want=$(for w in w1 w2 w3; do echo "chain port_$(veth_of "$w")"; done | sort | tr '\n' ' ')
bound=$(port_chains h1)
[[ $bound == "$want" ]] || fail "after attach, h1's bound ports are '$bound', want '$want'"
[[ $(weft_metric h1 weft_port_guard_bound_ports) == 3 ]] || fail "weft_port_guard_bound_ports is not 3"
pass "the router bound w1, w2 and w3's ports at attach"

# kill -9, tamper, relaunch: the router syncs the table with its registry.
w3veth=$(veth_of w3)
kill -KILL "$(weft_router_pid h1)"
tamper="delete element bridge weft ports { \"$w3veth\" }
flush chain bridge weft port_$w3veth
delete chain bridge weft port_$w3veth
add chain bridge weft port_vethwegone1
add element bridge weft ports { \"vethwegone1\" : goto port_vethwegone1 }"
hexec h1 nft -f - <<<"$tamper" || fail "cannot tamper with h1's table"
[[ $(port_chains h1) != "$want" ]] || fail "tampering changed nothing (no positive control)"
weft_on h1 launch >/dev/null || fail "relaunching h1's router failed"
wait_for "h1 and h2 to connect again" 20 weft_full_mesh h1 h2 || fail "no mesh after the relaunch"
resynced() { [[ $(port_chains h1) == "$want" ]]; }
wait_for "h1's table to hold exactly w1, w2 and w3's bindings" 10 resynced ||
  fail "after the relaunch h1's bound ports are '$(port_chains h1)', want '$want'"
pass "the relaunched router re-installed w3's binding and removed the stale one"
mac() { wx "$1" cat /sys/class/net/ethweft/address; }
for w in w2 w4; do
  wait_for "w3 to reach $w" 10 wx w3 ping -c1 -W1 -q "${ip[$w]}" || fail "w3 cannot ping $w (no positive control)"
  # Victims know w1 (a neighbour entry that poisoning would overwrite).
  wait_for "$w to reach w1" 10 wx "$w" ping -c1 -W1 -q "${ip[w1]}" || fail "$w cannot ping w1"
done
spoofed() { attack_guard_count h1 spoof; }
s0=$(spoofed)

for w in w2 w4; do
  cap="$HARNESS_DIR/$w.pcap"
  v="ns_$w"
  ip netns exec "${!v}" tcpdump -n -U -i ethweft -w "$cap" "icmp[icmptype] == icmp-echo" >"$cap.log" 2>&1 &
  cap_pid=$!
  wait_for "tcpdump in $w" 10 grep -q "listening on" "$cap.log" || fail "no tcpdump in $w"
  vmac=$(mac "$w")
  wx w3 python3 "$spoof" ip ethweft "${ip[w1]}" "${ip[$w]}" "$vmac" 20 >/dev/null || fail "spoof.py ip failed"
  wx w3 python3 "$spoof" mac ethweft "$(mac w1)" "${ip[$w]}" "$vmac" "${ip[w3]}" 20 >/dev/null ||
    fail "spoof.py mac failed"
  wx w3 python3 "$spoof" arp ethweft "${ip[w1]}" "${ip[$w]}" "$vmac" 10 >/dev/null || fail "spoof.py arp failed"
  # Positive marker: w3's genuine ping arrives after the forged frames.
  wx w3 ping -c1 -W2 -q "${ip[$w]}" >/dev/null || fail "w3's genuine ping to $w failed"
  marker() { tcpdump -n -r "$cap" "src host ${ip[w3]}" 2>/dev/null | grep -q echo; }
  wait_for "w3's genuine ping in $w's capture" 5 marker || fail "no marker ping in $w's capture"
  kill -INT "$cap_pid"
  wait_for "tcpdump to finish" 10 grep -Eq "packets? captured" "$cap.log" || fail "tcpdump did not finish"
  forged=$(tcpdump -n -r "$cap" "src host ${ip[w1]} or ether src $(mac w1)" 2>/dev/null | wc -l)
  ((forged == 0)) || fail "$w received $forged forged echo requests"
  n=$(wx "$w" ip neigh show "${ip[w1]}")
  [[ $n != *"$(mac w3)"* ]] || fail "$w's ARP entry for w1 points at w3: $n"
  pass "$w (on ${ws[$w]}): no forged IP or MAC frame delivered, ARP entry for w1 intact ($n)"
done
s1=$(spoofed)
((s1 - s0 >= 2 * 50)) || fail "the port guard counted $((s1 - s0)) forged frames, want >= 100"
weft_metric_at_least h1 'weft_port_guard_dropped_total{reason="spoofed"}' 100 ||
  fail "h1's /metrics does not count the forged frames"
pass "h1's port guard counted $((s1 - s0)) forged frames from w3 (also in /metrics)"
weft_on h1 detach "$ns_w3" >/dev/null || fail "detach w3 failed"
left=$(hexec h1 nft list table bridge weft | grep -c "chain port_vethwe" || true)
((left == 2)) || fail "after detaching w3, h1's table has $left port chains (want w1's and w2's)"
[[ $(weft_metric h1 weft_port_guard_bound_ports) == 2 ]] || fail "weft_port_guard_bound_ports is not 2"
pass "detach removed w3's binding"
