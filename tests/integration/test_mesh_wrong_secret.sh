#!/usr/bin/env bash
# Hosts that cannot authenticate are refused and leave the mesh alone: h4 with another password
# (an authentication failure, logged on both sides and counted in /metrics), and h5 launched with
# --no-encryption (refused for the encryption mismatch; its `weft status` warns).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../../scripts/lib/netns.sh
source "$here/../../scripts/lib/netns.sh"
# shellcheck source=SCRIPTDIR/lib_weft.sh
source "$here/lib_weft.sh"

harness_init meshsecret
harness_add_hosts 5

weft_launch_first h1 >/dev/null || fail "weft launch on h1 failed"
weft_launch_join h2 h1 >/dev/null || fail "weft launch on h2 failed"
weft_launch_join h3 h1 >/dev/null || fail "weft launch on h3 failed"
wait_for "a full mesh of h1 h2 h3" 20 weft_full_mesh h1 h2 h3 || fail "no full mesh"
conns_before=$(weft_jq h1 '[.connections[] | "\(.address) \(.peer) \(.state)"] | sort | join(", ")')
pass "mesh of h1 h2 h3 up"

# The mesh is intact: the same established connections on h1 as before, the full mesh on every
# host, and no host knows a peer named NICK or called NAME.
mesh_intact() { # NICK NAME
  local h now
  now=$(weft_jq h1 '[.connections[] | "\(.address) \(.peer) \(.state)"] | sort | join(", ")') ||
    fail "no status on h1"
  [[ $now == "$conns_before" ]] || fail "h1's connections changed: '$conns_before' -> '$now'"
  weft_full_mesh h1 h2 h3 >/dev/null || fail "the full mesh broke: $(weft_full_mesh h1 h2 h3)"
  for h in h1 h2 h3; do
    # shellcheck disable=SC2016 # $nick and $name are jq variables
    weft_jq "$h" '.peers | all(.nickname != $nick and .name != $name)' \
      --arg nick "$1" --arg name "$2" >/dev/null ||
      fail "$h lists the refused peer $2 ($1): $(weft_on "$h" status peers)"
  done
}

# --- h4: a different password -----------------------------------------------------------------
auth_msg="authentication failed, do both hosts use the same secret?"
out=$(weft_on h4 launch --nickname h4 --password other "$(host_ip h1)" 2>&1) ||
  fail "weft launch on h4 failed: $out"
name4=$(weft_name h4) || fail "no status on h4"
wait_for "h4's log to report the failed authentication" 15 \
  weft_log_has h4 "peer at $(host_ip h1):6783: $auth_msg" || fail "h4 does not log the wrong secret"
wait_for "h1's log to report the failed authentication" 15 \
  weft_log_has h1 "peer at $(host_ip h4):" || fail "h1 does not log h4's attempt"
grep -F "peer at $(host_ip h4):" "$(host_log h1)" | grep -qF "$auth_msg" ||
  fail "h1 logs h4's attempt without the wrong-secret hint: $(grep -F "$(host_ip h4)" "$(host_log h1)")"
pass "h1 and h4 both log '$auth_msg'"

series='weft_handshake_failures_total{reason="authentication"}'
for h in h4 h1; do
  wait_for "$h's authentication failures to be counted" 5 weft_metric_at_least "$h" "$series" 1 ||
    fail "$h's /metrics does not count the authentication failure"
done
for h in h2 h3; do # they were never involved
  [[ $(weft_metric "$h" "$series") == 0 ]] || fail "$h counts authentication failures"
done
pass "/metrics on h4 and h1: $series >= 1 (0 on h2, h3)"

est4=$(weft_established h4) || fail "no status on h4"
[[ -z $est4 ]] || fail "h4 has established connections to: $est4"
[[ $(weft_jq h4 '[.peers[].nickname] | join(" ")') == h4 ]] ||
  fail "h4 knows other peers: $(weft_on h4 status peers)"
# A user's `weft status` shows the refused connection and why (between retries: a retry briefly
# shows it as connecting).
shows_refusal() { # hN REASON: hN's connection to h1 is failed/retrying, with REASON in its info
  local out
  out=$(weft_on "$1" status connections) || return 1
  echo "$out"
  grep -Eq "^$(host_ip h1):6783 +outbound +(failed|retrying) +- +$2" <<<"$out"
}
wait_for "weft status on h4 to show why h1 refuses it" 5 shows_refusal h4 "$auth_msg" ||
  fail "weft status on h4 does not show the refused connection to h1 and why"
mesh_intact h4 "$name4"
pass "h4 refused: no established connection, knows no one; h1 h2 h3 mesh untouched"

# --- h5: no encryption --------------------------------------------------------------------------
out=$(weft_on h5 launch --nickname h5 --no-encryption "$(host_ip h1)" 2>&1) ||
  fail "weft launch --no-encryption on h5 failed: $out"
[[ $out == *"WARNING: encryption is OFF"* ]] || fail "h5's launch does not warn: $out"
name5=$(weft_name h5) || fail "no status on h5"
wait_for "h5's log to report the encryption mismatch" 15 \
  weft_log_has h5 "peer at $(host_ip h1):6783: the peer uses encryption but this router runs with --no-encryption" ||
  fail "h5 does not log why h1 refuses it"
wait_for "h1's log to report the encryption mismatch" 15 \
  weft_log_has h1 "connection from $(host_ip h5):" || fail "h1 does not log h5's attempt"
grep -F "connection from $(host_ip h5):" "$(host_log h1)" | grep -q "refused: .*encryption" ||
  fail "h1 logs h5's attempt without mentioning encryption: $(grep -F "$(host_ip h5)" "$(host_log h1)")"
pass "h1 and h5 log the encryption mismatch"

mm='weft_handshake_failures_total{reason="encryption_mismatch"}'
wait_for "h5's encryption mismatches to be counted" 5 weft_metric_at_least h5 "$mm" 1 ||
  fail "h5's /metrics does not count the encryption mismatch"
wait_for "h1's encryption mismatches to be counted" 5 weft_metric_at_least h1 "$mm" 1 ||
  fail "h1's /metrics does not count the encryption mismatch"
out=$(weft_on h5 status) || fail "weft status on h5 failed"
[[ $out == *"ENCRYPTION IS OFF"* ]] || fail "weft status on h5 does not say ENCRYPTION IS OFF: $out"
grep -Eq '^ *Encryption: off$' <<<"$out" || fail "weft status on h5: encryption not off: $out"
wait_for "weft status on h5 to show why h1 refuses it" 5 shows_refusal h5 \
  "the peer uses encryption but this router runs with --no-encryption" ||
  fail "weft status on h5 does not show the refused connection to h1 and why"
[[ -z $(weft_established h5) ]] || fail "h5 has established connections: $(weft_established h5)"
[[ $(weft_metric h5 weft_encryption_enabled) == 0 ]] || fail "h5's weft_encryption_enabled is not 0"
mesh_intact h5 "$name5"
pass "h5 (--no-encryption) refused: status says ENCRYPTION IS OFF; h1 h2 h3 mesh untouched"
