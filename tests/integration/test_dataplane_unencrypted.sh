#!/usr/bin/env bash
# --no-encryption says what it does: the data plane sends frames unsealed (a marker a workload
# sends is readable on the underlay), traffic still flows over UDP, and the status names the
# cipher "none" for the data plane and for each path.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../../scripts/lib/netns.sh
source "$here/../../scripts/lib/netns.sh"
# shellcheck source=SCRIPTDIR/lib_weft.sh
source "$here/lib_weft.sh"
command -v tcpdump >/dev/null || fail "this test needs tcpdump (apt-get install tcpdump)"
command -v nc >/dev/null || fail "this test needs nc (apt-get install netcat-openbsd)"

harness_init dpclear
harness_add_hosts 2
w1="$(host_ns h1)-w1"
w2="$(host_ns h2)-w2"
for w in "$w1" "$w2"; do ip netns add "$w" || fail "cannot create the namespace $w"; done
weft_launch_first h1 --no-encryption >/dev/null || fail "weft launch on h1 failed"
weft_on h2 launch --nickname h2 --no-encryption "$(host_ip h1)" >/dev/null ||
  fail "weft launch on h2 failed"
wait_for "h1 and h2 to connect" 20 weft_full_mesh h1 h2 || fail "no mesh"
weft_on h1 attach 10.32.1.1/12 "$w1" >/dev/null || fail "attach on h1 failed"
weft_on h2 attach 10.32.2.1/12 "$w2" >/dev/null || fail "attach on h2 failed"
wait_for "$w1 to reach $w2" 10 ip netns exec "$w1" ping -c1 -W1 -q 10.32.2.1 || fail "$w1 cannot ping $w2"
wait_for "h1's path to h2 to be udp" 10 weft_jq h1 \
  '.dataplane.paths[] | select(.nickname == "h2") | .path == "udp"' || fail "h1 -> h2 path is not udp"
for h in h1 h2; do
  weft_jq "$h" '.dataplane.cipher | startswith("none")' >/dev/null ||
    fail "$h: the data plane cipher is not reported as none: $(weft_jq "$h" '.dataplane.cipher')"
  # (all of no paths would be true: the other host's path must be listed.)
  weft_jq "$h" '(.dataplane.paths | length) > 0 and
    ([.dataplane.paths[].cipher | startswith("none")] | all)' >/dev/null ||
    fail "$h lists no path, or a path that does not report cipher none: $(weft_jq "$h" '.dataplane.paths')"
done
pass "the status of both hosts says the data plane does not encrypt"

pcap="$HARNESS_DIR/underlay.pcap"
weft_capture_start "$(underlay_ns)" br0 "$pcap" "udp port 6783"
cap_pid=$WEFT_CAPTURE_PID
marker="CLEAR-MARKER-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
out="$HARNESS_DIR/tcp.out"
: >"$out"
ip netns exec "$w2" nc -l 5000 >"$out" 2>&1 </dev/null &
wait_for "a listener in $w2" 5 bash -c "ip netns exec '$w2' ss -Hltn | grep -q ':5000 '" ||
  fail "listener did not start"
ip netns exec "$w1" nc -N -w3 10.32.2.1 5000 <<<"tcp $marker" || fail "TCP send failed"
wait_for "the marker to arrive in $w2" 5 grep -qF "$marker" "$out" || fail "marker not received"
wait_for "the marker in the captured UDP datagrams" 5 grep -aqF "$marker" "$pcap" ||
  fail "the marker is not in the UDP datagrams: were they sealed after all?"
weft_capture_stop "$cap_pid" "$pcap"
pass "with --no-encryption the workload's bytes cross the underlay in clear, in UDP datagrams"
