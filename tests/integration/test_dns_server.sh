#!/usr/bin/env bash
# The DNS adapter alone (no router): dns_server_testd on h1 serves a zone, real dig queries it
# over UDP and TCP, and names outside the zone go to a real dnsmasq on h2. Shows: A with
# rotation, namespaces, PTR, NXDOMAIN with SOA, NODATA for AAAA, TC and TCP fallback for 100
# addresses (and no TC with +bufsize), forwarding incl. TCP retry of a truncated upstream reply,
# resolv.conf re-read on change with our own address skipped, loop refusal, SERVFAIL within a
# bounded time when dnsmasq is down, malformed datagrams survived, /dns/lookup and /metrics.
# The router's DNS (zone from the cluster state, workloads' resolv.conf, 3 hosts) is
# test_dns.sh.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../../scripts/lib/netns.sh
source "$here/../../scripts/lib/netns.sh"
testd="$WEFT_BIN_DIR/tests/dns_server_testd"
[[ -x $testd ]] || fail "$testd not built (ninja -C build dns_server_testd)"
command -v dnsmasq >/dev/null || fail "dnsmasq not installed (apt-get install dnsmasq-base)"

harness_init dns
harness_add_hosts 2
h1=$(host_ip h1)
h2=$(host_ip h2)

# Upstream: dnsmasq on h2 with a name of its own and one too big for a UDP answer.
up=$(host_dir h2)
{
  echo "192.0.2.10 example.test"
  for i in $(seq 1 100); do echo "192.0.2.$i big.test"; done
} >"$up/hosts"
start_dnsmasq() {
  hspawn h2 "$up/dnsmasq.log" dnsmasq --keep-in-foreground --no-resolv --no-hosts \
    --addn-hosts="$up/hosts" --listen-address="$h2" --bind-interfaces --user=root \
    --pid-file="$up/dnsmasq.pid" --log-facility=-
  dnsmasq_pid=$!
}
start_dnsmasq
wait_for "dnsmasq on h2" 10 hexec h1 dig +short +tries=1 +timeout=1 @"$h2" example.test ||
  fail "dnsmasq did not answer"

# The server on h1; resolv.conf names h1 itself first (must be skipped) and a dead address.
rc=$(host_dir h1)/resolv.conf
printf 'nameserver %s\nnameserver 127.0.0.1\n' "$h1" >"$rc"
out=$(host_dir h1)/testd.out
hspawn h1 "$out" "$testd" --listen "$h1:53" --http "127.0.0.1:$((20000 + RANDOM % 20000))" --resolv-conf "$rc" --poll-ms 200 \
  --api-socket "$(host_datadir h1)/api.sock" \
  --record web=10.32.0.2,10.32.0.3 --record web.shop=10.32.0.4 --many many=100
wait_for "the DNS server" 10 grep -q '^ready' "$out" || fail "testd did not start: $(cat "$out")"
http=$(awk '/^ready/ { print $4 }' "$out")
grep -q "not forwarding to $h1:53: a weft DNS server itself" "$out" || fail "own address not skipped"

q() { hexec h1 dig @"$h1" +tries=1 +timeout=3 "$@"; }
short() { q +short "$@" | sort | xargs; }

[[ $(short web.weft.local) == "10.32.0.2 10.32.0.3" ]] || fail "web: $(short web.weft.local)"
first=$(q +short web.weft.local | head -1)
second=$(q +short web.weft.local | head -1)
[[ $first != "$second" ]] || fail "no rotation: $first twice"
[[ $(short WEB.Shop.weft.local) == "10.32.0.4" ]] || fail "web.shop"
[[ $(short -x 10.32.0.4) == "web.shop.weft.local." ]] || fail "PTR: $(short -x 10.32.0.4)"
nx=$(q nope.weft.local)
grep -q "status: NXDOMAIN" <<<"$nx" || fail "no NXDOMAIN: $nx"
grep -q "AUTHORITY: 1" <<<"$nx" || fail "no SOA with NXDOMAIN: $nx"
aaaa=$(q AAAA web.weft.local)
grep -q "status: NOERROR" <<<"$aaaa" && grep -q "ANSWER: 0" <<<"$aaaa" || fail "AAAA: $aaaa"
[[ $(q +tcp +short web.weft.local | wc -l) == 2 ]] || fail "TCP"
pass "cluster names: A, rotation, namespaces, PTR, NXDOMAIN+SOA, NODATA, TCP"

tc=$(q +noedns +ignore many.weft.local)
grep -q "flags: qr aa tc" <<<"$tc" || fail "100 addresses without TC: $tc"
[[ $(q +noedns +short many.weft.local | wc -l) == 100 ]] || fail "dig's TCP fallback"
big=$(q +bufsize=4096 +ignore many.weft.local)
grep -q "flags: qr aa rd ra;" <<<"$big" && grep -q "ANSWER: 100" <<<"$big" || fail "EDNS 4096: $big"
pass "100 addresses: TC at 512, all over TCP, all in one UDP answer with EDNS 4096"

# Nothing usable upstream yet (h1 itself skipped, 127.0.0.1 answers nothing): SERVFAIL.
grep -q "status: SERVFAIL" <<<"$(q example.test)" || fail "no SERVFAIL without upstream"
printf 'nameserver %s\n' "$h2" >"$rc"
forwarded() { [[ $(short example.test) == 192.0.2.10 ]]; }
wait_for "resolv.conf re-read" 10 forwarded ||
  fail "not forwarded after resolv.conf changed"
[[ $(q +short big.test | wc -l) == 100 ]] || fail "big.test over TCP"
weft_metric() { hexec h1 curl -s "http://$http/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
(($(weft_metric weft_dns_tcp_retries_total) >= 1)) || fail "no TCP retry upstream"
loop=$(q +ednsopt=65283:77656674 example.test)
grep -q "status: SERVFAIL" <<<"$loop" || fail "a query marked as forwarded by weft was forwarded"
(($(weft_metric weft_dns_loops_refused_total) == 1)) || fail "loop not counted"
pass "forwarding to dnsmasq, TCP retry, resolv.conf re-read, loop refusal"

for i in 1 2 3; do hexec h1 bash -c "printf 'garbage$i' >/dev/udp/$h1/53"; done
hexec h1 bash -c "printf '\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\xc0\x0c\x00\x01\x00\x01' >/dev/udp/$h1/53"
[[ $(short web.weft.local) == "10.32.0.2 10.32.0.3" ]] || fail "server gone after garbage"
(($(weft_metric weft_dns_dropped_total) == 3)) || fail "garbage not counted"
(($(weft_metric 'weft_dns_answers_total{rcode="FORMERR"}') == 1)) || fail "pointer loop: no FORMERR"
pass "malformed datagrams dropped or answered FORMERR"

# The CLI verbs, against the stand-in routes (the router keeps these records in its cluster state).
cli() { hexec h1 "$WEFT" --datadir "$(host_datadir h1)" "$@"; }
cli dns-add 10.32.0.9 10.32.0.8/12 hand | grep -q "Added 10.32.0.9, 10.32.0.8 to hand" || fail "dns-add"
[[ $(short hand.weft.local) == "10.32.0.8 10.32.0.9" ]] || fail "dig after dns-add"
[[ $(cli dns-lookup hand | xargs) == "10.32.0.8 10.32.0.9" ]] || fail "dns-lookup"
cli dns-remove 10.32.0.9 10.32.0.8 hand.weft.local. >/dev/null || fail "dns-remove"
grep -q "status: NXDOMAIN" <<<"$(q hand.weft.local)" || fail "hand still answered after dns-remove"
err=$(cli dns-lookup hand 2>&1) && fail "dns-lookup of a removed name succeeded"
grep -q "has no addresses in weft DNS" <<<"$err" || fail "dns-lookup message: $err"
err=$(cli dns-add web 2>&1) && fail "dns-add without an address succeeded"
pass "weft dns-add, dns-lookup, dns-remove"

kill "$dnsmasq_pid"
wait_for "dnsmasq to stop" 5 bash -c "! kill -0 $dnsmasq_pid 2>/dev/null"
t0=$(date +%s%N)
grep -q "status: SERVFAIL" <<<"$(q +timeout=5 example.test)" || fail "no SERVFAIL with dnsmasq down"
ms=$((($(date +%s%N) - t0) / 1000000))
((ms < 3000)) || fail "SERVFAIL took ${ms} ms"
pass "SERVFAIL after ${ms} ms with the upstream down"

# Two weft resolvers pointed at each other (h1 -> h2 -> h1): the query h1 forwards carries the
# weft option, so h2 answers SERVFAIL instead of forwarding it back. One hop, no loop.
out2=$(host_dir h2)/testd.out
http2="127.0.0.1:$((20000 + RANDOM % 20000))"
hspawn h2 "$out2" "$testd" --listen "$h2:53" --http "$http2" --upstream "$h1"
wait_for "the second DNS server" 10 grep -q '^ready' "$out2" || fail "testd on h2: $(cat "$out2")"
printf 'nameserver %s\n' "$h2" >"$rc"
wait_for "h1 to forward to h2" 10 grep -q "upstream servers now $h2:53" "$out" || fail "no re-read"
forwarded_before=$(weft_metric weft_dns_forwarded_total)
t0=$(date +%s%N)
grep -q "status: SERVFAIL" <<<"$(q +timeout=5 loop.example)" || fail "loop: no SERVFAIL"
ms=$((($(date +%s%N) - t0) / 1000000))
loops2=$(hexec h2 curl -s "http://$http2/metrics" | awk '$1 == "weft_dns_loops_refused_total" { print $2 }')
((loops2 == 1)) || fail "h2 did not refuse the forwarded query ($loops2)"
(($(weft_metric weft_dns_forwarded_total) == forwarded_before + 1)) || fail "h1 forwarded more than once"
pass "two resolvers pointed at each other: SERVFAIL after ${ms} ms, one forward, no loop"

lookup=$(hexec h1 curl -s "http://$http/dns/lookup?name=web")
[[ $(jq -c . <<<"$lookup") == '{"addresses":["10.32.0.2","10.32.0.3"],"name":"web.weft.local."}' ]] ||
  fail "lookup: $lookup"
[[ $(hexec h1 curl -s -o /dev/null -w '%{http_code}' "http://$http/dns/lookup?name=bad!") == 400 ]] ||
  fail "bad name not refused"
grep -q 'weft_dns_forward_latency_seconds_count' <<<"$(hexec h1 curl -s "http://$http/metrics")" ||
  fail "no latency histogram"
pass "/dns/lookup and /metrics"
