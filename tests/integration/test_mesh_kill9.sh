#!/usr/bin/env bash
# A router killed with SIGKILL: the others drop it within 10 s and stop counting it reachable;
# `weft launch` on the same data dir (stale pid file and API socket left behind) brings it back
# with the same peer name, and the full mesh returns. Then a frozen router (SIGSTOP: its
# connections stay open but it sends no heartbeats) is dropped within 10 s too, and rejoins when
# it resumes (SIGCONT).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../../scripts/lib/netns.sh
source "$here/../../scripts/lib/netns.sh"
# shellcheck source=SCRIPTDIR/lib_weft.sh
source "$here/lib_weft.sh"

harness_init meshkill9
harness_add_hosts 3

weft_launch_first h1 >/dev/null || fail "weft launch on h1 failed"
weft_launch_join h2 h1 >/dev/null || fail "weft launch on h2 failed"
weft_launch_join h3 h1 >/dev/null || fail "weft launch on h3 failed"
wait_for "a full mesh of h1 h2 h3" 20 weft_full_mesh h1 h2 h3 || fail "no full mesh"
name3=$(weft_name h3) || fail "no status on h3"
pid3=$(weft_router_pid h3)
pass "full mesh of h1 h2 h3; h3 is $name3 (router pid $pid3)"

kill -KILL "$pid3"
t0=$(weft_now_ms)
wait_for "h3's router to die" 5 weft_pid_gone "$pid3" || fail "h3's router survived SIGKILL"
wait_for "h1 and h2 to drop their connections to h3" 10 \
  eval 'weft_not_connected h1 h3 && weft_not_connected h2 h3' ||
  fail "h1/h2 still have an established connection to h3 10 s after its router was killed"
pass "h1 and h2 dropped h3 $(($(weft_now_ms) - t0)) ms after kill -9"
wait_for "h1 and h2 to stop counting h3 reachable" 15 \
  eval 'weft_not_reachable h1 h3 && weft_not_reachable h2 h3' ||
  fail "h1/h2 still count h3 as reachable"
weft_full_mesh h1 h2 >/dev/null || fail "h1-h2 broke: $(weft_full_mesh h1 h2)"
pass "h3 unreachable for h1 and h2 $(($(weft_now_ms) - t0)) ms after kill -9; h1-h2 still up"

out=$(weft_on h3 status 2>&1) && fail "weft status on h3 answers after its router was killed: $out"
[[ $out == *"weft is not running on this host"* ]] || fail "weft status on the stopped h3 says: $out"
out=$(weft_on h3 launch 2>&1) || fail "weft launch on h3 after kill -9 failed: $out"
[[ $out == *"weft router started: peer $name3 (h3)"*"Connecting to: $(host_ip h1):6783"* ]] ||
  fail "h3 relaunched without its identity $name3 (h3) or its target h1: $out"
[[ $(weft_router_pid h3) != "$pid3" ]] || fail "h3's pid file still names the killed router"
[[ $(weft_name h3) == "$name3" ]] || fail "h3's peer name changed from $name3"
t0=$(weft_now_ms)
wait_for "the full mesh again after h3's relaunch" 20 weft_full_mesh h1 h2 h3 ||
  fail "h3 did not rejoin the full mesh"
for h in h1 h2; do
  got=$(weft_jq "$h" '.connections[] | select(.nickname == "h3" and .state == "established") | .peer')
  [[ $got == "$name3" ]] || fail "$h's connection to h3 is to peer '$got', want $name3"
  [[ $(weft_jq "$h" '[.peers[] | select(.nickname == "h3")] | length') == 1 ]] ||
    fail "$h lists h3 more than once: $(weft_on "$h" status peers)"
done
pass "h3 relaunched as $name3; full mesh again in $(($(weft_now_ms) - t0)) ms"

# A hung router: the kernel keeps its TCP connections open, so only missed heartbeats tell.
pid3=$(weft_router_pid h3)
dead_before=$(weft_metric h1 weft_dead_connections_total) || fail "no /metrics on h1"
kill -STOP "$pid3"
t0=$(weft_now_ms)
wait_for "h1 and h2 to drop their connections to the frozen h3" 10 \
  eval 'weft_not_connected h1 h3 && weft_not_connected h2 h3' ||
  fail "h1/h2 still have an established connection to h3 10 s after its router froze"
pass "h1 and h2 dropped the frozen h3 $(($(weft_now_ms) - t0)) ms after SIGSTOP"
weft_metric_at_least h1 weft_dead_connections_total $((dead_before + 1)) >/dev/null ||
  fail "h1's weft_dead_connections_total did not count the frozen h3"
wait_for "h1 and h2 to stop counting the frozen h3 reachable" 15 \
  eval 'weft_not_reachable h1 h3 && weft_not_reachable h2 h3' ||
  fail "h1/h2 still count the frozen h3 as reachable"
kill -CONT "$pid3"
t0=$(weft_now_ms)
wait_for "the full mesh again after h3 resumed" 20 weft_full_mesh h1 h2 h3 ||
  fail "h3 did not rejoin the full mesh after resuming"
[[ $(weft_router_pid h3) == "$pid3" ]] || fail "h3's router was replaced while frozen"
pass "h3 resumed (same router) and rejoined: full mesh again in $(($(weft_now_ms) - t0)) ms"
