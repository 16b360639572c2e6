#!/usr/bin/env bash
# The libpcap capture backend (--capture pcap, the reference): three hosts with one workload each
# ping each other, TCP and UDP carry a message across, a full-MTU DF ping crosses, and a DF ping
# over the overlay MTU from a workload with a larger MTU gets ICMP "Frag needed" back.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../../scripts/lib/netns.sh
source "$here/../../scripts/lib/netns.sh"
# shellcheck source=SCRIPTDIR/lib_weft.sh
source "$here/lib_weft.sh"
command -v nc >/dev/null || fail "this test needs nc (apt-get install netcat-openbsd)"

harness_init dppcap
harness_add_hosts 3
weft_launch_first h1 --capture pcap >/dev/null || fail "weft launch on h1 failed"
weft_launch_join h2 h1 --capture pcap >/dev/null || fail "weft launch on h2 failed"
weft_launch_join h3 h1 --capture pcap >/dev/null || fail "weft launch on h3 failed"
wait_for "a full mesh" 20 weft_full_mesh h1 h2 h3 || fail "no full mesh"
for h in h1 h2 h3; do
  cap=$(weft_jq "$h" '.dataplane.capture') || fail "no data-plane status on $h"
  [[ $cap == *pcap* ]] || fail "$h captures with '$cap', not pcap"
done
pass "three routers capture with pcap ($cap)"

declare -A wns wip
for n in 1 2 3; do
  wns[w$n]="$(host_ns "h$n")-w"
  wip[w$n]="10.32.$n.1"
  ip netns add "${wns[w$n]}" || fail "cannot create the namespace ${wns[w$n]}"
  weft_on "h$n" attach "${wip[w$n]}/12" "${wns[w$n]}" >/dev/null || fail "attach w$n on h$n failed"
done
wexec() { local w=$1; shift; ip netns exec "${wns[$w]}" "$@"; }

wait_for "w1 to reach w3" 10 wexec w1 ping -c1 -W1 -q "${wip[w3]}" || fail "w1 cannot ping w3"
for a in w1 w2 w3; do
  for b in w1 w2 w3; do
    [[ $a == "$b" ]] && continue
    wait_for "$a to ping $b" 5 wexec "$a" ping -c1 -W1 -q "${wip[$b]}" || fail "$a cannot ping $b"
  done
done
pass "all 6 workload pairs ping each other"

marker="tcp-$RANDOM$RANDOM"
out="$HARNESS_DIR/tcp.out"
: >"$out"
ip netns exec "${wns[w2]}" nc -l 5000 >"$out" 2>&1 </dev/null &
wait_for "nc to listen on TCP 5000 in w2" 5 bash -c "ip netns exec '${wns[w2]}' ss -Hltn | grep -q ':5000 '" ||
  fail "TCP listener did not start"
{ echo "$marker"; head -c 300000 /dev/urandom | base64; } >"$HARNESS_DIR/tcp.in"
wexec w1 nc -N -w5 "${wip[w2]}" 5000 <"$HARNESS_DIR/tcp.in" || fail "TCP connect w1 -> w2 failed"
wait_for "the TCP stream to arrive" 10 cmp -s "$HARNESS_DIR/tcp.in" "$out" ||
  fail "TCP stream w1 -> w2 did not arrive whole ($(stat -c %s "$out") of $(stat -c %s "$HARNESS_DIR/tcp.in") bytes)"
pass "a TCP connection w1 -> w2 carries 400 KB whole"

marker="udp-$RANDOM$RANDOM"
out="$HARNESS_DIR/udp.out"
: >"$out"
ip netns exec "${wns[w1]}" nc -u -l 5001 >"$out" 2>&1 </dev/null &
wait_for "nc to listen on UDP 5001 in w1" 5 bash -c "ip netns exec '${wns[w1]}' ss -Hlun | grep -q ':5001 '" ||
  fail "UDP listener did not start"
echo "$marker" | wexec w3 nc -u -w1 "${wip[w1]}" 5001 || fail "UDP send w3 -> w1 failed"
wait_for "the UDP message to arrive" 5 grep -qF "$marker" "$out" || fail "UDP message did not arrive: $(cat "$out")"
pass "a UDP datagram w3 -> w1 carries a message"

mtu=$(ip -n "${wns[w1]}" -j link show ethweft | jq -r '.[0].mtu')
[[ $mtu =~ ^[0-9]+$ ]] || fail "cannot read ethweft's MTU: $mtu"
wexec w1 ping -c3 -W1 -q -M "do" -s $((mtu - 28)) "${wip[w3]}" >/dev/null ||
  fail "a full-MTU ($mtu) DF ping w1 -> w3 does not cross"
pass "a full-MTU ($mtu) DF ping crosses"

# w2 raises its MTU (both veth ends): one byte over the overlay MTU gets "Frag needed".
weft_raise_workload_mtu h2 "${wns[w2]}" 9000
set +e
big=$(wexec w2 ping -c1 -W2 -M "do" -s $((mtu - 27)) "${wip[w3]}" 2>&1)
set -e
grep -q "Frag needed and DF set (mtu = $mtu)" <<<"$big" ||
  fail "a DF ping over the overlay MTU got no 'Frag needed ... (mtu = $mtu)': $big"
pass "a DF ping over the overlay MTU: $(grep -m1 'Frag needed' <<<"$big")"
