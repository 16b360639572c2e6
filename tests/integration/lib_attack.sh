# shellcheck shell=bash
# Helpers for the attack tests (tests/integration/test_attack_*.sh), after lib_weft.sh.

# attack_mbps NS DST SECONDS: Mbit/s received by one iperf3 TCP stream from NS to DST (an
# iperf3 server must listen there).
attack_mbps() {
  local j
  j=$(ip netns exec "$1" iperf3 -c "$2" -t "$3" -J) || return 1
  jq -r '.end.sum_received.bits_per_second / 1e6 | floor' <<<"$j"
}

# attack_iperf3_server NS: starts `iperf3 -s` in NS and waits until it listens.
attack_iperf3_server() {
  local ns=$1
  ip netns exec "$ns" iperf3 -s >"$HARNESS_DIR/iperf3-server.$ns.log" 2>&1 </dev/null &
  attack__listens() { ip netns exec "$ns" ss -Hltn sport = :5201 | grep -q .; }
  wait_for "iperf3 to listen in $ns" 10 attack__listens || fail "iperf3 server did not start in $ns"
}

# attack_guard_count hN PREFIX: packets counted by hN's port-guard counters PREFIX_* (spoof or
# flood) in the nftables table `bridge weft`.
attack_guard_count() {
  hexec "$1" nft list counters table bridge weft |
    awk -v p="counter $2_" 'index($0, p) { c = 1 } c && /packets/ { s += $2; c = 0 } END { print s + 0 }'
}
