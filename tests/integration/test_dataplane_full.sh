#!/usr/bin/env bash
# Three hosts with two workloads each: every workload pings every other through the data plane,
# TCP and UDP carry a message between workloads on different hosts, a full-MTU DF packet crosses,
# and a DF packet one byte over the MTU gets weft's ICMP "Frag needed" instead of vanishing.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../../scripts/lib/netns.sh
source "$here/../../scripts/lib/netns.sh"
# shellcheck source=SCRIPTDIR/lib_weft.sh
source "$here/lib_weft.sh"
command -v nc >/dev/null || fail "this test needs nc (apt-get install netcat-openbsd)"

harness_init dpfull
harness_add_hosts 3
weft_launch_first h1 >/dev/null || fail "weft launch on h1 failed"
weft_launch_join h2 h1 >/dev/null || fail "weft launch on h2 failed"
weft_launch_join h3 h1 >/dev/null || fail "weft launch on h3 failed"
wait_for "a full mesh" 20 weft_full_mesh h1 h2 h3 || fail "no full mesh"

# Workloads hN-a = 10.32.N.1, hN-b = 10.32.N.2, namespaces named after the run (cleaned up with it).
declare -A wl_ns wl_ip
wls=()
for n in 1 2 3; do
  for k in 1 2; do
    w="h$n-$k"
    wl_ns[$w]="$(host_ns "h$n")-w$k"
    wl_ip[$w]="10.32.$n.$k"
    wls+=("$w")
    ip netns add "${wl_ns[$w]}" || fail "cannot create the namespace ${wl_ns[$w]}"
    weft_on "h$n" attach "${wl_ip[$w]}/12" "${wl_ns[$w]}" >/dev/null || fail "attach $w on h$n failed"
  done
done
wexec() { local w=$1; shift; ip netns exec "${wl_ns[$w]}" "$@"; }

t0=$(weft_now_ms)
wait_for "h1-1 to reach h3-2" 10 wexec h1-1 ping -c1 -W1 -q 10.32.3.2 || fail "h1-1 cannot ping h3-2"
for a in "${wls[@]}"; do
  for b in "${wls[@]}"; do
    [[ $a == "$b" ]] && continue
    wait_for "$a to ping $b" 5 wexec "$a" ping -c1 -W1 -q "${wl_ip[$b]}" ||
      fail "workload $a (${wl_ip[$a]}) cannot ping $b (${wl_ip[$b]})"
  done
done
pass "all 30 workload pairs ping each other ($(($(weft_now_ms) - t0)) ms)"

# TCP: h1-1 -> h2-2.
marker="tcp-$RANDOM$RANDOM"
out="$HARNESS_DIR/tcp.out"
: >"$out"
ip netns exec "${wl_ns[h2-2]}" nc -l 5000 >"$out" 2>&1 </dev/null &
wait_for "nc to listen on TCP 5000 in h2-2" 5 bash -c "ip netns exec '${wl_ns[h2-2]}' ss -Hltn | grep -q ':5000 '" ||
  fail "TCP listener did not start"
echo "$marker" | wexec h1-1 nc -N -w3 10.32.2.2 5000 || fail "TCP connect h1-1 -> h2-2 failed"
wait_for "the TCP message to arrive" 5 grep -qF "$marker" "$out" || fail "TCP message did not arrive: $(cat "$out")"
pass "a TCP connection h1-1 -> h2-2 carries a message"

# UDP: h3-1 -> h1-2.
marker="udp-$RANDOM$RANDOM"
out="$HARNESS_DIR/udp.out"
: >"$out"
ip netns exec "${wl_ns[h1-2]}" nc -u -l 5001 >"$out" 2>&1 </dev/null &
wait_for "nc to listen on UDP 5001 in h1-2" 5 bash -c "ip netns exec '${wl_ns[h1-2]}' ss -Hlun | grep -q ':5001 '" ||
  fail "UDP listener did not start"
echo "$marker" | wexec h3-1 nc -u -w1 10.32.1.2 5001 || fail "UDP send h3-1 -> h1-2 failed"
wait_for "the UDP message to arrive" 5 grep -qF "$marker" "$out" || fail "UDP message did not arrive: $(cat "$out")"
pass "a UDP datagram h3-1 -> h1-2 carries a message"

# MTU: the full overlay MTU with DF crosses; one byte more fails loudly.
mtu=$(ip -n "${wl_ns[h1-1]}" -j link show ethweft | jq -r '.[0].mtu')
[[ $mtu =~ ^[0-9]+$ ]] || fail "cannot read ethweft's MTU: $mtu"
wexec h1-1 ping -c3 -W1 -q -M "do" -s $((mtu - 28)) 10.32.3.1 >/dev/null ||
  fail "a full-MTU ($mtu) DF ping h1-1 -> h3-1 does not cross"
pass "a full-MTU ($mtu) DF ping crosses"
# One byte over: weft must answer with ICMP "Frag needed" carrying the overlay MTU. The workload's
# own kernel would refuse the packet before weft saw it (ethweft has the overlay MTU), so h1-1's
# veth first gets a larger MTU, as a workload attached with its own MTU would have.
weft_raise_workload_mtu h1 "${wl_ns[h1-1]}" 9000
set +e
big=$(wexec h1-1 ping -c1 -W2 -M "do" -s $((mtu - 27)) 10.32.3.1 2>&1)
set -e
grep -q "Frag needed and DF set (mtu = $mtu)" <<<"$big" ||
  fail "a DF ping one byte over the overlay MTU got no 'Frag needed ... (mtu = $mtu)' from weft: $big"
pass "a DF ping one byte over the MTU fails with weft's error: $(grep -m1 'Frag needed' <<<"$big")"
