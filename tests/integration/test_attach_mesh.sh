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

mtu=$(ip -n "$w1" -j link show ethweft | jq -r '.[0].mtu')
hspawn h1 "$HARNESS_DIR/frags.log" tcpdump -l -n -i eth0 'ip[6:2] & 0x3fff != 0'
tcpdump_pid=$!
wait_for "tcpdump to listen" 10 grep -q "listening on" "$HARNESS_DIR/frags.log" || fail "no tcpdump"
ip netns exec "$w1" ping -c3 -W1 -q -M "do" -s $((mtu - 28)) 10.32.2.1 >/dev/null ||
  fail "a full-MTU ($mtu) packet from $w1 does not reach $w2"
kill -INT "$tcpdump_pid"
wait_for "tcpdump to report" 10 grep -q "packets captured" "$HARNESS_DIR/frags.log" ||
  fail "tcpdump did not finish"
grep -q "^0 packets captured" "$HARNESS_DIR/frags.log" ||
  fail "full-MTU packets were fragmented on the underlay: $(cat "$HARNESS_DIR/frags.log")"
pass "full-MTU ($mtu) packets cross the underlay unfragmented"
