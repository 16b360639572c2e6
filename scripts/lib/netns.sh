# shellcheck shell=bash
# Integration-test harness: simulated hosts as network namespaces on a private underlay.
#
#   source scripts/lib/netns.sh
#   harness_init mytest          # run id, scratch dir, cleanup trap, underlay netns + bridge
#   harness_add_hosts 3          # h1 h2 h3, underlay addresses 10.99.0.1-3/24
#   hexec h1 ping -c1 -W1 "$(host_ip h2)"
#
# Every link, address and rule lives inside namespaces this run created: nothing is added to the
# machine's own network namespace, so traffic cannot reach a real interface, and interface names
# ("br0", "vh1", "eth0") cannot collide between runs. Only the namespace names are global; they all
# start with the run id. See tests/integration/README.md for how to write a test.
#
# Safe under `set -euo pipefail`. Setup functions call `fail` (exit 1) on error, because a bash
# function called as `f || ...` runs with errexit off and would otherwise carry on half-built.

HARNESS_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
: "${WEFT_BIN_DIR:=$HARNESS_REPO/build}"
export WEFT_BIN_DIR
export WEFT="$WEFT_BIN_DIR/weft"
# Any /24 works (the addresses exist only inside the run's namespaces); this one stays clear of
# weft's default overlay range 10.32.0.0/12.
: "${HARNESS_UNDERLAY_PREFIX:=10.99.0}"
# Run state. Reset on every source: a test started by another test (which inherits an exported
# HARNESS_DIR) is a run of its own.
HARNESS_RUN_ID=""
HARNESS_DIR=""
HARNESS_CLEANED=""

pass() { echo "PASS: $*"; }
fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# wait_for DESCRIPTION TIMEOUT_SECONDS cmd...: polls cmd every 0.1 s until it succeeds; on timeout
# prints why, with the last attempt's output, and returns 1. Use it instead of fixed sleeps.
# Note: cmd runs as a condition, so errexit is off inside it: a predicate function must return its
# status explicitly (e.g. end with the test, or `cmd1 && cmd2`).
wait_for() {
  local desc=$1 timeout=$2
  shift 2
  [[ $timeout =~ ^[0-9]+$ ]] || fail "wait_for: TIMEOUT must be whole seconds, got '$timeout'"
  local out=/dev/null
  [[ -d $HARNESS_DIR ]] && out="$HARNESS_DIR/.wait_for.$BASHPID"
  local deadline=$((${EPOCHREALTIME/./} + timeout * 1000000))
  until "$@" >"$out" 2>&1; do
    if ((${EPOCHREALTIME/./} >= deadline)); then
      echo "timed out after ${timeout}s waiting for $desc" >&2
      [[ $out == /dev/null ]] || sed 's/^/  last output: /' "$out" | tail -n 5 >&2
      return 1
    fi
    sleep 0.1
  done
}

# Getters. A host is named hN (1 <= N <= 250); its underlay address is $HARNESS_UNDERLAY_PREFIX.N.
harness__num() {
  if ! [[ $1 =~ ^h([1-9][0-9]{0,2})$ ]] || ((BASH_REMATCH[1] > 250)); then
    fail "bad host name '$1' (want h1..h250)"
  fi
  echo "${BASH_REMATCH[1]}"
}
host_ns() { echo "$HARNESS_RUN_ID-$1"; }
host_ip() {
  local n
  n=$(harness__num "$1") || return 1
  echo "$HARNESS_UNDERLAY_PREFIX.$n"
}
host_dir() { echo "$HARNESS_DIR/$1"; }
host_datadir() { echo "$HARNESS_DIR/$1/data"; }
host_log() { echo "$HARNESS_DIR/$1/data/router.log"; }
underlay_ns() { echo "$HARNESS_RUN_ID-u"; }

# hexec hN cmd...: runs cmd inside host hN's network namespace.
hexec() {
  local ns
  ns=$(host_ns "$1")
  shift
  ip netns exec "$ns" "$@"
}

# hspawn hN LOGFILE cmd...: starts cmd in the background inside hN, stdout and stderr appended to
# LOGFILE, stdin from /dev/null; afterwards $! is cmd's own pid (`ip netns exec` execs it). Prefer
# it to `hexec ... &`, whose extra bash in between prints "Terminated" when cleanup kills cmd.
# harness_cleanup kills whatever is still running.
hspawn() {
  local ns
  ns=$(host_ns "$1")
  ip netns exec "$ns" "${@:3}" >>"$2" 2>&1 </dev/null &
}

# can_ping hA hB: one ICMP echo from hA to hB's underlay address, 1 s timeout.
can_ping() { hexec "$1" ping -c1 -W1 -q "$(host_ip "$2")" >/dev/null 2>&1; }

# harness_init NAME: unique run id (<= 15 chars: w + 4 of NAME + pid + random, all hex), scratch
# dir, cleanup trap, and the underlay namespace holding bridge br0.
harness_init() {
  [[ $EUID -eq 0 ]] || fail "integration tests need root (network namespaces)"
  [[ -z $HARNESS_RUN_ID ]] || fail "harness_init called twice"
  local short=${1//[^a-zA-Z0-9]/} me=$BASHPID # the owner: this shell, even if it is a subshell
  HARNESS_RUN_ID=$(printf 'w%.4s%x%04x' "$short" "$me" "$RANDOM")
  harness_sweep_stale
  HARNESS_DIR=$(mktemp -d "/tmp/weft-$HARNESS_RUN_ID.XXXXXX")
  export HARNESS_DIR
  # The owner's pid and start time let a later run tell that this one died without cleaning up.
  echo "$HARNESS_RUN_ID $me $(harness__starttime "$me") ${KEEP_HARNESS:-0}" >"$HARNESS_DIR/.owner"
  # Signals become an exit, so the EXIT trap cleans up exactly once, with a failing status.
  trap 'harness_cleanup $?' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  local u
  u=$(underlay_ns)
  { ip netns add "$u" &&
    ip -n "$u" link set lo up &&
    ip -n "$u" link add br0 type bridge forward_delay 0 &&
    ip -n "$u" link set br0 up; } || fail "could not create the underlay namespace $u"
  # Keep the underlay a plain wire: no iptables/conntrack (which would also reassemble fragments)
  # on bridged frames. Cuts use ebtables, which does not depend on this.
  ip netns exec "$u" sysctl -qw net.bridge.bridge-nf-call-iptables=0 \
    net.bridge.bridge-nf-call-ip6tables=0 net.bridge.bridge-nf-call-arptables=0 2>/dev/null || true
  # ebtables-nft's FORWARD chain sees every frame crossing the bridge; our rules live in HARNESS.
  { harness__eb -N HARNESS && harness__eb -A FORWARD -j HARNESS; } ||
    fail "could not set up ebtables in $u"
}

# harness_add_host hN: host netns with eth0 on the underlay bridge, address .N/24, loopback up,
# and its own scratch dirs ($HARNESS_DIR/hN, data dir $HARNESS_DIR/hN/data).
harness_add_host() {
  local h=$1 ns u ip
  [[ -n $HARNESS_RUN_ID ]] || fail "harness_add_host before harness_init"
  ip=$(host_ip "$h") || exit 1 # validates the name
  ns=$(host_ns "$h")
  u=$(underlay_ns)
  # The veth is created inside the underlay netns with its peer moved straight into the host netns,
  # so no interface ever appears in the machine's own namespace.
  { ip netns add "$ns" &&
    ip -n "$u" link add "v$h" type veth peer name eth0 netns "$ns" &&
    ip -n "$u" link set "v$h" master br0 up &&
    ip -n "$ns" link set lo up &&
    ip -n "$ns" addr add "$ip/24" dev eth0 &&
    ip -n "$ns" link set eth0 up; } || fail "could not create host $h"
  mkdir -p "$(host_datadir "$h")"
}

# harness_add_hosts N: h1..hN.
harness_add_hosts() {
  local i
  for ((i = 1; i <= $1; i++)); do harness_add_host "h$i"; done
}

# Partitions are ebtables rules on the underlay bridge, not in the hosts, so the hosts' own
# iptables stay exactly as the code under test leaves them. Rules are per direction and per
# pair; adding is idempotent (delete first) and so is removing. ARP is left alone.
harness__eb() { ip netns exec "$(underlay_ns)" ebtables-nft "$@"; }
harness__rule() { # -A|-D SRC_IP DST_IP [extra match...]
  local op=$1 src=$2 dst=$3
  shift 3
  harness__eb "$op" HARNESS -p IPv4 --ip-src "$src" --ip-dst "$dst" "$@" -j DROP 2>/dev/null
}
harness__set_pair() { # on|off hA hB [extra match...]
  local on=$1 a b i
  a=$(host_ip "$2") || exit 1
  b=$(host_ip "$3") || exit 1
  shift 3
  local -a ends=("$a" "$b" "$b" "$a") # both directions
  for i in 0 2; do
    while harness__rule -D "${ends[i]}" "${ends[i + 1]}" "$@"; do :; done
    [[ $on == off ]] || harness__rule -A "${ends[i]}" "${ends[i + 1]}" "$@" ||
      fail "could not add ebtables rule ${ends[i]} -> ${ends[i + 1]} $*"
  done
}
# harness_cut hA hB / harness_restore hA hB: drop / allow all IPv4 between hA and hB.
harness_cut() { harness__set_pair on "$1" "$2"; }
harness_restore() { harness__set_pair off "$1" "$2"; }
# harness_block_udp hA hB / harness_unblock_udp hA hB: drop / allow only UDP between them.
harness_block_udp() { harness__set_pair on "$1" "$2" --ip-proto udp; }
harness_unblock_udp() { harness__set_pair off "$1" "$2" --ip-proto udp; }

# Field 22 of /proc/PID/stat (start time) tells a live owner from a recycled pid.
harness__starttime() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  local -a f
  read -ra f <<<"${stat##*) }" # fields from 3 on; comm (field 2) may hold spaces
  echo "${f[19]}"
}

# Namespaces of a run and the processes inside them.
harness__run_ns() { ip netns list 2>/dev/null | awk -v p="$1-" 'index($1, p) == 1 { print $1 }'; }
harness__run_pids() {
  local ns
  for ns in $(harness__run_ns "$1"); do ip netns pids "$ns" 2>/dev/null; done
}
harness__no_pids() { [[ -z $(harness__run_pids "$1") ]]; }

# harness__destroy RUN_ID: kills every process in the run's namespaces (TERM, then KILL), then
# deletes them: deleting a host netns destroys its veth, deleting the underlay the bridge.
harness__destroy() {
  local run=$1 ns
  local -
  set +e
  # shellcheck disable=SC2046 # word splitting of the pid list is intended
  if ! harness__no_pids "$run"; then
    kill -TERM $(harness__run_pids "$run") 2>/dev/null
    if ! wait_for "processes of $run to exit" 3 harness__no_pids "$run" 2>/dev/null; then
      kill -KILL $(harness__run_pids "$run") 2>/dev/null
      wait_for "processes of $run to die" 3 harness__no_pids "$run"
    fi
  fi
  # (2>/dev/null: two runs may sweep the same dead run at once; what matters is checked below.)
  # (/etc/netns/NS: what `weft attach` wrote for a workload namespace and no detach removed.)
  for ns in $(harness__run_ns "$run"); do
    ip netns del "$ns" 2>/dev/null
    [[ -d /etc/netns/$ns ]] && rm -rf "/etc/netns/$ns"
  done
  [[ -z $(harness__run_ns "$run") ]] ||
    echo "harness: could not delete namespaces: $(harness__run_ns "$run" | xargs)" >&2
  return 0
}

# harness_sweep_stale: removes what runs killed with SIGKILL (e.g. by a ctest timeout) left behind.
# Called by harness_init; a run counts as dead when its owner pid is gone or was reused.
harness_sweep_stale() {
  local owner run pid start keep
  for owner in /tmp/weft-w*/.owner; do
    [[ -f $owner ]] || continue
    read -r run pid start keep <"$owner" || continue
    [[ $(harness__starttime "$pid") == "$start" ]] && continue
    echo "harness: removing leftovers of dead run $run" >&2
    harness__destroy "$run"
    if [[ $keep == 1 ]]; then rm -f "$owner"; else rm -rf "$(dirname "$owner")"; fi
  done
}

# harness_cleanup [STATUS]: runs from the EXIT trap (or explicitly; idempotent). When STATUS is
# non-zero (the test failed or was interrupted) it first prints the tail of every host log.
harness_cleanup() {
  local rc=${1:-0}
  [[ -n $HARNESS_RUN_ID && -z $HARNESS_CLEANED ]] || return 0
  HARNESS_CLEANED=1
  local - # errexit/pipefail off in here only: cleanup must run to the end whatever fails
  set +e +o pipefail
  trap '' INT TERM # a second Ctrl-C must not interrupt cleanup halfway
  if ((rc != 0)); then
    local log
    for log in "$HARNESS_DIR"/h*/data/*.log; do
      [[ -f $log ]] || continue
      echo "---- last lines of ${log#"$HARNESS_DIR"/} ----" >&2
      tail -n 40 "$log" >&2
    done
  fi
  harness__destroy "$HARNESS_RUN_ID"
  rm -f "$HARNESS_DIR/.owner"
  if [[ ${KEEP_HARNESS:-0} == 1 ]]; then
    echo "harness: kept $HARNESS_DIR" >&2
  else
    rm -rf "$HARNESS_DIR"
  fi
  trap - INT TERM
  return 0
}
