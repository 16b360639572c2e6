#!/usr/bin/env bash
# Self-test of scripts/lib/netns.sh: hosts reach each other, cuts and UDP blocks affect only the
# pair named, and nothing of a run survives its end: normal exit, failure, SIGINT/SIGTERM, and
# (through the next run's sweep) SIGKILL. Needs root; uses no weft binary.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../../scripts/lib/netns.sh
source "$here/../../scripts/lib/netns.sh"

# Child runs (--child MODE FILE TEST_PID), started as separate processes by the checks below.
# Each builds hosts, leaves a process in h1 and writes "RUN_ID DIR PIDS" to FILE; then "victim"
# waits in wait_for until it is killed (or the test dies), and "failer" writes a log and fails.
has_pids() { [[ -n $(ip netns pids "$(host_ns "$1")") ]]; }
orphaned() { ! kill -0 "$1" 2>/dev/null; }
if [[ ${1:-} == --child ]]; then
  harness_init "$2"
  harness_add_hosts 2
  hspawn h1 /dev/null sleep 600
  wait_for "sleep in h1" 5 has_pids h1
  echo "$HARNESS_RUN_ID $HARNESS_DIR $(harness__run_pids "$HARNESS_RUN_ID" | xargs)" >"$3.tmp"
  mv "$3.tmp" "$3" # atomic: the parent never reads half a line
  if [[ $2 == failer ]]; then
    echo "router log line 42" >"$(host_log h1)"
    fail "deliberate"
  fi
  # Wait to be killed; should the test that started us die first, end (and clean up) anyway.
  wait_for "a signal" 120 orphaned "$4"
  exit 0
fi
# child MODE FILE [SIGNAL]: runs a child, sends it SIGNAL once it is set up, prints its exit status.
child() {
  local info=$2 pid rc=0
  # bash starts background commands with SIGINT ignored, and a signal ignored at startup cannot be
  # trapped: env restores the default so the child's trap can be tested.
  env --default-signal=INT bash "${BASH_SOURCE[0]}" --child "$1" "$info" "$$" >"$info.log" 2>&1 &
  pid=$!
  wait_for "the $1 child to set up" 30 test -s "$info" || fail "child: $(cat "$info.log")"
  [[ -z ${3:-} ]] || kill -"$3" "$pid"
  if ! wait_for "the $1 child to exit" 20 pid_gone "$pid"; then
    kill -KILL "$pid"
    fail "the $1 child did not exit on SIG${3:-}: $(cat "$info.log")"
  fi
  wait "$pid" || rc=$?
  echo "$rc"
}

# A pid is gone when it no longer exists or is a zombie (nothing left to clean up).
pid_gone() { [[ ! -e /proc/$1 || $(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) == Z ]]; }
pids_gone() {
  local p
  for p in "$@"; do pid_gone "$p" || return 1; done
}
run_gone() { [[ ! -e $2 && -z $(harness__run_ns "$1") ]]; } # RUN DIR
# Nothing of run RUN (namespaces, scratch dir DIR, processes PIDS...) is left.
assert_run_gone() {
  local run=$1 dir=$2
  shift 2
  [[ -z $(harness__run_ns "$run") ]] || fail "namespaces of $run remain: $(harness__run_ns "$run")"
  [[ ! -e $dir ]] || fail "scratch dir $dir remains"
  wait_for "processes of $run to be gone" 5 pids_gone "$@" || fail "processes of $run remain"
}
listening() { [[ -n $(hexec "$1" ss -Hln"$2" "sport = :$3") ]]; } # hN t|u PORT
udp_seen() { grep -qx "$2" "$(host_dir "$1")/udp.out"; }          # hN TAG
udp_send() { echo "$3" | hexec "$1" nc -u -q0 "$(host_ip "$2")" 5001; } # FROM TO TAG
udp_arrives() { udp_send "$@" && udp_seen "$2" "$3"; }
# FROM's datagram to TO is dropped: a datagram sent after it from h3 (not blocked) reaches the
# same socket, so FROM's, had it passed, would already be in the file in front of it.
udp_dropped() { # FROM TO
  udp_send "$1" "$2" "blocked-$1-$2"
  wait_for "h3 -> $2 marker" 5 udp_arrives h3 "$2" "marker-$1-$2" || return 1
  ! udp_seen "$2" "blocked-$1-$2"
}

harness_init selftest
harness_add_hosts 3
[[ $(host_ip h2) == "$HARNESS_UNDERLAY_PREFIX.2" && -d $(host_datadir h3) ]] || fail "getters"

for a in h1 h2 h3; do
  for b in h1 h2 h3; do
    [[ $a == "$b" ]] || can_ping "$a" "$b" || fail "$a cannot ping $b"
  done
done
pass "3 hosts ping each other"

# TCP and UDP listeners for the cut and block checks (nc -k: keep listening, UDP from anyone).
for h in h1 h2 h3; do
  hspawn "$h" /dev/null nc -lk 5000
  hspawn "$h" "$(host_dir "$h")/udp.out" nc -lku 5001
  wait_for "listeners on $h" 5 eval "listening $h t 5000 && listening $h u 5001"
done

harness_cut h1 h3
harness_cut h1 h3 # idempotent: one restore must undo both
! can_ping h1 h3 || fail "h1 reaches h3 through a cut"
! can_ping h3 h1 || fail "h3 reaches h1 through a cut"
! hexec h1 nc -z -w1 "$(host_ip h3)" 5000 || fail "TCP h1 -> h3 passes a cut"
for p in "h1 h2" "h2 h1" "h2 h3" "h3 h2"; do
  # shellcheck disable=SC2086 # $p is two host names
  can_ping $p || fail "cut h1-h3 broke $p"
done
pass "cut h1-h3 isolates only that pair"
harness_restore h1 h3
can_ping h1 h3 || fail "h1 -> h3 still cut after restore"
can_ping h3 h1 || fail "h3 -> h1 still cut after restore"
hexec h1 nc -z -w2 "$(host_ip h3)" 5000 || fail "TCP h1 -> h3 fails after restore"
pass "restore h1-h3"

wait_for "UDP h1 -> h2 before the block" 5 udp_arrives h1 h2 before || fail "UDP h1 -> h2"
harness_block_udp h1 h2
udp_dropped h1 h2 || fail "UDP h1 -> h2 passes a UDP block"
udp_dropped h2 h1 || fail "UDP h2 -> h1 passes a UDP block"
hexec h1 nc -z -w2 "$(host_ip h2)" 5000 || fail "TCP h1 -> h2 blocked by a UDP block"
hexec h2 nc -z -w2 "$(host_ip h1)" 5000 || fail "TCP h2 -> h1 blocked by a UDP block"
can_ping h1 h2 || fail "ping h1 -> h2 blocked by a UDP block"
wait_for "UDP h1 -> h3 during the block" 5 udp_arrives h1 h3 other || fail "UDP h1 -> h3"
pass "UDP block h1-h2: UDP dropped both ways, TCP and ICMP pass"
harness_unblock_udp h1 h2
wait_for "UDP h1 -> h2 after unblock" 5 udp_arrives h1 h2 after || fail "UDP h1 -> h2"
wait_for "UDP h2 -> h1 after unblock" 5 udp_arrives h2 h1 after || fail "UDP h2 -> h1"
pass "unblock UDP h1-h2"

out=$(wait_for "the impossible" 1 false 2>&1) && fail "wait_for false succeeded"
[[ $out == *"timed out after 1s waiting for the impossible"* ]] || fail "wait_for said: $out"
pass "wait_for times out with a message"

# A run that fails: its EXIT trap prints the host logs, then removes everything.
info=$HARNESS_DIR/failer
rc=$(child failer "$info")
read -r run dir pids <"$info"
[[ $rc == 1 ]] || fail "failing run exited $rc"
grep -q "FAIL: deliberate" "$info.log" || fail "no FAIL line: $(cat "$info.log")"
grep -q "router log line 42" "$info.log" || fail "no log tail on failure: $(cat "$info.log")"
# shellcheck disable=SC2086 # $pids is a list
assert_run_gone "$run" "$dir" $pids
pass "a failing run prints the host logs and cleans up"

# Runs killed by a signal: INT and TERM clean up through the trap; KILL cannot be trapped and
# leaves the run for the next harness_sweep_stale (which every harness_init does).
for sig in INT TERM KILL; do
  info=$HARNESS_DIR/victim.$sig
  rc=$(child victim "$info" "$sig")
  read -r run dir pids <"$info"
  case $sig in INT) want=130 ;; TERM) want=143 ;; KILL) want=137 ;; esac
  [[ $rc == "$want" ]] || fail "$sig victim exited $rc, want $want: $(cat "$info.log")"
  if [[ $sig == KILL ]]; then
    harness_sweep_stale 2>/dev/null
    # A concurrent run (e.g. another self-test) may be sweeping it at the same moment: let it end.
    wait_for "the sweep of $run" 10 run_gone "$run" "$dir" || true
  fi
  # shellcheck disable=SC2086 # $pids is a list
  assert_run_gone "$run" "$dir" $pids
  pass "a run killed by SIG$sig leaves nothing behind"
done

# Explicit cleanup of this run, twice (idempotent); the nc listeners must die with it.
run=$HARNESS_RUN_ID dir=$HARNESS_DIR
mapfile -t pids < <(harness__run_pids "$run")
((${#pids[@]} == 6)) || fail "expected 6 nc processes, found ${#pids[@]}"
harness_cleanup
harness_cleanup
assert_run_gone "$run" "$dir" "${pids[@]}"
pass "harness self-test"
