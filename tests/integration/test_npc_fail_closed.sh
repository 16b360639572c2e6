#!/usr/bin/env bash
# weft-npc fails closed (issue 9): with a deny-all ingress policy and a prober making 200 TCP
# connection attempts per second at an isolated workload, weft-npc is killed with SIGKILL and
# restarted 20 times, and a new workload is attached while it is down each time: not one probe
# may connect, and no new workload may send or receive anything before weft-npc programs it; nor
# while the router is killed and restarted under weft-npc.
# A rule and a set member deleted by hand come back within 10 s, and are counted as repairs.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../../scripts/lib/netns.sh
source "$here/../../scripts/lib/netns.sh"
# shellcheck source=SCRIPTDIR/lib_weft.sh
source "$here/lib_weft.sh"
probe_tool=$WEFT_BIN_DIR/tests/weft_npc_probe
[[ -x $probe_tool ]] || fail "$probe_tool not built (ninja weft_npc_probe)"

harness_init npcfc
harness_add_hosts 1
weft_launch_first h1 >/dev/null || fail "weft launch on h1 failed"
npc_api() { curl -sf --unix-socket "$(host_datadir h1)/npc.sock" "http://weft$1"; }
npc_pid() { tr -d '[:space:]' <"$(host_datadir h1)/npc.pid"; }
npc_caught_up() { weft_npc_caught_up h1; }

# workload NAME ADDRESS: attached in namespace x, serving TCP 80.
workload() {
  local ns
  ns="$(host_ns h1)-$1"
  ip netns add "$ns"
  weft_on h1 attach "$2/12" --name "$1" --namespace x --label "pod=$1" "$ns" >/dev/null ||
    fail "attach $1 failed"
  ip netns exec "$ns" "$probe_tool" serve 80 &
}
wns() { echo "$(host_ns h1)-$1"; }
workload server 10.32.0.10
workload prober 10.32.0.11
wait_for "weft-npc to program the workloads" 5 npc_caught_up || fail "npc did not catch up"

# Positive control: without a policy the prober connects.
out=$(ip netns exec "$(wns prober)" "$probe_tool" flood 200 1 10.32.0.10:80)
if ! [[ $out =~ connected\ ([0-9]+) ]] || ((BASH_REMATCH[1] <= 100)); then
  fail "the prober cannot connect before any policy ($out): the test would prove nothing"
fi
pass "positive control: without a policy the prober connects ($out)"

cat >"$HARNESS_DIR/deny.yaml" <<'Y'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-all-ingress, namespace: x}
spec: {podSelector: {}, policyTypes: [Ingress]}
Y
weft_on h1 policy apply -f "$HARNESS_DIR/deny.yaml" >/dev/null || fail "policy apply failed"
wait_for "weft-npc to enforce the policy" 5 npc_caught_up || fail "npc did not enforce the policy"

# The prober runs through all the kills and restarts below.
flood_out=$HARNESS_DIR/flood.out
ip netns exec "$(wns prober)" "$probe_tool" flood 200 600 10.32.0.10:80 >"$flood_out" &
flood_pid=$!

for i in $(seq 1 20); do
  pid=$(npc_pid)
  kill -KILL "$pid"
  wait_for "weft-npc $pid to die" 5 weft_pid_gone "$pid" || fail "weft-npc survived SIGKILL"
  # A workload attached while weft-npc is down has a bridge port but no rules yet: nothing in or
  # out until weft-npc programs it.
  new=new$i
  workload "$new" "10.32.1.$i"
  wait_for "$new to listen" 5 bash -c "ip netns exec $(wns "$new") ss -ltn | grep -q ':80 '" ||
    fail "$new does not listen"
  res=$( (ip netns exec "$(wns "$new")" "$probe_tool" probe 300 10.32.0.10:80/TCP
    ip netns exec "$(wns prober)" "$probe_tool" probe 300 "10.32.1.$i:80/TCP"))
  [[ $(grep -c ' blocked$' <<<"$res") == 2 ]] ||
    fail "round $i: traffic crossed a port weft-npc had not programmed: $res"
  weft_on h1 launch >/dev/null 2>&1 || fail "round $i: weft launch did not restart weft-npc"
  wait_for "weft-npc to catch up" 5 npc_caught_up || fail "round $i: npc did not catch up"
done
pass "20 kill -9 and restarts of weft-npc, a new workload attached during each: the new workloads got nothing before being programmed"

# The router killed under weft-npc: the rules stay, weft-npc says it lost the router and follows
# the restarted one (a new run: a fresh snapshot).
rpid=$(weft_router_pid h1)
kill -KILL "$rpid"
wait_for "the router to die" 5 weft_pid_gone "$rpid" || fail "the router survived SIGKILL"
lost() { npc_api /status | jq -e '.router_connected == false' >/dev/null; }
wait_for "weft-npc to notice the router is gone" 5 lost || fail "weft-npc still claims to follow a dead router"
weft_on h1 launch >/dev/null 2>&1 || fail "weft launch did not restart the router"
following() { npc_api /status | jq -e '.router_connected' >/dev/null && npc_caught_up; }
wait_for "weft-npc to follow the new router" 10 following || fail "weft-npc did not reconnect"
grep -q "lost the router's cluster state" "$(host_datadir h1)/npc.log" || fail "weft-npc did not log the loss"
pass "the router killed and restarted under weft-npc: rules kept, weft-npc reconnected and caught up"

# The new workloads are isolated by the policy now that they are programmed, and were let out:
# pod new20 reaches nothing in x (all isolated), but its egress is open (egress is not isolated):
# the server refuses it only because of ingress isolation, which `policy why` confirms.
why=$(weft_on h1 policy why x/new20 x/server 80/TCP)
[[ $why == *"denied"*"isolated by x/deny-all-ingress"* ]] || fail "policy why says: $why"

kill -TERM "$flood_pid" 2>/dev/null || true
wait_for "the prober to report" 5 test -s "$flood_out" || { kill "$flood_pid"; fail "no prober report"; }
read -r _ attempts _ connected <"$flood_out"
((attempts >= 1000)) || fail "the prober made only $attempts attempts"
((connected == 0)) || fail "$connected of $attempts probes connected while weft-npc was restarted"
pass "zero of $attempts probes (200/s) connected through 20 kill -9 restarts of weft-npc and one of the router"

# With weft-npc running, a new workload is programmed (and reachable) promptly after attach.
ip netns add "$(wns late)"
t0=$(weft_now_ms)
weft_on h1 attach 10.32.2.1/12 --name late --namespace open "$(wns late)" >/dev/null || fail "attach late failed"
t_attach=$(($(weft_now_ms) - t0))
ip netns exec "$(wns late)" "$probe_tool" serve 80 &
reachable() { ip netns exec "$(wns prober)" "$probe_tool" probe 200 10.32.2.1:80/TCP | grep -q ' ok$'; }
wait_for "open/late to be reachable" 5 reachable || fail "a workload attached while weft-npc runs was not programmed within 5 s"
pass "a workload attached while weft-npc runs: attach took ${t_attach} ms, reachable $(($(weft_now_ms) - t0)) ms after attach began"

# Repairs: a hook rule and a set member deleted by hand come back within 10 s.
hexec h1 iptables -D FORWARD -o weft -j WEFT-FORWARD || fail "no hook to delete"
member=$(hexec h1 ipset list weft-ingress-iso | grep -m1 '^10\.')
hexec h1 ipset del weft-ingress-iso "$member"
hook_back() { hexec h1 iptables -S FORWARD | grep -q -- '-o weft -j WEFT-FORWARD'; }
member_back() { hexec h1 ipset test weft-ingress-iso "$member" 2>/dev/null; }
repaired() { hook_back && member_back; }
t0=$(weft_now_ms)
wait_for "the hook and the set member to come back" 10 repaired ||
  fail "weft-npc did not repair a rule and a set member deleted by hand"
npc_api /metrics | grep -q '^weft_npc_repairs_total [1-9]' || fail "the repair was not counted"
pass "a hook rule and a set member deleted by hand were back after $(($(weft_now_ms) - t0)) ms (weft_npc_repairs_total counts it)"
