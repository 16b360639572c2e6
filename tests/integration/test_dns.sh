#!/usr/bin/env bash
# weft DNS in the router (issue 11), on 3 hosts with real clients inside workload namespaces:
# `weft attach` writes the workload's resolv.conf (the host's DNS address, the search path);
# names across hosts and namespaces (getent through the search path, ping by name), rotation,
# PTR, NXDOMAIN, NODATA for AAAA, TCP fallback for a name with 100 addresses, forwarding to a
# real dnsmasq on a 4th host and SERVFAIL within a bounded time once it is down, a router whose
# only upstream is itself answering SERVFAIL without forwarding, detach removing the name on
# every host within 2 s, rmpeer likewise, a dns-add surviving kill -9, DNS following the host's
# overlay address, reset removing the resolv.conf files. The DNS adapter's own details (malformed
# queries, TCP retry upstream, resolv.conf re-read) are in test_dns_server.sh.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../../scripts/lib/netns.sh
source "$here/../../scripts/lib/netns.sh"
# shellcheck source=SCRIPTDIR/lib_weft.sh
source "$here/lib_weft.sh"
command -v dnsmasq >/dev/null || fail "dnsmasq not installed (apt-get install dnsmasq-base)"
command -v dig >/dev/null || fail "dig not installed (apt-get install bind9-dnsutils)"

harness_init dns
harness_add_hosts 4 # h4: the upstream resolver, no weft
h4=$(host_ip h4)
self3=10.47.255.1 # h3's overlay address, given before launch as its only upstream

# The upstream: dnsmasq on h4 with a name of its own.
up=$(host_dir h4)
echo "192.0.2.10 example.test" >"$up/hosts"
hspawn h4 "$up/dnsmasq.log" dnsmasq --keep-in-foreground --no-resolv --no-hosts \
  --addn-hosts="$up/hosts" --listen-address="$h4" --bind-interfaces --user=root \
  --pid-file="$up/dnsmasq.pid" --log-facility=-
dnsmasq_pid=$!

weft_launch_first h1 --dns-upstream="$h4" >/dev/null || fail "weft launch on h1 failed"
weft_launch_join h2 h1 --dns-upstream="$h4" >/dev/null || fail "weft launch on h2 failed"
weft_launch_join h3 h1 --dns-upstream="$self3" >/dev/null || fail "weft launch on h3 failed"
wait_for "a full mesh" 30 weft_full_mesh h1 h2 h3 || fail "no mesh"
weft_on h3 expose "$self3/12" >/dev/null || fail "weft expose $self3 on h3 failed"

# Workloads: web (default) on h1, web in namespace shop on h2, db on h2 and on h3.
w1="$(host_ns h1)-w1" w2="$(host_ns h2)-w2" w3="$(host_ns h3)-w3" w4="$(host_ns h2)-w4"
for w in "$w1" "$w2" "$w3" "$w4"; do ip netns add "$w" || fail "cannot create $w"; done
weft_on h1 attach --name web "$w1" >/dev/null || fail "attach web on h1"
weft_on h2 attach --name web --namespace shop "$w2" >/dev/null || fail "attach web.shop on h2"
weft_on h3 attach --name db "$w3" >/dev/null || fail "attach db on h3"
out=$(weft_on h2 attach --name db "$w4") || fail "attach db on h2: $out"
grep -q "DNS: nameserver" <<<"$out" || fail "attach did not report the DNS config: $out"
addr() { ip -n "$1" -4 -o addr show dev ethweft | awk '{ split($4, a, "/"); print a[1] }'; }
a1=$(addr "$w1") a2=$(addr "$w2") a3=$(addr "$w3") a4=$(addr "$w4")

# The resolver config attach wrote: the host's DNS address (its overlay address, given by
# attach on h1 and h2; h3's own), the search path of the workload's namespace.
dns_listen() { # hN: where hN's router serves DNS
  curl -s --unix-socket "$(host_datadir "$1")/api.sock" http://weft/dns/status | jq -r .listen
}
rc2=$(cat "/etc/netns/$w2/resolv.conf") || fail "no /etc/netns/$w2/resolv.conf"
ns2=$(dns_listen h2)
grep -qx "nameserver ${ns2%:53}" <<<"$rc2" || fail "$w2's nameserver is not h2's DNS ($ns2): $rc2"
grep -qx "search shop.weft.local weft.local" <<<"$rc2" || fail "$w2's search path: $rc2"
[[ $(dns_listen h3) == "$self3:53" ]] || fail "h3 does not serve DNS on its overlay address"
pass "attach wrote resolv.conf (nameserver $ns2 on h2, search shop.weft.local weft.local)"

# A --pid workload: weft leaves its files alone and says what to put in its resolv.conf.
w5="$(host_ns h3)-w5"
ip netns add "$w5" || fail "cannot create $w5"
ip netns exec "$w5" sleep 60 >/dev/null 2>&1 </dev/null & # killed by the cleanup (in $w5)
pid5=$!
in_w5() { [[ $(stat -Lc %i "/proc/$pid5/ns/net") == $(stat -Lc %i "/run/netns/$w5") ]]; }
wait_for "the --pid workload's process" 5 in_w5 || fail "no process in $w5"
out=$(weft_on h3 attach --name p5 --pid "$pid5") || fail "attach --pid: $out"
grep -q "give the process this resolv.conf.*nameserver $self3; search weft.local" <<<"$out" ||
  fail "attach --pid did not print the resolver lines: $out"
weft_on h3 detach --pid "$pid5" >/dev/null || fail "detach --pid"
pass "attach --pid prints the resolv.conf lines instead of writing them"

in_w() { ip netns exec "$@"; } # NETNS CMD...
q() { in_w "$1" dig +tries=1 +timeout=2 "${@:2}"; }
short() { q "$@" +short | sort | xargs; }
getent1() { in_w "$1" getent hosts "$2" | awk '{ print $1 }'; }

# Names across hosts and namespaces, through each workload's search path (glibc, as apps do).
names_ok() {
  weft_expect "w1 web" "$(getent1 "$w1" web)" "$a1" &&
    weft_expect "w1 web.shop" "$(getent1 "$w1" web.shop)" "$a2" &&
    weft_expect "w2 web" "$(getent1 "$w2" web)" "$a2" &&
    weft_expect "w2 web.weft.local" "$(getent1 "$w2" web.weft.local)" "$a1" &&
    weft_expect "w3 db" "$(in_w "$w3" getent ahostsv4 db | awk '{ print $1 }' | sort -u | xargs)" \
      "$(printf '%s\n' "$a3" "$a4" | sort | xargs)"
}
wait_for "names on every host" 2 names_ok || fail "names do not resolve across hosts"
wait_for "ping web.shop from w1" 10 in_w "$w1" ping -c1 -W1 -q web.shop >/dev/null ||
  fail "ping web.shop from $w1 (h1) to $w2 (h2) failed"
pass "getent web / web.shop / db through the search path on 3 hosts; ping web.shop across hosts"

# Rotation: both of db's addresses come first in turn.
firsts=$(for _ in 1 2 3 4; do q "$w1" +short db.weft.local | head -1; done | sort -u | xargs)
[[ $firsts == "$(printf '%s\n' "$a3" "$a4" | sort | xargs)" ]] || fail "no rotation: $firsts"
[[ $(short "$w1" -x "$a2") == "web.shop.weft.local." ]] || fail "PTR $a2: $(short "$w1" -x "$a2")"
nx=$(q "$w1" nope.weft.local)
grep -q "status: NXDOMAIN" <<<"$nx" || fail "no NXDOMAIN: $nx"
aaaa=$(q "$w1" AAAA web.weft.local)
{ grep -q "status: NOERROR" <<<"$aaaa" && grep -q "ANSWER: 0," <<<"$aaaa"; } || fail "AAAA: $aaaa"
ttl=$(q "$w1" +noall +answer web.shop.weft.local | awk '{ print $2 }')
[[ $ttl == 1 ]] || fail "TTL of web.shop.weft.local is '$ttl', not the default 1 s"
pass "rotation, PTR, NXDOMAIN, NODATA for AAAA, TTL 1 s"

# 100 addresses added on h2: too many for 512 bytes, so TC, and dig's TCP retry gets them all.
many=$(for i in $(seq 1 100); do echo "10.46.0.$i"; done)
# shellcheck disable=SC2086 # one address per word
weft_on h2 dns-add $many many >/dev/null || fail "dns-add of 100 addresses"
all_many() { [[ $(q "$w1" +noedns +short many.weft.local | wc -l) == 100 ]]; }
wait_for "100 addresses of many on h1" 2 all_many || fail "no TCP fallback for many.weft.local"
grep -q "flags: qr aa tc" <<<"$(q "$w1" +noedns +ignore many.weft.local)" || fail "no TC at 512"
pass "a name with 100 addresses: TC over UDP, all of them over TCP"

# Forwarding to dnsmasq on h4; h3's only upstream is itself: skipped, SERVFAIL, nothing sent.
[[ $(short "$w1" example.test) == 192.0.2.10 ]] || fail "example.test not forwarded"
wait_for "h3's log to skip its own address" 5 weft_log_has h3 "not forwarding to $self3:53" ||
  fail "h3 did not skip itself as upstream"
grep -q "status: SERVFAIL" <<<"$(q "$w3" example.test)" || fail "h3 (upstream itself): no SERVFAIL"
[[ $(weft_metric h3 weft_dns_forwarded_total) == 0 ]] || fail "h3 forwarded to itself"
pass "forwarding to dnsmasq; a router pointed at itself skips itself and answers SERVFAIL"

kill "$dnsmasq_pid"
wait_for "dnsmasq to stop" 5 weft_pid_gone "$dnsmasq_pid" || fail "dnsmasq did not stop"
t0=$(weft_now_ms)
sf=$(q "$w2" +timeout=5 example.test)
ms=$(($(weft_now_ms) - t0))
grep -q "status: SERVFAIL" <<<"$sf" || fail "no SERVFAIL with dnsmasq down: $sf"
((ms < 3000)) || fail "SERVFAIL took $ms ms"
pass "SERVFAIL after $ms ms with the upstream down"

# Detach: web (h1's) leaves every host's DNS within 2 s, and the resolv.conf goes.
web_gone() {
  local h
  for h in h1 h2 h3; do
    hexec "$h" dig +tries=1 +timeout=1 "@$(dns_listen "$h" | cut -d: -f1)" web.weft.local |
      grep -q "status: NXDOMAIN" || { echo "$h still answers web" && return 1; }
  done
}
for h in h1 h2 h3; do # positive control: every host answers it now
  [[ $(hexec "$h" dig +short "@$(dns_listen "$h" | cut -d: -f1)" web.weft.local) == "$a1" ]] ||
    fail "$h does not answer web.weft.local before the detach"
done
t0=$(weft_now_ms)
weft_on h1 detach "$w1" >/dev/null || fail "detach $w1"
wait_for "web gone on every host" 2 web_gone || fail "web.weft.local stayed after detach"
pass "detach on h1: web.weft.local NXDOMAIN on all 3 hosts after $(($(weft_now_ms) - t0)) ms"
[[ ! -e /etc/netns/$w1 ]] || fail "detach left /etc/netns/$w1"

# A dns-add survives kill -9 of the router it was added on.
weft_on h1 dns-add 10.46.1.1 hand >/dev/null || fail "dns-add hand"
grep -q '"hand|10.46.1.1"' "$(host_datadir h1)/state.json" || fail "hand is not in h1's state.json"
kill -KILL "$(weft_router_pid h1)"
wait_for "h1's router to die" 5 bash -c "! curl -s --unix-socket $(host_datadir h1)/api.sock http://weft/status" ||
  fail "h1's router still answers"
weft_on h1 launch --dns-upstream="$h4" >/dev/null || fail "relaunch on h1 failed"
[[ $(weft_on h1 dns-lookup hand) == 10.46.1.1 ]] || fail "h1 lost hand after kill -9"
hand_dns() { [[ $(hexec h1 dig +short "@$(dns_listen h1 | cut -d: -f1)" hand.weft.local) == 10.46.1.1 ]]; }
wait_for "h1's DNS to answer hand" 3 hand_dns || fail "h1's DNS does not answer hand after kill -9"
(($(weft_metric h1 'weft_dns_queries_total{transport="udp"}') >= 1)) || fail "no DNS counters"
pass "dns-add survives kill -9 (answered by h1's DNS after the relaunch); /metrics counts queries"

# The router follows the host's overlay address: hide stops DNS, a new address serves it again.
weft_on h2 hide >/dev/null || fail "hide on h2"
wait_for "h2's DNS to stop with its address" 3 bash -c "[[ -z \$(curl -s --unix-socket $(host_datadir h2)/api.sock http://weft/dns/status | jq -r .listen) ]]" ||
  fail "h2 still serves DNS without an overlay address"
weft_on h2 expose 10.46.2.2/12 >/dev/null || fail "expose 10.46.2.2 on h2"
rebound() { [[ $(hexec h2 dig +short +tries=1 +timeout=1 @10.46.2.2 db.weft.local | wc -l) == 2 ]]; }
wait_for "h2's DNS on 10.46.2.2" 3 rebound || fail "h2's DNS did not follow its new address"
pass "DNS follows the host's overlay address (hide, expose another)"

# rmpeer: the names of a host removed for good go on every other host (db keeps h2's address).
weft_on h3 stop >/dev/null || fail "weft stop on h3"
wait_for "h1 to see h3 gone" 20 weft_not_reachable h1 h3 || fail "h1 still reaches h3"
[[ $(weft_on h1 dns-lookup db | xargs) == "$(printf '%s\n' "$a3" "$a4" | sort | xargs)" ]] ||
  fail "db lost h3's address before rmpeer" # positive control: stopping h3 is not enough
weft_on h1 rmpeer --force h3 >/dev/null 2>&1 || fail "rmpeer --force h3"
db_h2_only() {
  weft_expect "db on h1" "$(hexec h1 dig +short "@$(dns_listen h1 | cut -d: -f1)" db.weft.local)" "$a4" &&
    weft_expect "db on h2" "$(weft_on h2 dns-lookup db)" "$a4"
}
wait_for "db without h3's address" 2 db_h2_only || fail "h3's workload stayed in DNS after rmpeer"
pass "rmpeer of h3: its workload's address leaves db on h1 and h2"

# weft reset removes what attach wrote for the host's workloads.
[[ -e /etc/netns/$w2/resolv.conf && -e /etc/netns/$w4/resolv.conf ]] || fail "h2's workloads lack resolv.conf"
weft_on h2 reset >/dev/null || fail "weft reset on h2"
[[ ! -e /etc/netns/$w2 && ! -e /etc/netns/$w4 ]] || fail "weft reset left /etc/netns/$w2 or $w4"
pass "weft reset removes the workloads' resolv.conf"
