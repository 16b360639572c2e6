#!/usr/bin/env bash
# The cluster state (issue 8): a workload attached with a namespace, labels and named ports on
# h1 is visible on h3 within 2 s; `weft label` and `weft namespace label` likewise; a watch
# client sees each change once; after kill -9 and a restart, the router has its workloads and
# the cluster's namespaces back; invalid labels and ports are refused with the field and change
# nothing; a non-root caller cannot change anything.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../../scripts/lib/netns.sh
source "$here/../../scripts/lib/netns.sh"
# shellcheck source=SCRIPTDIR/lib_weft.sh
source "$here/lib_weft.sh"

harness_init cstate
harness_add_hosts 3
w1="$(host_ns h1)-w1"
ip netns add "$w1" || fail "cannot create the namespace $w1"

weft_launch_first h1 >/dev/null || fail "weft launch on h1 failed"
weft_launch_join h2 h1 >/dev/null || fail "weft launch on h2 failed"
weft_launch_join h3 h1 >/dev/null || fail "weft launch on h3 failed"
wait_for "a full mesh" 30 weft_full_mesh h1 h2 h3 || fail "no mesh"

# A watch on h2, from the start: every change must show up in it exactly once.
watch="$HARNESS_DIR/watch.ndjson"
curl -sN --unix-socket "$(host_datadir h2)/api.sock" http://weft/state/watch >"$watch" &
watch_pid=$!
wait_for "the watch's snapshot line" 5 grep -q '"type":"snapshot"' "$watch" || fail "no snapshot from the watch"

# weft ps --all --json on hN lists a workload named NAME whose FIELD (jq path) equals VALUE.
ps_has() { # hN NAME JQ-CONDITION
  weft_on "$1" ps --all --json | jq -e --arg n "$2" "map(select(.name == \$n and ($3))) | length == 1" >/dev/null
}

t0=$(weft_now_ms)
out=$(weft_on h1 attach --name web --namespace shop --label app=web --label tier=front \
  --port http=8080/TCP --port dns=53/udp "$w1" 2>&1) || fail "attach with metadata failed: $out"
wait_for "h3 to see web with its metadata" 2 ps_has h3 web \
  '.namespace == "shop" and .labels.app == "web" and .labels.tier == "front" and
   (.ports | map("\(.name)=\(.port)/\(.protocol)") | sort == ["dns=53/UDP", "http=8080/TCP"])' ||
  fail "h3 does not see the workload: $(weft_on h3 ps --all --json)"
pass "a workload attached on h1 with namespace, labels and ports is on h3 after $(($(weft_now_ms) - t0)) ms"

# Only h1 lists it as its own; h3's ps without --all does not.
[[ $(weft_on h3 ps --json | jq length) == 0 ]] || fail "h3 lists h1's workload as its own"
weft_on h1 ps -n shop | grep -q "^$w1 " || fail "ps -n shop on h1 lacks $w1"
[[ $(weft_on h1 ps -n other --json | jq length) == 0 ]] || fail "ps -n other lists $w1"

t0=$(weft_now_ms)
weft_on h1 label "$w1" tier- version=v2 >/dev/null || fail "weft label failed"
wait_for "h3 to see the new labels" 2 ps_has h3 web '.labels == {"app": "web", "version": "v2"}' ||
  fail "h3 has labels $(weft_on h3 ps --all --json | jq -c '.[].labels')"
pass "weft label on h1 reaches h3 in $(($(weft_now_ms) - t0)) ms"

t0=$(weft_now_ms)
out=$(weft_on h2 namespace label shop team=payments 2>&1) || fail "namespace label failed: $out"
ns_has() {
  weft_on "$1" namespace list --json |
    jq -e 'map(select(.name == "shop" and .labels.team == "payments" and
                      .labels["kubernetes.io/metadata.name"] == "shop")) | length == 1' >/dev/null
}
wait_for "h3 to see namespace shop's label" 2 ns_has h3 || fail "h3: $(weft_on h3 namespace list --json)"
ns_has h1 || fail "h1 lacks shop's label"
pass "weft namespace label on h2 reaches h1 and h3 in $(($(weft_now_ms) - t0)) ms, with the implied name label"

# A policy applied on h2 is on h3 within 2 s; re-applying says unchanged, a change configured.
pol="$HARNESS_DIR/deny.yaml"
cat >"$pol" <<'YAML'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: web-allow
  namespace: shop
spec:
  podSelector:
    matchLabels: {app: web}
  ingress:
  - from:
    - namespaceSelector:
        matchLabels: {team: payments}
    ports:
    - port: http
---
apiVersion: v1
kind: ConfigMap
metadata: {name: other}
YAML
t0=$(weft_now_ms)
out=$(weft_on h2 policy apply -f "$pol" 2>&1) || fail "policy apply failed: $out"
grep -q "networkpolicy.networking.k8s.io/shop/web-allow created" <<<"$out" || fail "apply says: $out"
grep -q "ConfigMap/other (document 2): not a NetworkPolicy, skipped" <<<"$out" || fail "apply did not report the skipped ConfigMap: $out"
pol_on() { weft_on "$1" policy list --json | jq -e 'map(.metadata.name) == ["web-allow"]' >/dev/null; }
wait_for "h3 to see the policy" 2 pol_on h3 || fail "h3: $(weft_on h3 policy list --json)"
pass "a policy applied on h2 is on h3 after $(($(weft_now_ms) - t0)) ms (the ConfigMap reported and skipped)"
out=$(weft_on h1 policy apply -f "$pol" 2>&1) || fail "re-apply failed: $out"
grep -q "shop/web-allow unchanged" <<<"$out" || fail "re-apply says: $out"
sed -i 's/port: http/port: 8080/' "$pol"
out=$(weft_on h1 policy apply -f "$pol" 2>&1) || fail "changed apply failed: $out"
grep -q "shop/web-allow configured" <<<"$out" || fail "changed apply says: $out"
weft_on h3 policy get shop/web-allow -o json | jq -e '.spec.ingress[0].ports[0].port == 8080' >/dev/null ||
  fail "h3 does not have the change: $(weft_on h3 policy get shop/web-allow -o json)"
weft_on h3 policy get shop/web-allow | grep -q "name: web-allow" || fail "policy get (yaml) lacks the name"
pass "re-applying says unchanged, a change says configured and reaches h3"

# Invalid input: each rejected with its document and field path, and nothing applied.
bad() { # EXPECTED-TEXT, then the document on stdin
  local out
  out=$(weft_on h1 policy apply -f - 2>&1) && fail "an invalid document was applied"
  grep -qF -- "$1" <<<"$out" || fail "expected "$1" in: $out"
  grep -q "nothing was applied" <<<"$out" || fail "no 'nothing was applied' in: $out"
}
bad 'line ' <<<$'apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: x
spec: ['
bad 'unknown field "spec.podSelectr"' <<<$'apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: y}
spec: {podSelectr: {}}'
bad 'spec.podSelector.matchExpressions[0].operator: Invalid value: "Bogus": not a valid selector operator'   <<<$'apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: z}
spec:
  podSelector:
    matchExpressions: [{key: a, operator: Bogus}]'
bad 'spec.ingress[0].ports[0].port: Invalid value: "abcdefghijklmnop"'   <<<$'apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: w}
spec:
  podSelector: {}
  ingress: [{ports: [{port: abcdefghijklmnop}]}]'
# One valid and one invalid document: neither is applied.
bad 'document 2' <<<$'apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: ok1}
spec: {podSelector: {}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: bad2}
spec: {podSelectr: {}}'
weft_on h1 policy list --json | jq -e 'map(.metadata.name) == ["web-allow"]' >/dev/null ||
  fail "an invalid apply changed the policies: $(weft_on h1 policy list --json)"
pass "bad YAML, an unknown field, a bad operator, a 16-character port name: each rejected with its field path; nothing applied"

# Refusals name the field and change nothing.
before=$(weft_on h1 ps --all --json)
out=$(weft_on h1 label "$w1" "bad key=x" 2>&1) && fail "a bad label key was taken"
grep -q 'labels: Invalid value: "bad key"' <<<"$out" || fail "bad label key: $out"
w2="$(host_ns h1)-w2"
ip netns add "$w2"
out=$(weft_on h1 attach --port abcdefghijklmnop=80/TCP "$w2" 2>&1) && fail "a 16-character port name was taken"
grep -q 'ports\[0\].name: Invalid value: "abcdefghijklmnop": must be no more than 15 characters' <<<"$out" ||
  fail "16-character port name: $out"
out=$(weft_on h1 attach --namespace Bad_NS "$w2" 2>&1) && fail "an invalid namespace was taken"
grep -q 'namespace: Invalid value: "Bad_NS"' <<<"$out" || fail "invalid namespace: $out"
ip -n "$w2" link show ethweft >/dev/null 2>&1 && fail "a refused attach left ethweft in $w2"
[[ $(weft_on h1 ps --all --json) == "$before" ]] || fail "refusals changed the workloads"
pass "invalid label keys, port names and namespaces are refused with their field; nothing changes"

# Only root, over the socket, may change anything: a non-root user gets 403 or no access.
if id nobody >/dev/null 2>&1; then
  chmod 0755 "$HARNESS_DIR" "$(host_dir h1)" "$(host_datadir h1)"
  sock="$(host_datadir h1)/api.sock"
  chmod 0666 "$sock" # as if someone loosened it: the uid check must still refuse
  code=$(setpriv --reuid=nobody --regid=nogroup --clear-groups curl -s -o /dev/null -w '%{http_code}' \
    --unix-socket "$sock" -X POST -d '{"namespace":"shop","set":{"x":"y"}}' http://weft/namespaces/label)
  [[ $code == 403 ]] || fail "a non-root POST got HTTP $code"
  code=$(setpriv --reuid=nobody --regid=nogroup --clear-groups curl -s -o /dev/null -w '%{http_code}' \
    --unix-socket "$sock" http://weft/status)
  [[ $code == 200 ]] || fail "a non-root GET /status got HTTP $code (reads are allowed)"
  chmod 0600 "$sock"
  pass "a non-root caller may read but not change (HTTP 403)"
fi

# kill -9 of h1's router: its workloads and the cluster's namespaces are back after a restart.
pid1=$(weft_router_pid h1)
kill -KILL "$pid1"
wait_for "h1's router to be gone" 5 weft_pid_gone "$pid1" || fail "h1's router survived kill -9"
weft_on h1 launch >/dev/null || fail "relaunch of h1 failed"
ps_has h1 web '.namespace == "shop" and .labels.version == "v2"' || fail "h1 lost its workload: $(weft_on h1 ps --all --json)"
ns_has h1 || fail "h1 lost the namespace labels after kill -9"
pass "after kill -9 and a relaunch, h1 has its workload and the namespace labels back"

weft_on h1 policy list --json | jq -e 'map(.metadata.name) == ["web-allow"]' >/dev/null ||
  fail "h1 lost the policy after kill -9"
pass "... and the cluster's policy"

out=$(weft_on h3 policy delete shop/web-allow) || fail "policy delete failed: $out"
grep -q 'networkpolicy.networking.k8s.io "shop/web-allow" deleted' <<<"$out" || fail "delete says: $out"
nopol() { weft_on "$1" policy list --json | jq -e 'length == 0' >/dev/null; }
wait_for "h1 to drop the policy" 2 nopol h1 || fail "h1 still has the deleted policy"
out=$(weft_on h3 policy delete shop/web-allow 2>&1) && fail "deleting a missing policy succeeded"
grep -q 'networkpolicy "shop/web-allow" not found' <<<"$out" || fail "delete of a missing policy says: $out"
pass "policy delete on h3 reaches h1; a second delete says not found"

# Detach: the workload is gone everywhere.
weft_on h1 detach "$w1" >/dev/null || fail "detach failed"
gone() { [[ $(weft_on "$1" ps --all --json | jq 'map(select(.name == "web")) | length') == 0 ]]; }
wait_for "h3 to forget web" 2 gone h3 || fail "h3 still lists web after detach"
gone h2 || fail "h2 still lists web"
pass "detach removes the workload on every host within 2 s"

# The watch saw each change once: the workload created, labelled, the namespace labelled, the
# policy created, configured (not the unchanged re-apply) and deleted, the workload deleted.
kill "$watch_pid" 2>/dev/null || true
changes=$(jq -c 'select(.type == "change") | [.kind, .op, (.object.labels // {} | keys | join(","))]' "$watch")
revs=$(jq -r 'select(.type == "change") | .revision' "$watch")
[[ $(sort <<<"$revs" | uniq -d) == "" ]] || fail "a revision came twice in the watch"
expect='["workload","upsert","app,tier"]
["workload","upsert","app,version"]
["namespace","upsert","kubernetes.io/metadata.name,team"]
["policy","upsert",""]
["policy","upsert",""]
["policy","delete",""]
["workload","delete",""]'
[[ $changes == "$expect" ]] || fail "the watch saw: $changes"
pass "a watch client saw each change exactly once, in order"
