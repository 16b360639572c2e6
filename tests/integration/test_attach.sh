#!/usr/bin/env bash
# The host side of the overlay on one host: `weft launch` makes the bridge weft (overlay MTU, no
# IPv6 router advertisements); `weft attach` puts workloads (network namespaces, by name or by
# pid) on it, announced by gratuitous ARP, and they ping each other through the bridge; refused
# attaches change nothing, and one failing midway is undone; `weft ps`, `detach` (also of a
# workload whose namespace is gone), `expose`/`hide`; `weft stop` keeps it all, `weft reset`
# removes it.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../../scripts/lib/netns.sh
source "$here/../../scripts/lib/netns.sh"
# shellcheck source=SCRIPTDIR/lib_weft.sh
source "$here/lib_weft.sh"
command -v tcpdump >/dev/null || fail "this test needs tcpdump (apt-get install tcpdump)"

harness_init attach
harness_add_hosts 1
# Workloads are network namespaces of their own, named after h1 so that the harness's cleanup
# (which deletes every namespace whose name starts with the run id) removes them too.
w1="$(host_ns h1)-w1"
w2="$(host_ns h1)-w2"
w3="$(host_ns h1)-w3"
w4="$(host_ns h1)-w4"
for w in "$w1" "$w2" "$w3" "$w4"; do
  ip netns add "$w" || fail "cannot create the workload namespace $w"
  ip -n "$w" link set lo up
done

# expect_error WANT CMD...: CMD fails with exit status 1, prints nothing on stdout and WANT (a
# fixed string) on stderr.
expect_error() {
  local want=$1 out rc=0
  shift
  out=$("$@" 2>"$HARNESS_DIR/stderr") || rc=$?
  local err
  err=$(cat "$HARNESS_DIR/stderr")
  ((rc == 1)) || fail "'${*: -3}' exited with $rc (want 1): $out $err"
  [[ -z $out ]] || fail "'${*: -3}' printed on stdout: $out"
  [[ $err == *"$want"* ]] || fail "'${*: -3}' did not say '$want' but: $err"
}
links_h1() { hexec h1 ip -o link show | wc -l; }
links_in() { ip -n "$1" -o link show | wc -l; }
sysctl_h1() { hexec h1 cat "/proc/sys/net/ipv6/conf/$1/$2"; }
weft_veths() { hexec h1 ip -j link show | jq -r '.[].ifname | select(test("^vethwe[0-9a-f]{8}$"))'; }
# veth_count_is N: h1 has exactly N workload veths (re-counted on every call, for wait_for).
veth_count_is() {
  local n
  n=$(weft_veths | wc -l)
  echo "h1 has $n workload veths (want $1)"
  ((n == $1))
}
in_netns() { [[ $(ip netns identify "$1" 2>/dev/null) == "$2" ]]; }
mtu_in() { ip -n "$1" -j link show ethweft | jq -r '.[0].mtu'; }
mac_in() { ip -n "$1" -j link show ethweft | jq -r '.[0].address'; }
addrs_in() { ip -n "$1" -j -4 addr show ethweft | jq -r '[.[0].addr_info[] | "\(.local)/\(.prefixlen)"] | join(" ")'; }

# Attaching needs the router.
expect_error "weft is not running on this host" weft_on h1 attach 10.32.1.1/12 "$w1"

# --no-dns: with DNS, the first attach gives the host an overlay address for the DNS server
# (test_dns.sh); here the host stays off the overlay until the expose checks below.
out=$(weft_launch_first h1 --no-dns 2>&1) || fail "weft launch failed: $out"
# 1500 (h1's eth0) less 103 bytes of weft overhead.
mtu=1397
[[ $out == *"Overlay ready: bridge weft created, MTU $mtu (1500 of eth0"* ]] ||
  fail "launch does not report the bridge and the MTU: $out"
kind=$(hexec h1 ip -d -j link show weft | jq -r '.[0].linkinfo.info_kind')
[[ $kind == bridge ]] || fail "no bridge weft on h1 (kind '$kind')"
[[ $(hexec h1 ip -j link show weft | jq -r '.[0].mtu') == "$mtu" ]] || fail "bridge MTU is not $mtu"
[[ $(hexec h1 ip -j link show weft | jq -r '.[0].operstate') != DOWN ]] || fail "bridge weft is down"
[[ $(sysctl_h1 weft accept_ra) == 0 && $(sysctl_h1 weft autoconf) == 0 ]] ||
  fail "IPv6 RA/autoconf still on for the bridge"
overlay=$(jq -c . "$(host_datadir h1)/overlay.json")
[[ $overlay == "{\"mtu\":$mtu,\"range\":\"10.32.0.0/12\"}" ]] || fail "overlay.json is $overlay"
pass "launch: bridge weft up, MTU $mtu, accept_ra=0 autoconf=0, overlay.json $overlay"

# Gratuitous ARPs show up on the bridge.
hspawn h1 "$HARNESS_DIR/arp.log" tcpdump -l -n -i weft arp
wait_for "tcpdump to listen" 10 grep -q "listening on" "$HARNESS_DIR/arp.log" || fail "no tcpdump"

out=$(weft_on h1 attach 10.32.1.1/12 "$w1") || fail "attach $w1 failed: $out"
mac1=$(mac_in "$w1")
[[ $out == "Attached $w1 (name $w1) to weft: ethweft has 10.32.1.1/12, MAC $mac1, MTU $mtu. "* ]] ||
  fail "attach $w1 says: $out"
out=$(weft_on h1 attach 10.32.1.2/24 --name web "$w2") || fail "attach $w2 failed: $out"
[[ $out == *"ethweft has 10.32.1.2/24"*", and a route for 10.32.0.0/12."* ]] ||
  fail "attach $w2 (a /24) does not report the overlay route: $out"
for w in "$w1" "$w2"; do
  [[ $(mtu_in "$w") == "$mtu" ]] || fail "ethweft in $w has MTU $(mtu_in "$w"), not $mtu"
  [[ $(ip netns exec "$w" cat /proc/sys/net/ipv6/conf/ethweft/accept_ra) == 0 ]] ||
    fail "ethweft in $w accepts router advertisements"
done
[[ $(addrs_in "$w1") == 10.32.1.1/12 && $(addrs_in "$w2") == 10.32.1.2/24 ]] ||
  fail "wrong addresses: $w1 '$(addrs_in "$w1")', $w2 '$(addrs_in "$w2")'"
ip -n "$w2" route show 10.32.0.0/12 | grep -q "dev ethweft" || fail "$w2 has no route for the range"
mapfile -t veths < <(weft_veths)
((${#veths[@]} == 2)) || fail "want 2 vethwe* on h1, got: ${veths[*]}"
for v in "${veths[@]}"; do
  [[ $(hexec h1 ip -j link show "$v" | jq -r '.[0].master') == weft ]] || fail "$v is not on weft"
  [[ $(sysctl_h1 "$v" accept_ra) == 0 ]] || fail "$v accepts router advertisements"
done
pass "two workloads attached: ethweft with their address, MTU $mtu, accept_ra=0; host ends on weft"

for ip in 10.32.1.1 10.32.1.2; do
  wait_for "a gratuitous ARP for $ip" 5 grep -q "Request who-has $ip tell $ip," "$HARNESS_DIR/arp.log" ||
    fail "no gratuitous ARP for $ip on the bridge: $(cat "$HARNESS_DIR/arp.log")"
done
pass "each address announced by a gratuitous ARP on the bridge"

ip netns exec "$w1" ping -c2 -W1 -q 10.32.1.2 >/dev/null || fail "$w1 cannot ping $w2"
ip netns exec "$w2" ping -c2 -W1 -q 10.32.1.1 >/dev/null || fail "$w2 cannot ping $w1"
# A full-size packet (MTU less IPv4 and ICMP headers) passes without fragmenting.
ip netns exec "$w1" ping -c1 -W1 -q -M "do" -s $((mtu - 28)) 10.32.1.2 >/dev/null ||
  fail "a full-MTU packet from $w1 does not reach $w2"
pass "the workloads ping each other through the bridge, full-MTU packets included"

ps_out=$(weft_on h1 ps) || fail "weft ps failed"
grep -Eq "^NETNS +NAMESPACE +NAME +MAC +IPS +LABELS$" <<<"$ps_out" || fail "weft ps has no header: $ps_out"
grep -Eq "^$w1 +default +$w1 +$mac1 +10.32.1.1/12 +-$" <<<"$ps_out" || fail "weft ps lacks $w1: $ps_out"
grep -Eq "^$w2 +default +web +$(mac_in "$w2") +10.32.1.2/24 +-$" <<<"$ps_out" || fail "weft ps lacks $w2: $ps_out"
names=$(weft_on h1 ps --json | jq -r '[.[] | "\(.name) \(.stale)"] | sort | join(",")')
[[ $names == "$w1 false,web false" ]] || fail "weft ps --json: $names"
pass "weft ps lists both (table and JSON)"

# Refusals change nothing: no interface on h1 or in the namespace, no record.
before_h1=$(links_h1)
before_w3=$(links_in "$w3")
expect_error "no network namespace named $(host_ns h1)-nope; \`ip netns list\` shows them" \
  weft_on h1 attach 10.32.1.3/12 "$(host_ns h1)-nope"
expect_error "10.32.1.1 is already used by the workload $w1" weft_on h1 attach 10.32.1.1/12 "$w3"
expect_error "the name web is already used in namespace default by the workload in netns $w2" \
  weft_on h1 attach 10.32.1.3/12 --name web "$w3"
expect_error "$w1 is already attached, named $w1 with 10.32.1.1/12" \
  weft_on h1 attach 10.32.1.3/12 "$w1"
expect_error "10.99.5.5/24 is outside the overlay range 10.32.0.0/12" \
  weft_on h1 attach 10.99.5.5/24 "$w3"
expect_error "\"10.32.1.300/12\" is not an IPv4 address with a prefix length" \
  weft_on h1 attach 10.32.1.300/12 "$w3"
ip -n "$w3" link add ethweft type veth peer name ethweft-peer
expect_error "$w3 already has an interface named ethweft" weft_on h1 attach 10.32.1.3/12 "$w3"
ip -n "$w3" link del ethweft
# A step failing midway: w3 already routes the overlay range elsewhere, so the route for a /24
# address cannot be added; the veth pair made before must be gone.
ip -n "$w3" link add other0 type veth peer name other1
ip -n "$w3" link set other0 up
ip -n "$w3" route add 10.32.0.0/12 dev other0
expect_error "Nothing was left behind: the half-made veth pair vethwe" \
  weft_on h1 attach 10.32.1.3/24 "$w3"
ip -n "$w3" link del other0
[[ $(links_h1) == "$before_h1" ]] || fail "refused attaches changed h1's interfaces: $(hexec h1 ip -o link)"
[[ $(links_in "$w3") == "$before_w3" ]] || fail "refused attaches left interfaces in $w3"
[[ $(weft_on h1 ps --json | jq length) == 2 ]] || fail "refused attaches changed the records"
pass "refused attaches (missing netns, used address, busy name, attached, outside the range, bad CIDR, ethweft present, failing midway) change nothing"

# By pid: the namespace of a process running in w3.
ip netns exec "$w3" sleep 300 </dev/null >/dev/null 2>&1 &
pid=$!
wait_for "sleep in $w3" 5 in_netns "$pid" "$w3" || fail "sleep did not start in $w3"
out=$(weft_on h1 attach 10.32.1.3/12 --pid "$pid") || fail "attach --pid failed: $out"
[[ $out == "Attached pid:$pid (name pid-$pid) to weft: ethweft has 10.32.1.3/12"* ]] ||
  fail "attach --pid says: $out"
expect_error "$w3 is already attached (as pid:$pid)" weft_on h1 attach 10.32.1.4/12 "$w3"
ip netns exec "$w1" ping -c1 -W1 -q 10.32.1.3 >/dev/null || fail "$w1 cannot ping the pid's namespace"
weft_on h1 ps | grep -Eq "^pid:$pid +default +pid-$pid " || fail "weft ps lacks pid:$pid"
out=$(weft_on h1 detach --pid "$pid") || fail "detach --pid failed: $out"
[[ $out == "Detached pid:$pid (name pid-$pid): removed ethweft and the host's vethwe"* ]] ||
  fail "detach --pid says: $out"
[[ $(links_in "$w3") == "$before_w3" ]] || fail "ethweft still in $w3 after detach --pid"
kill "$pid"
wait "$pid" 2>/dev/null || true
pass "attach and detach by pid"

# No address given: IPAM allocates one from the range, and detach gives it back.
out=$(weft_on h1 attach "$w3") || fail "attach without an address failed: $out"
[[ $out =~ ethweft\ has\ (10\.3[2-9]\.[0-9]+\.[0-9]+/12) ]] || fail "attach without an address says: $out"
auto_ip=${BASH_REMATCH[1]}
ip netns exec "$w1" ping -c1 -W1 -q "${auto_ip%/*}" >/dev/null || fail "$w1 cannot ping $auto_ip"
weft_on h1 status ipam --json | jq -e --arg a "${auto_ip%/*}" \
  '.allocations | map(select(.address == $a and .holder == "workload:'"$w3"'")) | length == 1' \
  >/dev/null || fail "IPAM does not list $auto_ip for $w3: $(weft_on h1 status ipam --json)"
out=$(weft_on h1 detach "$w3") || fail "detach $w3 failed: $out"
weft_on h1 status ipam --json | jq -e '.allocations | map(select(.holder == "workload:'"$w3"'")) | length == 0' \
  >/dev/null || fail "IPAM still holds $auto_ip after detach"
pass "attach without an address gets one from IPAM ($auto_ip); detach releases it"

# A workload whose namespace is deleted: its veth pair goes with it; ps shows the record as gone
# and detach forgets it.
weft_on h1 attach 10.32.1.4/12 "$w4" >/dev/null || fail "attach $w4 failed"
veth_count_is 3 >/dev/null || fail "no veth for $w4: $(veth_count_is 3)"
ip netns del "$w4"
wait_for "the veth of $w4 to vanish" 5 veth_count_is 2 || fail "veth of $w4 stays"
weft_on h1 ps | grep -Eq "^$w4 \(gone\) " || fail "weft ps does not mark $w4 as gone: $(weft_on h1 ps)"
out=$(weft_on h1 detach "$w4") || fail "detach of the gone $w4 failed: $out"
[[ $out == "Forgot the workload $w4: its network namespace $w4 is gone"* ]] || fail "detach $w4 says: $out"
[[ $(weft_on h1 ps --json | jq length) == 2 ]] || fail "the record of $w4 remains"
expect_error "$w4 is not attached to weft on this host" weft_on h1 detach "$w4"
pass "a workload whose namespace is gone is shown as gone and forgotten by detach"

# The host on the overlay.
out=$(weft_on h1 expose 10.32.0.1/12) || fail "expose failed: $out"
[[ $out == "This host now has 10.32.0.1/12 on the overlay (bridge weft)"* ]] || fail "expose says: $out"
hexec h1 ping -c1 -W1 -q 10.32.1.2 >/dev/null || fail "the exposed host cannot ping $w2"
weft_on h1 status | grep -q "host exposed as 10.32.0.1/12" || fail "status does not show the exposed address"
expect_error "10.32.0.1 is this host's own overlay address" weft_on h1 attach 10.32.0.1/12 "$w3"
out=$(weft_on h1 hide) || fail "hide failed: $out"
[[ $out == "Hid 10.32.0.1/12: this host no longer has an address on the overlay."* ]] || fail "hide says: $out"
! hexec h1 ping -c1 -W1 -q 10.32.1.2 >/dev/null 2>&1 || fail "h1 still reaches $w2 after hide"
pass "expose gives the host an overlay address; hide takes it away"

out=$(weft_on h1 detach "$w1") || fail "detach $w1 failed: $out"
[[ $out == "Detached $w1 (name $w1): removed ethweft and the host's vethwe"*"; 10.32.1.1/12 is free again." ]] ||
  fail "detach $w1 says: $out"
! ip -n "$w1" link show ethweft >/dev/null 2>&1 || fail "ethweft still in $w1"
[[ $(weft_veths | wc -l) == 1 ]] || fail "want 1 vethwe* on h1 after detach"
[[ $(weft_on h1 ps --json | jq -r '[.[].name] | join(",")') == web ]] || fail "ps after detach is wrong"
pass "detach removes the veth pair and the record"

weft_on h1 stop >/dev/null || fail "weft stop failed"
hexec h1 ip link show weft >/dev/null 2>&1 || fail "weft stop removed the bridge"
[[ $(weft_veths | wc -l) == 1 ]] || fail "weft stop removed the workload's veth"
out=$(weft_on h1 reset) || fail "weft reset failed: $out"
[[ $out == *"Removed the bridge weft and 1 workload interface (vethwe"* ]] || fail "reset says: $out"
! hexec h1 ip link show weft >/dev/null 2>&1 || fail "weft reset left the bridge"
[[ -z $(weft_veths) ]] || fail "weft reset left vethwe interfaces: $(weft_veths)"
! ip -n "$w2" link show ethweft >/dev/null 2>&1 || fail "ethweft still in $w2 after reset"
pass "stop keeps the bridge and workloads; reset removes them"
