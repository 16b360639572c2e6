#!/usr/bin/env bash
# Issue 10, hostile workloads: w3 (on h1) broadcasts as fast as it can for a few seconds while
# iperf3 measures TCP from w1 (h1) to w2 (h2). The port guard's per-port limit (500 broadcast
# and multicast frames/s, burst 1,000) keeps the flood off the bridge and the tunnel: TCP keeps
# at least half of its no-attack throughput, measured in the same run, and the nftables counter
# flood_<veth> counts what was cut. Bounded: tools/spoof.py stops after the given seconds.
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

base=$(throughput) || fail "iperf3 failed without an attack"
f0=$(flooded)
under() {
  local out="$HARNESS_DIR/flood.out" pid mbps
  ip netns exec "$w3" python3 "$here/tools/spoof.py" broadcast ethweft $((secs + 1)) >"$out" 2>&1 &
  pid=$!
  mbps=$(throughput) || fail "iperf3 failed under the flood"
  wait "$pid" || fail "the flooder failed: $(cat "$out")"
  echo "$mbps $(cat "$out")"
}
read -r mbps sent < <(under)
if ((mbps * 2 < base)); then # the machine is shared: measure both once more
  base=$(throughput) || fail "iperf3 failed without an attack"
  read -r mbps sent < <(under)
fi
((mbps * 2 >= base)) || fail "broadcast flood: $mbps Mbit/s is less than half of $base"
f1=$(flooded)
((f1 - f0 >= sent / 2)) || fail "the port guard cut only $((f1 - f0)) of $sent broadcast frames"
pass "broadcast flood ($sent frames, $((f1 - f0)) cut by the limit): $mbps Mbit/s, no attack $base Mbit/s"
echo "RESULT no_attack=$base broadcast_flood=$mbps (Mbit/s, iperf3 1 stream, ${secs} s)"
