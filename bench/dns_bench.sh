#!/usr/bin/env bash
# DNS benchmark (not a test): queries per second and latency with dnsperf, weft's DNS server
# (the DnsServer adapter alone, build/tests/dns_server_testd) beside dnsmasq, in the same run.
#   cluster: 100 names, from weft's zone / from dnsmasq's hosts file
#   forward: 100 other names, forwarded by each to the same upstream dnsmasq (the forwarding
#            dnsmasq runs with --cache-size=0, so it forwards every query as weft does)
# Everything runs in one network namespace this script creates (loopback addresses only).
#   sudo bench/dns_bench.sh            DURATION=10 (seconds per run), CLIENTS=4, OUTSTANDING=64
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${WEFT_BIN_DIR:-$root/build}/tests/dns_server_testd
duration=${DURATION:-10}
clients=${CLIENTS:-4}
outstanding=${OUTSTANDING:-64}
for t in dnsperf dnsmasq; do
  command -v $t >/dev/null || { echo "$t is not installed (apt-get install ${t/dnsmasq/dnsmasq-base})" >&2; exit 1; }
done
[[ -x $bin ]] || { echo "$bin not built (ninja -C build dns_server_testd)" >&2; exit 1; }

ns=wdnsbench-$$-$RANDOM
dir=$(mktemp -d)
cleanup() {
  ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
ip netns add "$ns"
ip -n "$ns" link set lo up
in_ns() { ip netns exec "$ns" "$@"; }

records=()
for i in $(seq 1 100); do
  a="10.32.$((i / 250)).$((i % 250 + 1))"
  echo "$a name$i.weft.local" >>"$dir/cluster.hosts"
  echo "192.0.2.$i fwd$i.test" >>"$dir/upstream.hosts"
  echo "name$i.weft.local A" >>"$dir/cluster.queries"
  echo "fwd$i.test A" >>"$dir/forward.queries"
  records+=(--record "name$i=$a")
done

# 127.0.0.3: the upstream; 127.0.0.2: dnsmasq under test; 127.0.0.1: weft.
in_ns dnsmasq --keep-in-foreground --no-resolv --no-hosts --addn-hosts="$dir/upstream.hosts" \
  --listen-address=127.0.0.3 --bind-interfaces --user=root --pid-file="$dir/up.pid" &
in_ns dnsmasq --keep-in-foreground --no-resolv --no-hosts --addn-hosts="$dir/cluster.hosts" \
  --server=127.0.0.3 --cache-size=0 --listen-address=127.0.0.2 --bind-interfaces --user=root \
  --pid-file="$dir/dm.pid" &
in_ns "$bin" --listen 127.0.0.1:53 --http 127.0.0.1:$((20000 + RANDOM % 20000)) \
  --upstream 127.0.0.3 "${records[@]}" >"$dir/weft.out" 2>&1 &
ready() { in_ns dig +short +tries=1 +timeout=1 @"$1" "$2" | grep -q .; }
for i in $(seq 1 50); do
  ready 127.0.0.1 name1.weft.local && ready 127.0.0.2 name1.weft.local &&
    ready 127.0.0.2 fwd1.test && break
  [[ $i == 50 ]] && { echo "servers did not come up: $(cat "$dir/weft.out")" >&2; exit 1; }
  sleep 0.1
done

run() { # SERVER QUERIES -> "qps avg_ms lost"
  local out
  out=$(in_ns dnsperf -s "$1" -d "$2" -l "$duration" -c "$clients" -q "$outstanding" 2>&1)
  awk '/Queries per second:/ { q = $4 } /Average Latency/ { l = $4 * 1000 }
       /Queries lost:/ { lost = $3 } END { printf "%.0f %.3f %s\n", q, l, lost }' <<<"$out"
}
printf '| %-8s | %-7s | %10s | %14s | %6s |\n' workload server qps "avg latency ms" lost
printf '|----------|---------|-----------:|---------------:|-------:|\n'
for w in cluster forward; do
  for s in weft dnsmasq; do
    addr=127.0.0.1
    [[ $s == dnsmasq ]] && addr=127.0.0.2
    read -r qps lat lost < <(run "$addr" "$dir/$w.queries")
    printf '| %-8s | %-7s | %10s | %14s | %6s |\n' "$w" "$s" "$qps" "$lat" "$lost"
  done
done
