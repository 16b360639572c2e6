#!/usr/bin/env bash
# weft-npc's planner and kernel adapter on a real bridge, without a router: one host namespace
# with bridge "weft" (br_netfilter on) and workload namespaces on veths "vethweNNNNNNNN"; a
# cluster snapshot file planned and reconciled by weft_npc_apply_tool (npc/os); then real TCP
# connections decide. Checks: an ingress policy admits exactly what it says; re-applying changes
# nothing (the kernel's own iptables-save/ipset save read back equal); a workload port npc has not
# programmed gets no traffic until it is; IPv6 (link-local) does not bypass an isolation; a rule
# and a set member deleted by hand are repaired; a blocked connection is logged through NFLOG with namespace/name; teardown leaves nothing.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../../scripts/lib/netns.sh
source "$here/../../scripts/lib/netns.sh"
tool=${WEFT_BIN_DIR:-$here/../../build}/tests/weft_npc_apply_tool
[[ -x $tool ]] || fail "$tool not built (ninja weft_npc_apply_tool)"

harness_init npcenf
harness_add_hosts 1
hns=$(host_ns h1)
nf="net.bridge.bridge-nf-call-iptables=1 net.bridge.bridge-nf-call-ip6tables=1"
# shellcheck disable=SC2086
hexec h1 sysctl -qw $nf 2>/dev/null ||
  { ip -n "$hns" link add weft type bridge && hexec h1 sysctl -qw $nf; } ||
  fail "br_netfilter is not available (modprobe br_netfilter)"
ip -n "$hns" link show weft >/dev/null 2>&1 || ip -n "$hns" link add weft type bridge
ip -n "$hns" link set weft type bridge forward_delay 0
ip -n "$hns" link set weft up

wns() { echo "$HARNESS_RUN_ID-$1"; }
# workload NAME NUMBER: namespace NAME, address 10.32.0.NUMBER, veth vethwe0000000NUMBER; serves
# TCP 80 and 81.
workload() {
  local ns
  ns=$(wns "$1")
  ip netns add "$ns"
  ip -n "$hns" link add "vethwe0000000$2" type veth peer name eth0 netns "$ns"
  ip -n "$hns" link set "vethwe0000000$2" master weft up
  ip -n "$ns" link set lo up
  ip -n "$ns" addr add "10.32.0.$2/24" dev eth0
  ip -n "$ns" link set eth0 up
  for port in 80 81; do
    ip netns exec "$ns" nc -lk "$port" </dev/null >/dev/null 2>&1 &
  done
  wait_for "$1 to listen" 5 bash -c "ip netns exec $ns ss -ltn | grep -q ':81 '" || fail "no server in $1"
}
workload a 1
workload b 2
workload c 3
workload d 4

state=$HARNESS_DIR/state.json
# write_state WORKLOADS...: the snapshot with these workloads (of a b c d) and the policy
# "x/web": a admits TCP 80 from pod=b only.
write_state() {
  local w sep=""
  {
    echo '{"revision": 1, "workloads": ['
    for w in "$@"; do
      local n
      n=$(printf '%d' "'$w")
      n=$((n - 96))
      echo "$sep{\"host\": \"h1\", \"name\": \"$w\", \"namespace\": \"x\", \"labels\": {\"pod\": \"$w\"},"
      echo " \"ips\": [\"10.32.0.$n/24\"], \"veth\": \"vethwe0000000$n\", \"ports\": []}"
      sep=","
    done
    echo '], "namespaces": [{"name": "x", "labels": {"ns": "x"}}], "policies": [{'
    echo '"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",'
    echo '"metadata": {"name": "web", "namespace": "x"},'
    echo '"spec": {"podSelector": {"matchLabels": {"pod": "a"}},'
    echo '         "ingress": [{"from": [{"podSelector": {"matchLabels": {"pod": "b"}}}], "ports": [{"port": 80}]}]}}]}'
  } >"$state"
}
apply() { hexec h1 "$tool" apply "$state" h1; }
# can FROM TO_NUMBER PORT: a TCP connection succeeds within 1 s.
can() { ip netns exec "$(wns "$1")" nc -z -w 1 "10.32.0.$2" "$3" >/dev/null 2>&1; }
expect_open() { can "$@" || fail "$1 -> 10.32.0.$2:$3 should connect"; }
expect_closed() { ! can "$@" || fail "$1 -> 10.32.0.$2:$3 should be blocked"; }

# Positive control: before any rule, everything connects.
expect_open c 1 80
expect_open d 3 80
# lladdr NAME: the workload's IPv6 link-local address, once DAD is done.
lladdr() {
  ip -n "$(wns "$1")" -6 addr show dev eth0 scope link |
    awk '/inet6/ && !/tentative/ { sub("/.*", "", $2); print $2 }'
}
ping6() { ip netns exec "$(wns "$1")" ping -6 -c1 -W1 -q "$(lladdr "$2")%eth0" >/dev/null 2>&1; }
has_lladdr() { [[ -n $(lladdr a) && -n $(lladdr c) ]]; }
wait_for "IPv6 link-local addresses" 10 has_lladdr || fail "no IPv6 link-local addresses"
ping6 c a || fail "IPv6 c -> a should work before any rule"

write_state a b c
out=$(apply)
echo "$out" | grep -q "chains written" || fail "first apply wrote nothing: $out"
expect_open b 1 80
expect_closed c 1 80
expect_closed b 1 81
expect_open a 3 80 # a is isolated for ingress only
! ping6 c a || fail "IPv6 reaches the ingress-isolated a"
ping6 a c || fail "IPv6 from a (not isolated for egress) to c should work"
pass "ingress policy: b -> a:80 only; no IPv6 into a"

out=$(apply)
[[ $out == unchanged ]] || fail "re-applying the same state changed something: $out"
pass "re-apply reads the kernel back as planned: unchanged"

# d's port is on the bridge but in no snapshot: nothing in or out, until it is programmed.
expect_closed d 3 80
expect_closed c 4 80
write_state a b c d
apply >/dev/null
expect_open d 3 80
expect_open c 4 80
pass "an unprogrammed workload port is closed, and open once programmed"

# A rule deleted by hand (the ingress deny) opens c -> a until the next reconcile repairs it.
last=$(hexec h1 iptables -S WEFT-INGRESS | grep -c '^-A')
hexec h1 iptables -D WEFT-INGRESS "$last"
expect_open c 1 80
out=$(apply)
echo "$out" | grep -q "chains written: WEFT-INGRESS" || fail "the deleted rule was not repaired: $out"
expect_closed c 1 80
# A set member deleted by hand (a's isolation) opens c -> a until repaired.
hexec h1 ipset del weft-ingress-iso 10.32.0.1
expect_open c 1 80
out=$(apply)
echo "$out" | grep -q "sets swapped: weft-ingress-iso" || fail "the set member was not repaired: $out"
expect_closed c 1 80
pass "hand-deleted rule and set member repaired"

log=$HARNESS_DIR/blocked.log
hexec h1 "$tool" log "$state" 4 >"$log" 2>&1 &
wait_for "the NFLOG reader" 5 grep -q listening "$log" || fail "log reader: $(cat "$log")"
expect_closed c 1 80
line="blocked TCP x/c (10.32.0.3) -> x/a (10.32.0.1) port 80: x/a is isolated for ingress"
wait_for "the blocked-flow line" 5 grep -qF "$line" "$log" || fail "not logged: $(cat "$log")"
[[ $(grep -cF "$line" "$log") -eq 1 ]] || fail "logged more than once: $(cat "$log")"
pass "blocked connection logged once through NFLOG"

hexec h1 "$tool" teardown
! hexec h1 iptables-save -t filter | grep -q WEFT || fail "weft chains left: $(hexec h1 iptables-save -t filter)"
! hexec h1 ipset list -n | grep -q '^weft-' || fail "weft sets left: $(hexec h1 ipset list -n)"
expect_open c 1 80
pass "teardown removes every weft chain and set"
