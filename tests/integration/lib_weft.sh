# shellcheck shell=bash
# Helpers for the weft mesh tests (tests/integration/test_mesh*.sh): run the `weft` CLI inside a
# host as a user would, and read what `weft status --json` and /metrics say.
#
#   source "$here/../../scripts/lib/netns.sh"
#   source "$here/lib_weft.sh"
#   harness_init mesh; harness_add_hosts 3
#   weft_launch_first h1
#   weft_launch_join h2 h1; weft_launch_join h3 h1
#   wait_for "a full mesh" 20 weft_full_mesh h1 h2 h3 || fail "no full mesh"
#
# Every host's data dir is $(host_datadir hN); its router is named (--nickname) hN, so checks
# name peers by host name. Predicates print what they saw, which wait_for shows on a timeout.
# Needs jq (JSON) and curl (/metrics over the API's unix socket).

command -v jq >/dev/null || fail "the weft tests need jq (apt-get install jq)"
command -v curl >/dev/null || fail "the weft tests need curl (apt-get install curl)"

# weft_on hN ARGS...: `weft --datadir DATADIR ARGS...` run inside hN.
weft_on() {
  local h=$1
  shift
  hexec "$h" "$WEFT" --datadir "$(host_datadir "$h")" "$@"
}

# weft_launch_first hN [ARGS...]: starts the first router of a mesh (it generates the secret).
weft_launch_first() {
  weft_on "$1" launch --nickname "$1" "${@:2}"
}

# weft_secret_copy hSEED hN: copies hSEED's cluster secret to hN's scratch dir, as a user would
# copy the file to the new host, and prints the copy's path.
weft_secret_copy() {
  local copy
  copy="$(host_dir "$2")/secret.from-$1"
  install -m 0600 "$(host_datadir "$1")/secret" "$copy" || return 1
  echo "$copy"
}

# weft_launch_join hN hSEED [ARGS...]: the one-line join: `weft launch --password-file COPY SEED_IP`.
weft_launch_join() {
  local h=$1 seed=$2 copy
  copy=$(weft_secret_copy "$seed" "$h") || fail "cannot copy $seed's secret to $h"
  weft_on "$h" launch --nickname "$h" --password-file "$copy" "${@:3}" "$(host_ip "$seed")"
}

# weft_json hN: `weft status --json` of hN.
weft_json() { weft_on "$1" status --json; }

# weft_jq hN FILTER [JQ ARGS...]: FILTER applied to hN's status (raw output). Fails when the
# status cannot be read or FILTER yields false/null (jq -e).
weft_jq() {
  local h=$1 filter=$2 js
  shift 2
  js=$(weft_json "$h") || return 1
  jq -er "$@" "$filter" <<<"$js"
}

# weft_name hN: hN's peer name (like ce:31:e0:06:45:1a).
weft_name() { weft_jq "$1" '.name'; }

# weft_router_pid hN: the pid in hN's router.pid.
weft_router_pid() { tr -d '[:space:]' <"$(host_datadir "$1")/router.pid"; }

# weft_pid_gone PID: the process has exited (no such process, or a zombie not yet reaped).
weft_pid_gone() { [[ ! -e /proc/$1 || $(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) == Z ]]; }

# weft_established hN: the nicknames of hN's established connections, sorted, space-separated.
weft_established() {
  weft_jq "$1" '[.connections[] | select(.state == "established") | .nickname] | sort | join(" ")'
}

# weft_reachable hN: the nicknames of the peers hN counts as reachable (itself included), sorted.
weft_reachable() {
  weft_jq "$1" '[.peers[] | select(.reachable) | .nickname] | sort | join(" ")'
}

# weft_route hN hDEST: "NEXT_HOP HOPS" of hN's route to hDEST (e.g. "h2 2"); fails if it has none.
weft_route() {
  # shellcheck disable=SC2016 # $d is a jq variable
  weft_jq "$1" '[.routes[] | select(.nickname == $d)] | if length == 1
    then "\(.[0].next_hop_nickname) \(.[0].hops)" else empty end' --arg d "$2"
}

# weft_expect WHAT GOT WANT: prints "WHAT: GOT (want WANT)"; succeeds when GOT == WANT.
weft_expect() {
  echo "$1: '$2' (want '$3')"
  [[ $2 == "$3" ]]
}

# weft_others hN HOSTS...: HOSTS without hN, sorted, space-separated.
weft_others() {
  local self=$1 h
  shift
  for h in "$@"; do [[ $h == "$self" ]] || echo "$h"; done | sort | xargs
}

# weft_mesh_complete hN HOSTS...: hN has an established connection to every other host of HOSTS
# and to nothing else, and counts exactly HOSTS as reachable peers (itself included).
weft_mesh_complete() {
  local h=$1 est reach
  shift
  est=$(weft_established "$h") || { echo "$h: no status" && return 1; }
  reach=$(weft_reachable "$h") || { echo "$h: no status" && return 1; }
  weft_expect "$h established" "$est" "$(weft_others "$h" "$@")" &&
    weft_expect "$h reachable" "$reach" "$(printf '%s\n' "$@" | sort | xargs)"
}

# weft_full_mesh HOSTS...: weft_mesh_complete holds on every host of HOSTS.
weft_full_mesh() {
  local h
  for h in "$@"; do weft_mesh_complete "$h" "$@" || return 1; done
}

# weft_topology hN: the mesh as hN sees it (`weft status peers`): "PEER:NEIGHBOURS" for every
# peer it knows, neighbours being the peers with an established connection to it, all sorted,
# e.g. "h1:h2,h3 h2:h1,h3 h3:h1,h2".
weft_topology() {
  weft_jq "$1" '[.peers[] | .nickname + ":" +
    ([.connections[] | select(.established) | .nickname] | sort | join(","))] | sort | join(" ")'
}

# weft_topology_complete HOSTS...: every host of HOSTS sees the complete graph of HOSTS.
weft_topology_complete() {
  local h want="" got
  for h in $(printf '%s\n' "$@" | sort); do
    want+="${want:+ }$h:$(weft_others "$h" "$@" | tr ' ' ',')"
  done
  for h in "$@"; do
    got=$(weft_topology "$h") || { echo "$h: no status" && return 1; }
    weft_expect "$h sees" "$got" "$want" || return 1
  done
}

# weft_not_connected hN hM: hN has no established connection to hM.
weft_not_connected() {
  local est
  est=$(weft_established "$1") || return 1
  echo "$1 established: '$est'"
  [[ " $est " != *" $2 "* ]]
}

# weft_not_reachable hN hM: hN does not count hM as a reachable peer (unknown or unreachable).
weft_not_reachable() {
  local reach
  reach=$(weft_reachable "$1") || return 1
  echo "$1 reachable: '$reach'"
  [[ " $reach " != *" $2 "* ]]
}

# weft_metrics hN: hN's /metrics, read over the API's unix socket.
weft_metrics() {
  hexec "$1" curl -sSf --max-time 5 --unix-socket "$(host_datadir "$1")/api.sock" \
    http://weft/metrics
}

# weft_metric hN SERIES: the value of SERIES (e.g. 'weft_handshake_failures_total{reason="x"}')
# in hN's /metrics; fails if the series is missing.
weft_metric() {
  local m
  m=$(weft_metrics "$1") || return 1
  awk -v s="$2" '$1 == s { print $2; found = 1 } END { exit !found }' <<<"$m"
}

# weft_metric_at_least hN SERIES MIN: SERIES is present in hN's /metrics and >= MIN.
weft_metric_at_least() {
  local v
  v=$(weft_metric "$1" "$2") || { echo "$1: no $2 in /metrics" && return 1; }
  echo "$1 $2 = $v (want >= $3)"
  awk -v v="$v" -v min="$3" 'BEGIN { exit !(v + 0 >= min + 0) }'
}

# weft_log_has hN TEXT: hN's router log contains TEXT (a fixed string).
weft_log_has() { grep -qF -- "$2" "$(host_log "$1")"; }

# weft_now_ms: wall clock in milliseconds, for reporting how long something took.
weft_now_ms() { echo $((${EPOCHREALTIME/./} / 1000)); }

# weft_capture_start NS IFACE FILE [FILTER]: tcpdump on IFACE inside the namespace NS writes full
# packets to FILE, each as it arrives (--immediate-mode -U, so FILE can be read while it runs);
# returns once tcpdump listens, and sets WEFT_CAPTURE_PID. The underlay bridge, which sees every
# host's traffic, is `weft_capture_start "$(underlay_ns)" br0 FILE`.
weft_capture_start() {
  local log="$3.log"
  ip netns exec "$1" tcpdump -n -s 0 -U --immediate-mode -i "$2" -w "$3" ${4:+"$4"} \
    >"$log" 2>&1 </dev/null &
  # shellcheck disable=SC2034 # read by the caller
  WEFT_CAPTURE_PID=$!
  wait_for "tcpdump on $2 in $1 to listen" 10 grep -q "listening on" "$log" ||
    fail "no tcpdump: $(cat "$log")"
}

# weft_capture_stop PID FILE: stops the capture started with weft_capture_start and waits for
# tcpdump to close FILE.
weft_capture_stop() {
  kill -INT "$1"
  wait_for "tcpdump to finish" 10 grep -Eq "packets? captured" "$2.log" || fail "tcpdump did not finish"
}

# weft_pcap_count FILE FILTER: how many packets of FILE match the tcpdump FILTER.
weft_pcap_count() { tcpdump -n -r "$1" "$2" 2>/dev/null | wc -l; }

# weft_pcap_has FILE FILTER [MIN]: FILE holds at least MIN (default 1) packets matching FILTER;
# prints the count (a wait_for predicate: FILE may still be written).
weft_pcap_has() {
  local n
  n=$(weft_pcap_count "$1" "$2")
  echo "$n packets match '$2' (want >= ${3:-1})"
  ((n >= ${3:-1}))
}

# weft_raise_workload_mtu hN WNS MTU: sets both ends of the veth that attaches the workload
# namespace WNS to hN's bridge to MTU, so the workload can send packets larger than the overlay
# MTU and weft, not the workload's own kernel, has to answer them.
weft_raise_workload_mtu() {
  local h=$1 wns=$2 mtu=$3 idx port
  idx=$(ip -n "$wns" -j link show ethweft | jq -r '.[0].link_index') || return 1
  port=$(ip -n "$(host_ns "$h")" -j link show | jq -r --argjson i "$idx" '.[] | select(.ifindex == $i) | .ifname')
  [[ -n $port ]] || fail "cannot find the bridge end of $wns's veth on $h"
  ip -n "$(host_ns "$h")" link set "$port" mtu "$mtu" || fail "cannot raise $port's MTU on $h"
  ip -n "$wns" link set ethweft mtu "$mtu" || fail "cannot raise the MTU in $wns"
}

# weft_npc_caught_up hN: hN's weft-npc enforces every change its router holds (the router's
# state revision equals the one weft-npc last programmed).
weft_npc_caught_up() {
  local rev applied
  rev=$(curl -sf --unix-socket "$(host_datadir "$1")/api.sock" http://weft/state | jq .revision) || return 1
  applied=$(curl -sf --unix-socket "$(host_datadir "$1")/npc.sock" http://weft/status | jq .applied_revision) || return 1
  [[ $rev == "$applied" ]]
}

# weft_two_hosts_udp: the data-plane tests' setup, after harness_add_hosts 2: weft on h1 and h2
# (joined), workload namespaces $w1 on h1 (10.32.1.1) and $w2 on h2 (10.32.2.1) that reach
# each other, and h1's path to h2 on UDP (not the TCP fallback). Sets w1 and w2.
weft_two_hosts_udp() {
  w1="$(host_ns h1)-w1"
  w2="$(host_ns h2)-w2"
  local w
  for w in "$w1" "$w2"; do ip netns add "$w" || fail "cannot create the namespace $w"; done
  weft_launch_first h1 >/dev/null || fail "weft launch on h1 failed"
  weft_launch_join h2 h1 >/dev/null || fail "weft launch on h2 failed"
  wait_for "h1 and h2 to connect" 20 weft_full_mesh h1 h2 || fail "no mesh"
  weft_on h1 attach 10.32.1.1/12 "$w1" >/dev/null || fail "attach on h1 failed"
  weft_on h2 attach 10.32.2.1/12 "$w2" >/dev/null || fail "attach on h2 failed"
  wait_for "$w1 to reach $w2" 10 ip netns exec "$w1" ping -c1 -W1 -q 10.32.2.1 ||
    fail "$w1 cannot ping $w2"
  wait_for "h1's path to h2 to be udp" 10 weft_jq h1 \
    '.dataplane.paths[] | select(.nickname == "h2") | .path == "udp"' || fail "h1 -> h2 path is not udp"
}
