#!/usr/bin/env bash
# Issue 10, hostile workloads: w3 (on h1) floods as fast as it can for a few seconds while
# iperf3 measures TCP from w1 (h1) to w2 (h2), first with broadcasts, then with unicast to a MAC
# nobody has (unknown unicast, which the bridge and the router flood like broadcasts). The port
# guard's per-port limit (500 broadcast and multicast frames/s, burst 1,000) keeps broadcasts
# off the bridge and the tunnel; the router's per-source limit (the same figures) keeps unknown
# unicast out of the tunnel. TCP keeps at least half (a third under unknown unicast, see below)
# of its no-attack throughput, measured in
# the same run, and what was cut is counted: the nftables counter flood_<veth>, and
# weft_dataplane_dropped_total{reason="unknown_unicast_limit"} in /metrics. Bounded:
# tools/spoof.py stops after the given seconds.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../../scripts/lib/netns.sh
source "$here/../../scripts/lib/netns.sh"
# shellcheck source=SCRIPTDIR/lib_weft.sh
source "$here/lib_weft.sh"
# shellcheck source=SCRIPTDIR/lib_attack.sh
source "$here/lib_attack.sh"
for c in nft iperf3 python3; do command -v $c >/dev/null || fail "this test needs $c"; done
secs=3

harness_init abcast
harness_add_hosts 2
w1="$(host_ns h1)-w1" w2="$(host_ns h2)-w2" w3="$(host_ns h1)-w3"
for w in "$w1" "$w2" "$w3"; do ip netns add "$w" || fail "cannot create $w"; done
weft_launch_first h1 >/dev/null || fail "weft launch on h1 failed"
weft_launch_join h2 h1 >/dev/null || fail "weft launch on h2 failed"
wait_for "h1 and h2 to connect" 20 weft_full_mesh h1 h2 || fail "no mesh"
weft_on h1 attach 10.32.1.1/12 "$w1" >/dev/null || fail "attach w1 failed"
weft_on h2 attach 10.32.2.1/12 "$w2" >/dev/null || fail "attach w2 failed"
weft_on h1 attach 10.32.1.3/12 "$w3" >/dev/null || fail "attach w3 failed"
wait_for "w1 to reach w2" 10 ip netns exec "$w1" ping -c1 -W1 -q 10.32.2.1 || fail "w1 cannot ping w2"
attack_iperf3_server "$w2"
throughput() { attack_mbps "$w1" 10.32.2.1 "$secs"; }
flooded() { attack_guard_count h1 flood; }

unknown_cut() { weft_metric h1 'weft_dataplane_dropped_total{reason="unknown_unicast_limit"}'; }

base=$(throughput) || fail "iperf3 failed without an attack"
# under MODE: "Mbit/s frames-sent" while w3 floods with spoof.py MODE (broadcast or unknown).
under() {
  local out="$HARNESS_DIR/flood.out" pid mbps
  ip netns exec "$w3" python3 "$here/tools/spoof.py" "$1" ethweft $((secs + 1)) >"$out" 2>&1 &
  pid=$!
  mbps=$(throughput) || fail "iperf3 failed under the $1 flood"
  wait "$pid" || fail "the flooder failed: $(cat "$out")"
  echo "$mbps $(cat "$out")"
}
# flood_test MODE COUNTER MIN_CUT_PERCENT DIVISOR: runs `under MODE` (twice if the first is slow:
# the machine is shared) and checks that the throughput keeps at least 1/DIVISOR of the no-attack
# figure and that COUNTER (a function) rose by at least MIN_CUT_PERCENT of the frames sent. Sets
# mbps.
flood_test() {
  local mode=$1 counter=$2 min_pct=$3 div=$4 c0 c1 sent
  c0=$($counter)
  read -r mbps sent < <(under "$mode")
  if ((mbps * div < base)); then
    base=$(throughput) || fail "iperf3 failed without an attack"
    read -r mbps sent < <(under "$mode")
  fi
  ((mbps * div >= base)) || fail "$mode flood: $mbps Mbit/s is less than 1/$div of $base"
  c1=$($counter)
  ((c1 - c0 >= sent * min_pct / 100)) || fail "$mode flood: only $((c1 - c0)) of $sent frames cut ($mbps Mbit/s)"
  pass "$mode flood ($sent frames, $((c1 - c0)) cut by the limit): $mbps Mbit/s, no attack $base Mbit/s"
}
flood_test broadcast flooded 50 2
bcast=$mbps
# The router sees what the bridge hands its capture port (a TAP may drop some under the flood):
# at least a quarter of what was sent must have been cut. Unknown unicast still crosses the
# bridge to the router's capture port before the router's limit drops it, and the flooder
# (python, flat out) holds one of this machine's two cores, so a third of the no-attack TCP is
# the bar here (three runs kept 0.51-1.05; with the limit lifted it fell to 0.18).
flood_test unknown unknown_cut 25 3
echo "RESULT no_attack=$base broadcast_flood=$bcast unknown_unicast_flood=$mbps (Mbit/s, iperf3 1 stream, ${secs} s)"
