#!/usr/bin/env bash
# Weft datagrams captured on the underlay and re-injected toward the receiver are dropped as
# replays (counted, and the receiving workload sees no duplicate); garbage datagrams from a host
# outside the mesh are dropped, counted, and get no answer.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../../scripts/lib/netns.sh
source "$here/../../scripts/lib/netns.sh"
# shellcheck source=SCRIPTDIR/lib_weft.sh
source "$here/lib_weft.sh"
command -v tcpdump >/dev/null || fail "this test needs tcpdump (apt-get install tcpdump)"
command -v python3 >/dev/null || fail "this test needs python3"

harness_init dpreplay
harness_add_hosts 2
harness_add_host h4 # the attacker: on the underlay, no weft
weft_two_hosts_udp


# 1. Capture h1 -> h2 weft datagrams while w1 pings w2, and what w2 sees.
under="$HARNESS_DIR/under.pcap"
wl="$HARNESS_DIR/w2.pcap"
weft_capture_start "$(underlay_ns)" br0 "$under" "udp and src host $(host_ip h1) and dst host $(host_ip h2) and dst port 6783"
under_pid=$WEFT_CAPTURE_PID
weft_capture_start "$w2" ethweft "$wl" "icmp[icmptype] == icmp-echo"
wl_pid=$WEFT_CAPTURE_PID
npings=10
ip netns exec "$w1" ping -c "$npings" -i 0.2 -W1 -q 10.32.2.1 >/dev/null || fail "pings $w1 -> $w2 lost"
weft_capture_stop "$under_pid" "$under"
ndgrams=$(weft_pcap_count "$under" "")
((ndgrams >= npings)) || fail "captured only $ndgrams weft datagrams for $npings pings"

# 2. Re-inject them, from h1's namespace with h1's address and port (raw IP, UDP checksum 0).
replay0=$(weft_metric h2 'weft_dataplane_dropped_total{reason="replay"}') || fail "no replay metric on h2"
delivered0=$(weft_metric h2 weft_dataplane_frames_delivered_total) || fail "no delivered metric on h2"
replay_py='
import socket, struct, sys
data = open(sys.argv[1], "rb").read()
assert struct.unpack("<I", data[:4])[0] == 0xa1b2c3d4, "not a little-endian usec pcap"
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
off, sent = 24, 0
while off + 16 <= len(data):
    incl = struct.unpack("<I", data[off + 8:off + 12])[0]
    pkt = data[off + 16:off + 16 + incl]
    off += 16 + incl
    ip = pkt[14:]
    ihl = (ip[0] & 15) * 4
    src, dst = ip[12:16], ip[16:20]
    sport, dport, ulen = struct.unpack("!HHH", ip[ihl:ihl + 6])
    payload = ip[ihl + 8:ihl + ulen]
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, src, dst)
    s.sendto(hdr + udp, (socket.inet_ntoa(dst), 0))
    sent += 1
print(sent)
'
sent=$(hexec h1 python3 -c "$replay_py" "$under") || fail "re-injecting the capture failed"
((sent == ndgrams)) || fail "re-injected $sent of $ndgrams datagrams"
wait_for "h2 to count $sent replays" 10 weft_metric_at_least h2 'weft_dataplane_dropped_total{reason="replay"}' \
  $((replay0 + sent)) || fail "h2 did not count the $sent re-injected datagrams as replays"
replay1=$(weft_metric h2 'weft_dataplane_dropped_total{reason="replay"}')
delivered1=$(weft_metric h2 weft_dataplane_frames_delivered_total)
pass "h2 dropped $((replay1 - replay0)) re-injected datagrams as replays ($sent sent)"

# The counter only rises once a datagram was processed, so w2's capture now holds any duplicate.
weft_capture_stop "$wl_pid" "$wl"
seen=$(weft_pcap_count "$wl" "")
((seen == npings)) || fail "$w2 saw $seen ICMP echo requests for $npings pings (duplicates delivered?)"
# And h2's own count agrees: the replays did not raise frames_delivered (a stray frame from h1,
# such as an IPv6 multicast, may; all $sent replays delivered would raise it by $sent).
((delivered1 - delivered0 < (sent + 1) / 2)) ||
  fail "h2's frames_delivered rose by $((delivered1 - delivered0)) while $sent replays arrived ($delivered0 -> $delivered1)"
pass "$w2 saw exactly $npings echo requests: no replayed frame was delivered (delivered: $delivered0 -> $delivered1)"

# 3. Garbage from the attacker h4 to h2's port 6783: dropped, counted, no answer.
bad0=$(($(weft_metric h2 'weft_dataplane_dropped_total{reason="malformed"}') +
  $(weft_metric h2 'weft_dataplane_dropped_total{reason="unknown_session"}')))
att="$HARNESS_DIR/attacker.pcap"
weft_capture_start "$(host_ns h4)" eth0 "$att" "ip src host $(host_ip h2)"
att_pid=$WEFT_CAPTURE_PID
garbage_py='
import os, socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
n = 0
for size in (1, 8, 15, 16, 17, 32, 48, 100, 600, 1400):
    s.sendto(os.urandom(size), (sys.argv[1], 6783)); n += 1
# Plausible headers: each type byte, random session ids and counters, a fake tag.
for t in range(8):
    s.sendto(bytes([t]) + os.urandom(15) + os.urandom(64), (sys.argv[1], 6783)); n += 1
print(n)
'
ngarbage=$(hexec h4 python3 -c "$garbage_py" "$(host_ip h2)") || fail "sending garbage failed"
# bad_at_least MIN: h2's malformed + unknown_session drops are >= MIN.
bad_at_least() {
  local m v
  m=$(weft_metrics h2) || return 1
  v=$(awk '$1 ~ /^weft_dataplane_dropped_total[{]reason="(malformed|unknown_session)"[}]$/ { s += $2 }
    END { print s + 0 }' <<<"$m")
  echo "malformed + unknown_session = $v (want >= $1)"
  ((v >= $1))
}
wait_for "h2 to count $ngarbage garbage datagrams" 10 bad_at_least $((bad0 + ngarbage)) \
  || fail "h2 did not count all $ngarbage garbage datagrams as malformed/unknown_session"
pass "h2 dropped and counted $ngarbage garbage datagrams from a non-member"
# Positive marker: one underlay ping; its reply must be the only thing h2 ever sent h4.
hexec h4 ping -c1 -W2 -q "$(host_ip h2)" >/dev/null || fail "h4 cannot ping h2 on the underlay"
has_reply() { tcpdump -n -r "$att" icmp 2>/dev/null | grep -q 'echo reply'; }
wait_for "the ping reply in h4's capture" 5 has_reply ||
  fail "h4's capture never saw the marker ping reply"
weft_capture_stop "$att_pid" "$att"
other=$(tcpdump -n -r "$att" "not icmp" 2>/dev/null)
[[ -z $other ]] || fail "h2 answered the attacker: $(head -5 <<<"$other")"
pass "h2 sent nothing back to the attacker (only the marker ping reply)"
