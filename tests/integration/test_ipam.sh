#!/usr/bin/env bash
# IPAM across real routers: three hosts launched at the same moment agree on the ring
# (consensus=3) and give 60 concurrently attached workloads unique, reachable addresses; a router
# killed with -9 during allocations comes back with every acknowledged address and no duplicate;
# a new host joins and gets space; rmpeer is refused while a host is up and reclaims its space
# once it is gone; when the host comes back after all, the address given out twice meanwhile is
# reported on both sides and its other addresses are its own again; a /28 range runs out with
# a clear error.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../../scripts/lib/netns.sh
source "$here/../../scripts/lib/netns.sh"
# shellcheck source=SCRIPTDIR/lib_weft.sh
source "$here/lib_weft.sh"

harness_init ipam
harness_add_hosts 5
range=10.40.0.0/16
pwfile="$HARNESS_DIR/password"
echo "ipam-test-password-$RANDOM$RANDOM" >"$pwfile"
chmod 600 "$pwfile"

# The three launch together, each naming the other two: none may seed the range alone.
launch3() {
  local h=$1 others=()
  for o in h1 h2 h3; do [[ $o == "$h" ]] || others+=("$(host_ip "$o")"); done
  weft_on "$h" launch --nickname "$h" --password-file "$pwfile" --ipalloc-range "$range" \
    --ipalloc-init consensus=3 "${others[@]}" >/dev/null
}
for h in h1 h2 h3; do launch3 "$h" & done
wait_all() { local ok=0; for p in "$@"; do wait "$p" || ok=1; done; return $ok; }
wait_all $(jobs -p) || fail "a launch failed"
ipam_json() { weft_on "$1" status ipam --json; }
ipam_ready() { [[ $(ipam_json "$1" | jq -r .state) == ready ]]; }
for h in h1 h2 h3; do wait_for "$h's IPAM ring" 20 ipam_ready "$h" || fail "no ring on $h"; done
seeds() { ipam_json "$1" | jq -c '.seeds | sort'; }
[[ $(seeds h1) == "$(seeds h2)" && $(seeds h2) == "$(seeds h3)" ]] || fail "rings differ"
[[ $(ipam_json h1 | jq '.seeds | length') == 3 ]] || fail "want 3 seeds: $(ipam_json h1)"
pass "three hosts launched together agreed on one ring seeded by all three"

# 20 workloads per host, attached concurrently (no addresses given).
attach_all() {
  local h=$1 k
  for k in $(seq 1 20); do
    weft_on "$h" attach "$(host_ns "$h")-w$k" >"$HARNESS_DIR/attach-$h-$k.log" 2>&1 &
  done
  wait_all $(jobs -p)
}
for h in h1 h2 h3; do
  for k in $(seq 1 20); do ip netns add "$(host_ns "$h")-w$k"; done
done
t0=$(weft_now_ms)
for h in h1 h2 h3; do attach_all "$h" & done
wait_all $(jobs -p) || fail "an attach failed"
t1=$(weft_now_ms)
all_ips() { for h in "$@"; do weft_on "$h" ps --json | jq -r '.[].ips[]'; done; }
n=$(all_ips h1 h2 h3 | wc -l)
u=$(all_ips h1 h2 h3 | sort -u | wc -l)
[[ $n == 60 && $u == 60 ]] || fail "want 60 unique addresses, got $n ($u unique)"
# Every one reachable: one workload on h1 pings all the others.
src="$(host_ns h1)-w1"
src_ip=$(ip -n "$src" -j addr show ethweft | jq -r '.[0].addr_info[] | select(.family == "inet") | .local')
for ip in $(all_ips h1 h2 h3); do
  [[ ${ip%/*} == "$src_ip" ]] && continue
  if ! wait_for "$src to ping $ip" 10 ip netns exec "$src" ping -c1 -W1 -q "${ip%/*}"; then
    [[ -n ${WEFT_TEST_DEBUG:-} ]] && { echo "debug: sleeping; HARNESS $HARNESS_RUN_ID"; sleep 600; }
    fail "$src cannot reach $ip"
  fi
done
pass "60 workloads attached concurrently ($((t1 - t0)) ms): 60 unique addresses, all reachable"

# kill -9 h2's router while it allocates, then relaunch it.
before=$(all_ips h2 | sort)
for k in $(seq 21 28); do ip netns add "$(host_ns h2)-w$k"; done
# Each attach that succeeds (was acknowledged) before the kill is listed in $acked.
acked="$HARNESS_DIR/acked-h2"
: >"$acked"
(for k in $(seq 21 28); do
  weft_on h2 attach "$(host_ns h2)-w$k" >/dev/null 2>&1 && echo "$(host_ns h2)-w$k" >>"$acked"
done) &
attacher=$!
two_more() { (($(all_ips h2 | wc -l) >= 22)); }
wait_for "h2 to allocate more" 20 two_more || fail "no new attach on h2"
kill -9 "$(weft_router_pid h2)"
wait "$attacher" || true
launch3 h2 || fail "relaunch of h2 failed"
wait_for "h2's IPAM ring" 20 ipam_ready h2 || fail "no ring on h2 after restart"
# Every workload recorded on h2 still holds its address in IPAM; nothing was lost or doubled.
held_h2() { ipam_json h2 | jq -r '.allocations[] | "\(.holder) \(.address)"' | sort; }
ps_h2=$(weft_on h2 ps --json | jq -er '.[] | "\(.name) \(.ips[0])"') ||
  fail "cannot list h2's workloads after the restart"
held=$(held_h2) || fail "cannot read h2's IPAM allocations after the restart"
n_acked=$(wc -l <"$acked")
((n_acked >= 2)) || fail "want >= 2 attaches acknowledged before the kill, got $n_acked"
(($(wc -l <<<"$ps_h2") >= 20 + n_acked)) ||
  fail "h2 lists $(wc -l <<<"$ps_h2") workloads after the restart, want >= 20 + $n_acked acknowledged"
while read -r name; do
  grep -q "^$name " <<<"$ps_h2" || fail "after kill -9, h2 lost the acknowledged workload $name"
done <"$acked"
while read -r name ip; do
  grep -qx "workload:$name ${ip%/*}" <<<"$held" || fail "after kill -9, IPAM lost $name ($ip)"
done <<<"$ps_h2"
comm -23 <(echo "$before") <(all_ips h2 | sort) | grep -q . && fail "addresses of h2 changed"
# The restarted router serves attaches again: the last workload (cut off by the kill, or already
# attached) gets an address that IPAM holds for it.
w28="$(host_ns h2)-w28"
out=$(weft_on h2 attach "$w28" 2>&1) || fail "attach of $w28 on h2 after the restart failed: $out"
ip28=$(weft_on h2 ps --json | jq -er --arg n "$w28" '.[] | select(.name == $n) | .ips[0]') ||
  fail "h2 does not list $w28 after attaching it"
held_h2 | grep -qx "workload:$w28 ${ip28%/*}" || fail "IPAM does not hold $ip28 for $w28"
allocs() { for h in "$@"; do ipam_json "$h" | jq -r '.allocations[].address'; done; }
dups=$(allocs h1 h2 h3 | sort | uniq -d)
[[ -z $dups ]] || fail "duplicate allocations after kill -9: $dups"
pass "kill -9 during allocations: $n_acked attaches acknowledged before it; $(all_ips h2 | wc -l) addresses on h2 kept, no duplicate; $w28 attached after: $ip28"

# A new host joins the running cluster and gets space from it.
copy=$(weft_secret_copy h1 h4)
weft_on h4 launch --nickname h4 --password-file "$copy" --ipalloc-range "$range" "$(host_ip h1)" \
  >/dev/null || fail "launch of h4 failed"
ip netns add "$(host_ns h4)-w1"
out=$(weft_on h4 attach "$(host_ns h4)-w1") || fail "attach on h4 failed: $out"
h4_ip=$(weft_on h4 ps --json | jq -r '.[0].ips[0]')
ipam_json h4 | jq -e '.owners[] | select(.self) | .addresses > 0' >/dev/null ||
  fail "h4 owns no space: $(ipam_json h4)"
[[ -z $(allocs h1 h2 h3 h4 | sort | uniq -d) ]] || fail "duplicate after h4 joined"
wait_for "h4's workload to reach h2's" 10 ip netns exec "$(host_ns h4)-w1" ping -c1 -W1 -q \
  "$(all_ips h1 | head -1 | cut -d/ -f1)" || fail "h4's workload cannot reach h2's"
pass "a new host joined, got space and $h4_ip"

# rmpeer: refused while h3 is up; once it is gone, h1 takes its space.
h3_name=$(weft_name h3)
out=$(weft_on h1 rmpeer h3 2>&1) && fail "rmpeer of a live peer succeeded: $out"
grep -q "still reachable" <<<"$out" || fail "rmpeer of a live peer says: $out"
h1_before=$(ipam_json h1 | jq '.owners[] | select(.self) | .addresses')
h3_held=$(all_ips h3 | cut -d/ -f1 | sort)
weft_on h3 stop >/dev/null || fail "weft stop on h3 failed"
wait_for "h1 to see h3 gone" 20 weft_not_reachable h1 h3 || fail "h1 still reaches h3"
# Just gone looks like a partition: refused without --force (issue 10), which then warns.
out=$(weft_on h1 rmpeer h3 2>&1) && fail "rmpeer of a peer seen seconds ago succeeded: $out"
grep -q "was reachable .* --force" <<<"$out" || fail "rmpeer within the grace period says: $out"
out=$(weft_on h1 rmpeer --force h3 2>"$HARNESS_DIR/rmpeer.err") || fail "rmpeer --force h3 failed: $out"
[[ $out == "Reclaimed "*" addresses from $h3_name"* ]] || fail "rmpeer says: $out"
grep -q "given out while its workloads still hold them" "$HARNESS_DIR/rmpeer.err" ||
  fail "rmpeer --force did not warn: $(cat "$HARNESS_DIR/rmpeer.err")"
h1_after=$(ipam_json h1 | jq '.owners[] | select(.self) | .addresses')
((h1_after > h1_before)) || fail "h1's space did not grow ($h1_before -> $h1_after)"
gone() { ! ipam_json "$1" | jq -e --arg n "$h3_name" '.owners[] | select(.name == $n)' >/dev/null; }
for h in h1 h2 h4; do wait_for "$h to drop h3 from the ring" 10 gone "$h" || fail "$h still lists h3"; done
pass "rmpeer refused while h3 was up; afterwards h1 reclaimed its space ($h1_before -> $h1_after)"

# h3 was only stopped (issue 10: rmpeer after a partition). Meanwhile h1 gives one of the
# addresses h3's workloads hold to a new holder. When h3 comes back, that address is reported
# as in use twice on both hosts, and h3's other addresses are its own again.
dup=$(head -1 <<<"$h3_held")
n_held=$(wc -l <<<"$h3_held")
((n_held >= 2)) || fail "h3 held $n_held addresses; the check needs 2"
api1() { hexec h1 curl -s --unix-socket "$(host_datadir h1)/api.sock" "$@"; }
api1 -d "{\"holder\":\"dup\",\"address\":\"$dup\"}" http://weft/ipam/allocate | jq -e .address >/dev/null ||
  fail "h1 could not allocate $dup"
[[ $(weft_metric h1 weft_ipam_conflicts) == 0 ]] || fail "a conflict before h3 came back"
launch3 h3 || fail "relaunching h3 failed"
conflicted() { [[ $(weft_metric "$1" weft_ipam_conflicts) == 1 ]]; }
for h in h1 h3; do
  wait_for "$h to report $dup in use twice" 20 conflicted "$h" || fail "$h: weft_ipam_conflicts is not 1"
  weft_on "$h" status ipam | grep -q "$dup .*in use twice" || fail "$h's status ipam: $(weft_on "$h" status ipam)"
done
# h1 can no longer hand out any other address h3's workloads hold: each is in use on h3.
reclaimed() { [[ $(ipam_json h3 | jq .pending) == 0 ]]; }
wait_for "h3's re-claims to finish" 20 reclaimed || fail "h3 still has re-claims pending"
k=0
for a in $(tail -n +2 <<<"$h3_held"); do
  k=$((k + 1))
  out=$(api1 -d "{\"holder\":\"probe$k\",\"address\":\"$a\"}" http://weft/ipam/allocate)
  grep -q "in use on peer $h3_name" <<<"$out" || fail "h1 allocating $a (held on h3): $out"
done
pass "h3 came back: $dup reported in use twice on h1 and h3; h1 refuses the other $k addresses h3 holds"

# A /28 on its own host: 14 addresses, then a clear error.
weft_on h5 launch --nickname h5 --ipalloc-range 10.50.0.0/28 >/dev/null || fail "launch on h5 failed"
api() { hexec h5 curl -s --unix-socket "$(host_datadir h5)/api.sock" "$@"; }
for k in $(seq 1 14); do
  api -d "{\"holder\":\"x$k\"}" http://weft/ipam/allocate | jq -e .address >/dev/null ||
    fail "allocation $k of 14 in the /28 failed"
done
ip netns add "$(host_ns h5)-w1"
out=$(weft_on h5 attach "$(host_ns h5)-w1" 2>&1) && fail "attach in a full range succeeded: $out"
grep -q "the overlay range 10.50.0.0/28 is full" <<<"$out" || fail "full range says: $out"
! ip -n "$(host_ns h5)-w1" link show ethweft >/dev/null 2>&1 || fail "a refused attach left ethweft"
pass "a full /28 gives a clear error: ${out%%$'\n'*}"

# A corrupted state file stops the router with a message that says what to do, and loses nothing
# silently: the file stays for the operator to look at.
weft_on h5 stop >/dev/null || fail "weft stop on h5 failed"
echo '{"format":1,"range":"10.50.0.0/28","allocations":[{"address":"banana"' >"$(host_datadir h5)/ipam.json"
out=$(weft_on h5 launch --nickname h5 --ipalloc-range 10.50.0.0/28 2>&1) && fail "launch with a corrupted ipam.json succeeded"
grep -q "ipam.json is corrupted" <<<"$out" || fail "launch with a corrupted ipam.json says: $out"
grep -q "Move it aside" <<<"$out" || fail "no way forward in: $out"
pass "a corrupted ipam.json stops the router with a clear error"
