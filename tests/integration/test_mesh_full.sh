#!/usr/bin/env bash
# Three hosts launched with the one-line commands (h2 and h3 know only h1) form a full mesh, with
# encryption on; launching a running host again is a no-op; a host stopped and launched again
# (plain `weft launch`) keeps its peer name and rejoins.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../../scripts/lib/netns.sh
source "$here/../../scripts/lib/netns.sh"
# shellcheck source=SCRIPTDIR/lib_weft.sh
source "$here/lib_weft.sh"

harness_init meshfull
harness_add_hosts 3

# h1 starts the mesh: a new secret, and the join command to run on the other hosts.
out=$(weft_launch_first h1 2>&1) || fail "weft launch on h1 failed: $out"
[[ $out == *"Generated a new cluster secret"* ]] || fail "h1 launch did not generate a secret: $out"
[[ $out == *"weft launch --password-file /path/to/secret $(host_ip h1)"* ]] ||
  fail "h1 launch does not print the join command with its address $(host_ip h1): $out"
[[ $out == *"weft router started: peer "*"(h1)"*"encryption on"* ]] ||
  fail "h1 launch does not report a started, encrypted router: $out"
name1=$(weft_name h1) || fail "no status on h1"
pid1=$(weft_router_pid h1)
for h in h2 h3; do
  out=$(weft_launch_join "$h" h1 2>&1) || fail "weft launch on $h failed: $out"
  [[ $out == *"weft router started: peer "*"($h)"*"encryption on"*"Connecting to: $(host_ip h1):6783"* ]] ||
    fail "$h launch does not report a router connecting to h1: $out"
done
pass "h1 launched; h2 and h3 joined with one-line commands naming only h1"

t0=$(weft_now_ms)
wait_for "a full mesh (2 established connections, 3 reachable peers on every host)" 20 \
  weft_full_mesh h1 h2 h3 || fail "h1 h2 h3 did not form a full mesh"
wait_for "every host to see all 3 links of the mesh" 10 weft_topology_complete h1 h2 h3 ||
  fail "the hosts do not all see the complete mesh (weft status peers)"
pass "full mesh in $(($(weft_now_ms) - t0)) ms: h2 and h3 found each other through h1"

for h in h1 h2 h3; do
  out=$(weft_on "$h" status) || fail "weft status on $h failed: $out"
  grep -Eq '^ *Encryption: on$' <<<"$out" || fail "weft status on $h does not say encryption on: $out"
  grep -Eq '^ *Peers: 3 \(3 reachable\)$' <<<"$out" || fail "weft status on $h: not 3 reachable peers: $out"
  grep -Eq '^ *Connections: 2 \(2 established\)$' <<<"$out" ||
    fail "weft status on $h: not 2 established connections: $out"
  [[ $out != *"ENCRYPTION IS OFF"* ]] || fail "weft status on $h warns that encryption is off: $out"
  [[ $(grep -c 'established .*encrypted, control over TCP' <<<"$out") == 2 ]] ||
    fail "weft status on $h does not list 2 encrypted established connections: $out"
done
pass "weft status on every host: encryption on, 3 reachable peers, 2 encrypted connections"

# Launching a running host again changes nothing and says so.
out=$(weft_launch_first h1 2>&1) || fail "second weft launch on h1 exited non-zero: $out"
[[ $out == *"weft is already running on this host (pid $pid1, peer $name1 (h1))"* ]] ||
  fail "second weft launch on h1 does not say it is already running (pid $pid1, $name1): $out"
if [[ $(weft_router_pid h1) != "$pid1" ]] || weft_pid_gone "$pid1"; then fail "h1's router changed"; fi
weft_full_mesh h1 h2 h3 >/dev/null || fail "the mesh changed after launching h1 again"
pass "launching h1 again: 'already running', exit 0, same router"

# Stop h2, then launch it again with the plain command: same identity, and it rejoins.
name2=$(weft_name h2) || fail "no status on h2"
pid2=$(weft_router_pid h2)
out=$(weft_on h2 stop 2>&1) || fail "weft stop on h2 failed: $out"
[[ $out == *"weft stopped"* ]] || fail "weft stop on h2 says: $out"
weft_pid_gone "$pid2" || fail "h2's router (pid $pid2) still runs after weft stop"
wait_for "h1 and h3 to drop h2" 10 eval 'weft_not_connected h1 h2 && weft_not_connected h3 h2' ||
  fail "h1/h3 still have a connection to the stopped h2"
out=$(weft_on h2 status 2>&1) && fail "weft status on a stopped h2 succeeded: $out"
[[ $out == *"weft is not running on this host"* ]] || fail "weft status on the stopped h2 says: $out"
pass "weft stop on h2: router gone, h1 and h3 dropped it"

out=$(weft_on h2 launch 2>&1) || fail "weft launch (again) on h2 failed: $out"
[[ $out == *"weft router started: peer $name2 (h2)"* ]] ||
  fail "h2 relaunched without its identity $name2 (h2): $out"
[[ $(weft_name h2) == "$name2" ]] || fail "h2's peer name changed from $name2"
t0=$(weft_now_ms)
wait_for "the full mesh again after h2's relaunch" 20 weft_full_mesh h1 h2 h3 ||
  fail "h2 did not rejoin the full mesh"
wait_for "every host to see all 3 links again" 10 weft_topology_complete h1 h2 h3 ||
  fail "the hosts do not all see the complete mesh after h2's relaunch"
for h in h1 h3; do
  got=$(weft_jq "$h" '.connections[] | select(.nickname == "h2" and .state == "established") | .peer')
  [[ $got == "$name2" ]] || fail "$h's connection to h2 is to peer '$got', want $name2"
done
pass "h2 stopped and relaunched: same name $name2, full mesh again in $(($(weft_now_ms) - t0)) ms"
