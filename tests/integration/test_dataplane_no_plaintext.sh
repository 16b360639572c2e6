#!/usr/bin/env bash
# While a workload sends a random marker over TCP and UDP to a workload on another host, the
# underlay carries only weft's UDP/TCP port 6783 between the hosts, and never the marker.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../../scripts/lib/netns.sh
source "$here/../../scripts/lib/netns.sh"
# shellcheck source=SCRIPTDIR/lib_weft.sh
source "$here/lib_weft.sh"
command -v tcpdump >/dev/null || fail "this test needs tcpdump (apt-get install tcpdump)"
command -v nc >/dev/null || fail "this test needs nc (apt-get install netcat-openbsd)"

harness_init dpplain
harness_add_hosts 2
# The path must be UDP, so the capture covers the UDP data plane and not only the fallback.
weft_two_hosts_udp

# Capture everything on the underlay bridge, full packets.
pcap="$HARNESS_DIR/underlay.pcap"
weft_capture_start "$(underlay_ns)" br0 "$pcap"
cap_pid=$WEFT_CAPTURE_PID

marker="PLAINTEXT-MARKER-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
tcp_out="$HARNESS_DIR/tcp.out"
udp_out="$HARNESS_DIR/udp.out"
: >"$tcp_out"
: >"$udp_out"
ip netns exec "$w2" nc -l 5000 >"$tcp_out" 2>&1 </dev/null &
ip netns exec "$w2" nc -u -l 5001 >"$udp_out" 2>&1 </dev/null &
wait_for "listeners in $w2" 5 bash -c "ip netns exec '$w2' ss -Hltun | grep -q ':5000 ' &&
  ip netns exec '$w2' ss -Hlun | grep -q ':5001 '" || fail "listeners did not start"
# Repeat the marker so it would show up even if a single segment were lost in the capture.
tcp_msg="tcp $(for _ in $(seq 20); do echo "$marker"; done)"
udp_msg="udp $(for _ in $(seq 25); do echo "$marker"; done)"
# Positive control: the capture must hold the h1 -> h2 tunnel datagrams that carried each message,
# so that the absence checks below look at the marker's own packets. A datagram carrying an inner
# IPv4 packet of L bytes has a UDP length of at least L + 8 (more with weft's header, or with other
# frames batched in); weft's own probes and control datagrams are far smaller than these.
tunnel="udp and src host $(host_ip h1) and dst host $(host_ip h2) and port 6783"
tcp_dgrams="$tunnel and udp[4:2] >= $((20 + 20 + ${#tcp_msg} + 1 + 8))"
udp_dgrams="$tunnel and udp[4:2] >= $((20 + 8 + ${#udp_msg} + 1 + 8))"
ip netns exec "$w1" nc -N -w3 10.32.2.1 5000 <<<"$tcp_msg" || fail "TCP send failed"
wait_for "the TCP marker to arrive in $w2" 5 grep -qF "$marker" "$tcp_out" || fail "TCP marker not received"
wait_for "the datagram carrying the TCP marker in the capture" 5 weft_pcap_has "$pcap" "$tcp_dgrams" ||
  fail "the capture lacks the h1 -> h2 datagram that carried the TCP marker: it would prove nothing"
# The UDP message is the larger: one more datagram at least its size must appear after it is sent.
before=$(weft_pcap_count "$pcap" "$udp_dgrams")
ip netns exec "$w1" nc -u -w1 10.32.2.1 5001 <<<"$udp_msg" || fail "UDP send failed"
wait_for "the UDP marker to arrive in $w2" 5 grep -qF "$marker" "$udp_out" || fail "UDP marker not received"
wait_for "the datagram carrying the UDP marker in the capture" 5 \
  weft_pcap_has "$pcap" "$udp_dgrams" $((before + 1)) ||
  fail "the capture lacks the h1 -> h2 datagram that carried the UDP marker: it would prove nothing"
pass "$w2 received the marker over TCP and UDP; the capture holds the datagrams that carried it"
weft_capture_stop "$cap_pid" "$pcap"
total=$(weft_pcap_count "$pcap" "")
weft_pkts=$(weft_pcap_count "$pcap" "ip and host $(host_ip h1) and host $(host_ip h2) and
  (udp port 6783 or tcp port 6783)")
other=$(tcpdump -n -r "$pcap" "ip and not (host $(host_ip h1) and host $(host_ip h2) and
  (udp port 6783 or tcp port 6783))" 2>/dev/null)
echo "capture: $total packets, $weft_pkts weft (port 6783) between h1 and h2"
[[ -z $other ]] || fail "IPv4 traffic other than weft's port 6783 on the underlay: $(head -5 <<<"$other")"
if grep -aqF "$marker" "$pcap"; then fail "the marker appears in clear on the underlay"; fi
if grep -aqF "${marker:0:16}" "$pcap"; then fail "part of the marker appears in clear on the underlay"; fi
pass "the underlay carried only port 6783 between h1 and h2 and never the marker"
