#!/usr/bin/env bash
# Routing around a cut link: with h1-h3 cut (packets silently dropped), h1 and h3 route to each
# other through h2 (2 hops) within 15 s; once the link is restored the direct route (1 hop) returns.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../../scripts/lib/netns.sh
source "$here/../../scripts/lib/netns.sh"
# shellcheck source=SCRIPTDIR/lib_weft.sh
source "$here/lib_weft.sh"

harness_init meshreroute
harness_add_hosts 3

weft_launch_first h1 >/dev/null || fail "weft launch on h1 failed"
weft_launch_join h2 h1 >/dev/null || fail "weft launch on h2 failed"
weft_launch_join h3 h1 >/dev/null || fail "weft launch on h3 failed"
wait_for "a full mesh of h1 h2 h3" 20 weft_full_mesh h1 h2 h3 || fail "no full mesh"

# routes_are "hA>hB=NEXT HOPS"...: every listed route of hA to hB is via NEXT in HOPS hops.
routes_are() {
  local spec src dst want got
  for spec in "$@"; do
    src=${spec%%>*} dst=${spec#*>} want=${dst#*=} dst=${dst%%=*}
    got=$(weft_route "$src" "$dst") || { echo "$src has no route to $dst" && return 1; }
    weft_expect "$src -> $dst" "$got" "$want" || return 1
  done
}
direct=("h1>h2=h2 1" "h1>h3=h3 1" "h2>h1=h1 1" "h2>h3=h3 1" "h3>h1=h1 1" "h3>h2=h2 1")
wait_for "direct routes between all hosts" 10 routes_are "${direct[@]}" ||
  fail "the full mesh does not route directly"
pass "full mesh of h1 h2 h3, every route direct (1 hop)"

harness_cut h1 h3
t0=$(weft_now_ms)
! can_ping h1 h3 || fail "the cut does not stop h1 -> h3"
wait_for "h1 and h3 to route to each other via h2" 15 \
  routes_are "h1>h3=h2 2" "h3>h1=h2 2" "h1>h2=h2 1" "h3>h2=h2 1" "h2>h1=h1 1" "h2>h3=h3 1" ||
  fail "no route around the cut h1-h3 within 15 s"
pass "cut h1-h3: h1 <-> h3 via h2 (2 hops) after $(($(weft_now_ms) - t0)) ms"
weft_not_connected h1 h3 >/dev/null || fail "h1 still has an established connection to h3"
weft_not_connected h3 h1 >/dev/null || fail "h3 still has an established connection to h1"
for h in h1 h2 h3; do
  [[ $(weft_reachable "$h") == "h1 h2 h3" ]] || fail "$h does not reach all 3 peers: $(weft_reachable "$h")"
done
sees() { weft_expect "$1 sees" "$(weft_topology "$1")" "$2"; } # hN TOPOLOGY
for h in h1 h2 h3; do
  wait_for "$h's weft status peers to show the h1-h3 link gone" 5 sees "$h" "h1:h2 h2:h1,h3 h3:h2" ||
    fail "$h does not see the mesh without the h1-h3 link"
done
pass "h1 and h3 dropped their direct connection; every host sees the line h1-h2-h3, reaches all 3"

harness_restore h1 h3
t0=$(weft_now_ms)
wait_for "direct routes again after restoring h1-h3" 40 routes_are "${direct[@]}" ||
  fail "h1 and h3 did not reconnect directly after the link was restored"
wait_for "the full mesh again" 5 weft_full_mesh h1 h2 h3 || fail "no full mesh after the restore"
wait_for "every host to see all 3 links again" 5 weft_topology_complete h1 h2 h3 ||
  fail "the hosts do not all see the complete mesh after the restore"
pass "restored h1-h3: direct routes and full mesh again after $(($(weft_now_ms) - t0)) ms"
