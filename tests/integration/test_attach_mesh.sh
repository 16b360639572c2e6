#!/usr/bin/env bash
# Workloads attached on two hosts of a mesh reach each other through the routers' data plane,
# and a packet of the full overlay MTU crosses the underlay unfragmented (the overlay MTU leaves
# room for all of weft's encapsulation).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../../scripts/lib/netns.sh
source "$here/../../scripts/lib/netns.sh"
# shellcheck source=SCRIPTDIR/lib_weft.sh
source "$here/lib_weft.sh"
command -v tcpdump >/dev/null || fail "this test needs tcpdump (apt-get install tcpdump)"

harness_init attachmesh
harness_add_hosts 2
# Named after their host, so the harness's cleanup deletes them with the run's other namespaces.
w1="$(host_ns h1)-w1"
w2="$(host_ns h2)-w2"
for w in "$w1" "$w2"; do ip netns add "$w" || fail "cannot create the namespace $w"; done

weft_launch_first h1 >/dev/null || fail "weft launch on h1 failed"
weft_launch_join h2 h1 >/dev/null || fail "weft launch on h2 failed"
wait_for "h1 and h2 to connect" 20 weft_full_mesh h1 h2 || fail "no mesh"
weft_on h1 attach 10.32.1.1/12 "$w1" >/dev/null || fail "attach on h1 failed"
weft_on h2 attach 10.32.2.1/12 "$w2" >/dev/null || fail "attach on h2 failed"

wait_for "$w1 to reach $w2 across the mesh" 10 \
  ip netns exec "$w1" ping -c1 -W1 -q 10.32.2.1 || fail "$w1 cannot ping $w2 on the other host"
ip netns exec "$w2" ping -c2 -W1 -q 10.32.1.1 >/dev/null || fail "$w2 cannot ping $w1"
pass "workloads on two hosts ping each other through the mesh"

# The full-MTU check is about the UDP data plane: the path must be UDP, not the TCP fallback.
wait_for "h1's path to h2 to be udp" 10 weft_jq h1 \
  '.dataplane.paths[] | select(.nickname == "h2") | .path == "udp"' || fail "h1 -> h2 path is not udp"
mtu=$(ip -n "$w1" -j link show ethweft | jq -r '.[0].mtu')
[[ $mtu =~ ^[0-9]+$ ]] || fail "cannot read ethweft's MTU: $mtu"
pcap="$HARNESS_DIR/h1-eth0.pcap"
weft_capture_start "$(host_ns h1)" eth0 "$pcap"
cap_pid=$WEFT_CAPTURE_PID
ip netns exec "$w1" ping -c3 -W1 -q -M "do" -s $((mtu - 28)) 10.32.2.1 >/dev/null ||
  fail "a full-MTU ($mtu) packet from $w1 does not reach $w2"
# Positive control: the three echo requests left h1 as UDP 6783 datagrams to h2 each carrying a
# whole full-MTU packet (UDP length >= MTU + 8).
big="udp and src host $(host_ip h1) and dst host $(host_ip h2) and port 6783 and udp[4:2] >= $((mtu + 8))"
wait_for "3 full-MTU tunnel datagrams h1 -> h2 in the capture" 5 weft_pcap_has "$pcap" "$big" 3 ||
  fail "the capture lacks the UDP datagrams that carried the full-MTU pings: $(weft_pcap_has "$pcap" "$big" 3)"
weft_capture_stop "$cap_pid" "$pcap"
frags=$(tcpdump -n -r "$pcap" 'ip[6:2] & 0x3fff != 0' 2>/dev/null)
[[ -z $frags ]] || fail "full-MTU packets were fragmented on the underlay: $(head -5 <<<"$frags")"
pass "full-MTU ($mtu) packets cross the underlay in $(weft_pcap_count "$pcap" "$big") UDP datagrams, unfragmented"
