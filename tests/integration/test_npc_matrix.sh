#!/usr/bin/env bash
# NetworkPolicy made true by weft-npc (issue 9), probed with real connections, modelled on the
# upstream Kubernetes network policy e2e suite: 2 hosts, namespaces x, y, z (labelled ns=x|y|z),
# workloads a, b, c in each (labelled pod=a|b|c) spread over both hosts, each serving TCP and UDP
# on ports 80 and 81 (named serve-80-tcp, serve-80-udp, serve-81-tcp, serve-81-udp). For each
# policy set, every ordered pair of workloads is probed on every port and protocol at once, and
# the result is compared with the expected matrix written out for that case (not computed by
# weft's own evaluator). Policies are applied on one host and must hold on both.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../../scripts/lib/netns.sh
source "$here/../../scripts/lib/netns.sh"
# shellcheck source=SCRIPTDIR/lib_weft.sh
source "$here/lib_weft.sh"
probe_tool=$WEFT_BIN_DIR/tests/weft_npc_probe
[[ -x $probe_tool ]] || fail "$probe_tool not built (ninja weft_npc_probe)"

harness_init npcmx
harness_add_hosts 2
weft_launch_first h1 >/dev/null || fail "weft launch on h1 failed"
weft_launch_join h2 h1 >/dev/null || fail "weft launch on h2 failed"
wait_for "a full mesh" 30 weft_full_mesh h1 h2 || fail "no mesh"

PODS=(x/a x/b x/c y/a y/b y/c z/a z/b z/c)
PORTS=(80/TCP 80/UDP 81/TCP 81/UDP)
declare -A IP HOST NETNS
i=0
for p in "${PODS[@]}"; do
  ns=${p%/*} name=${p#*/}
  nsi=$((${#ns} > 0 ? $(printf '%d' "'$ns") - 119 : 0)) # x=1 y=2 z=3
  IP[$p]=10.32.$nsi.$(($(printf '%d' "'$name") - 96))   # x/a=10.32.1.1 ... z/c=10.32.3.3
  HOST[$p]=h$((i % 2 + 1))
  NETNS[$p]="$(host_ns "${HOST[$p]}")-$ns-$name"
  ip netns add "${NETNS[$p]}"
  weft_on "${HOST[$p]}" attach "${IP[$p]}/12" --name "$name" --namespace "$ns" --label "pod=$name" \
    --port serve-80-tcp=80/TCP --port serve-80-udp=80/UDP --port serve-81-tcp=81/TCP \
    --port serve-81-udp=81/UDP "${NETNS[$p]}" >/dev/null || fail "attach $p failed"
  ip netns exec "${NETNS[$p]}" "$probe_tool" serve 80 81 &
  i=$((i + 1))
done
for ns in x y z; do weft_on h1 namespace label "$ns" "ns=$ns" >/dev/null; done

# The cluster state is the same on both routers (revision and epoch are each router's own).
state_of() { curl -sf --unix-socket "$(host_datadir "$1")/api.sock" http://weft/state | jq -S 'del(.revision, .epoch) | .workloads |= map(del(.host_nickname))'; }
converged() { [[ $(state_of h1) == "$(state_of h2)" ]] && weft_npc_caught_up h1 && weft_npc_caught_up h2; }
settle() { wait_for "both hosts to enforce the same state" 10 converged || fail "the hosts did not converge"; }

# --- the expected matrix: EXP["SRC DST PORT/PROTO"] = 1 (connects) or 0 (blocked)
declare -A EXP
expect_all() { # 0|1
  local s d p
  for s in "${PODS[@]}"; do for d in "${PODS[@]}"; do for p in "${PORTS[@]}"; do EXP["$s $d $p"]=$1; done; done; done
}
# expect SRC-PATTERN DST-PATTERN PORT-PATTERN 0|1: patterns are bash globs ("x/*", "*", "80/*").
# shellcheck disable=SC2053 # glob matching is the point
expect() {
  local s d p
  for s in "${PODS[@]}"; do
    [[ $s == $1 ]] || continue
    for d in "${PODS[@]}"; do
      [[ $d == $2 ]] || continue
      for p in "${PORTS[@]}"; do [[ $p == $3 ]] && EXP["$s $d $p"]=$4; done
    done
  done
  return 0
}

# probe_matrix CASE: every pair on every port at once; prints the mismatches as a table.
probe_matrix() {
  local case=$1 s d p out bad=0 total=0 target result
  local -A GOT
  out=$HARNESS_DIR/probe
  rm -rf "$out" && mkdir -p "$out"
  for s in "${PODS[@]}"; do
    local targets=()
    for d in "${PODS[@]}"; do
      [[ $s == "$d" ]] && continue
      for p in "${PORTS[@]}"; do targets+=("${IP[$d]}:${p%/*}/${p#*/}"); done
    done
    ip netns exec "${NETNS[$s]}" "$probe_tool" probe 600 "${targets[@]}" >"$out/${s/\//-}" &
  done
  # Wait only for the probers (the servers are jobs too): their output files complete.
  wait_for "the probes of $case" 10 bash -c "[[ \$(cat $out/* | wc -l) -ge $((${#PODS[@]} * (${#PODS[@]} - 1) * ${#PORTS[@]})) ]]" ||
    fail "$case: the probes did not finish"
  for s in "${PODS[@]}"; do
    while read -r target result; do
      for d in "${PODS[@]}"; do [[ ${target%%:*} == "${IP[$d]}" ]] && break; done
      p=${target#*:}
      GOT["$s $d $p"]=$([[ $result == ok ]] && echo 1 || echo 0)
    done <"$out/${s/\//-}"
  done
  for s in "${PODS[@]}"; do
    for d in "${PODS[@]}"; do
      [[ $s == "$d" ]] && continue
      for p in "${PORTS[@]}"; do
        total=$((total + 1))
        if [[ ${GOT["$s $d $p"]} != "${EXP["$s $d $p"]}" ]]; then
          bad=$((bad + 1))
          ((bad <= 20)) && echo "  $case: $s -> $d $p: expected $([[ ${EXP["$s $d $p"]} == 1 ]] && echo open || echo blocked), got $([[ ${GOT["$s $d $p"]} == 1 ]] && echo open || echo blocked)" >&2
        fi
      done
    done
  done
  ((bad == 0)) || fail "$case: $bad of $total probes differ from the expected matrix"
  pass "$case: all $total probes as expected"
}

# apply_policy CASE YAML: applies on h1 (or $ON), waits until both hosts enforce it.
apply_policy() {
  local yaml=$HARNESS_DIR/policy.yaml
  cat >"$yaml"
  weft_on "${ON:-h1}" policy apply -f "$yaml" >/dev/null || fail "policy apply failed: $(cat "$yaml")"
  settle
}
clear_policies() {
  local names
  names=$(weft_on h1 policy list --json | jq -r '.[] | "\(.metadata.namespace)/\(.metadata.name)"')
  # shellcheck disable=SC2086 # one argument per policy
  [[ -z $names ]] || weft_on h2 policy delete $names >/dev/null
  settle
}

settle
expect_all 1
probe_matrix "no policy (positive control: everything connects)"

apply_policy <<'Y'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-ingress, namespace: x}
spec: {podSelector: {}, policyTypes: [Ingress]}
Y
expect_all 1
expect '*' 'x/*' '*' 0
probe_matrix "default-deny-ingress in x"
clear_policies

apply_policy <<'Y'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-egress, namespace: x}
spec: {podSelector: {}, policyTypes: [Egress]}
Y
expect_all 1
expect 'x/*' '*' '*' 0
probe_matrix "default-deny-egress in x"
clear_policies

apply_policy <<'Y'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-all, namespace: x}
spec: {podSelector: {}, policyTypes: [Ingress, Egress]}
Y
expect_all 1
expect 'x/*' '*' '*' 0
expect '*' 'x/*' '*' 0
probe_matrix "default-deny-all in x"
clear_policies

apply_policy <<'Y'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: a-from-b, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress: [{from: [{podSelector: {matchLabels: {pod: b}}}]}]
Y
expect_all 1
expect '*' x/a '*' 0
expect x/b x/a '*' 1
probe_matrix "podSelector: x/a admits pod=b of its own namespace only"
clear_policies

apply_policy <<'Y'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: a-from-ns-y, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress: [{from: [{namespaceSelector: {matchLabels: {ns: "y"}}}]}]
Y
expect_all 1
expect '*' x/a '*' 0
expect 'y/*' x/a '*' 1
probe_matrix "namespaceSelector: x/a admits namespace y"
clear_policies

apply_policy <<'Y'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: a-from-b-in-y-or-z, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress:
  - from:
    - namespaceSelector: {matchExpressions: [{key: ns, operator: In, values: ["y", z]}]}
      podSelector: {matchLabels: {pod: b}}
Y
expect_all 1
expect '*' x/a '*' 0
expect y/b x/a '*' 1
expect z/b x/a '*' 1
probe_matrix "namespaceSelector AND podSelector in one peer (matchExpressions In)"
clear_policies

apply_policy <<'Y'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: a-from-y-or-b, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {ns: "y"}}
    - podSelector: {matchLabels: {pod: b}}
Y
expect_all 1
expect '*' x/a '*' 0
expect 'y/*' x/a '*' 1
expect x/b x/a '*' 1
probe_matrix "two peers are OR: namespace y, or pod=b of x"
clear_policies

apply_policy <<'Y'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: not-c-from-not-b, namespace: x}
spec:
  podSelector: {matchExpressions: [{key: pod, operator: NotIn, values: [c]}]}
  ingress:
  - from:
    - namespaceSelector: {matchExpressions: [{key: ns, operator: Exists}]}
      podSelector: {matchExpressions: [{key: pod, operator: NotIn, values: [b]}]}
    - podSelector: {matchExpressions: [{key: team, operator: DoesNotExist}, {key: pod, operator: In, values: [c]}]}
Y
expect_all 1
expect '*' x/a '*' 0
expect '*' x/b '*' 0
expect '*/a' 'x/[ab]' '*' 1
expect '*/c' 'x/[ab]' '*' 1
probe_matrix "matchExpressions NotIn, Exists, DoesNotExist"
clear_policies

apply_policy <<'Y'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: a-named-port, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress: [{ports: [{port: serve-80-tcp}, {port: serve-81-udp, protocol: UDP}]}]
Y
expect_all 1
expect '*' x/a '*' 0
expect '*' x/a 80/TCP 1
expect '*' x/a 81/UDP 1
probe_matrix "named ports for ingress"
clear_policies

apply_policy <<'Y'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: a-egress-named-port, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Egress]
  egress: [{to: [{namespaceSelector: {matchLabels: {ns: "y"}}}], ports: [{port: serve-81-tcp}]}]
Y
expect_all 1
expect x/a '*' '*' 0
expect x/a 'y/*' 81/TCP 1
probe_matrix "named port for egress, to namespace y"
clear_policies

apply_policy <<'Y'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: a-port-range, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress: [{ports: [{port: 80, endPort: 81, protocol: TCP}]}]
Y
expect_all 1
expect '*' x/a '*/UDP' 0
probe_matrix "endPort: TCP 80-81 open, UDP not"
clear_policies

apply_policy <<'Y'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: a-udp-only, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress: [{ports: [{port: 80, protocol: UDP}]}]
Y
expect_all 1
expect '*' x/a '*' 0
expect '*' x/a 80/UDP 1
probe_matrix "a UDP-only policy does not open TCP"
clear_policies

apply_policy <<'Y'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: a-from-block, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress: [{from: [{ipBlock: {cidr: 10.32.2.0/24, except: [10.32.2.2/32]}}]}]
Y
expect_all 1
expect '*' x/a '*' 0
expect 'y/[ac]' x/a '*' 1
probe_matrix "ipBlock with except, ingress"
clear_policies

apply_policy <<'Y'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: a-to-block, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Egress]
  egress: [{to: [{ipBlock: {cidr: 10.32.3.0/24, except: [10.32.3.1/32]}}]}]
Y
expect_all 1
expect x/a '*' '*' 0
expect x/a 'z/[bc]' '*' 1
probe_matrix "ipBlock with except, egress"
clear_policies

apply_policy <<'Y'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-x, namespace: x}
spec: {podSelector: {}, policyTypes: [Ingress]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: a-from-z-80, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress: [{from: [{namespaceSelector: {matchLabels: {ns: z}}}], ports: [{port: 80}]}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: a-from-y-81, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress: [{from: [{namespaceSelector: {matchLabels: {ns: "y"}}}], ports: [{port: 81}]}]
Y
expect_all 1
expect '*' 'x/*' '*' 0
expect 'z/*' x/a '80/TCP' 1
expect 'y/*' x/a '81/TCP' 1
probe_matrix "stacked policies: the union of what each allows"
ON=h2 apply_policy <<'Y'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-all, namespace: x}
spec: {podSelector: {}, ingress: [{}]}
Y
expect_all 1
probe_matrix "allow-all takes precedence over deny (applied on the other host)"
clear_policies

# Updates: labels of a workload and of a namespace, a changed policy, a deleted one.
apply_policy <<'Y'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: a-from-b, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress: [{from: [{podSelector: {matchLabels: {pod: b}}, namespaceSelector: {matchLabels: {team: blue}}}]}]
Y
expect_all 1
expect '*' x/a '*' 0
probe_matrix "peers need namespace team=blue: none has it yet"
weft_on h2 namespace label y team=blue >/dev/null
settle
expect y/b x/a '*' 1
probe_matrix "namespace y labelled team=blue: y/b gets in"
weft_on "${HOST[y/b]}" label "${NETNS[y/b]}" pod=d >/dev/null
settle
expect y/b x/a '*' 0
probe_matrix "y/b relabelled pod=d: out again"
weft_on "${HOST[y/b]}" label "${NETNS[y/b]}" pod=b >/dev/null
apply_policy <<'Y'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: a-from-b, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress: [{from: [{podSelector: {matchLabels: {pod: c}}, namespaceSelector: {}}]}]
Y
expect_all 1
expect '*' x/a '*' 0
expect '*/c' x/a '*' 1
probe_matrix "the policy changed to pod=c of any namespace"
weft_on h2 policy delete x/a-from-b >/dev/null
settle
expect_all 1
probe_matrix "deleting the policy stops its enforcement"

# Blocked connections were logged by weft-npc and counted.
h=${HOST[x/a]}
grep -q "blocked TCP .* -> x/a (${IP[x/a]})" "$(host_datadir "$h")/npc.log" ||
  fail "no blocked-flow line for x/a in $h's npc.log"
curl -sf --unix-socket "$(host_datadir "$h")/npc.sock" http://weft/metrics |
  grep -q '^weft_npc_blocked_connections_total{protocol="TCP",port="80"} [1-9]' ||
  fail "weft_npc_blocked_connections_total did not count the blocked probes"
pass "blocked connections were logged with namespace/name and counted in weft-npc's metrics"

# What cannot be enforced as written is said, not silently widened: an IPv6 ipBlock.
cat >"$HARNESS_DIR/v6.yaml" <<'Y'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: from-v6, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress: [{from: [{ipBlock: {cidr: "fd00::/8"}}]}]
Y
weft_on h1 policy apply -f "$HARNESS_DIR/v6.yaml" >/dev/null || fail "policy apply failed"
settle
got=$(weft_on h2 policy get x/from-v6 2>&1 >/dev/null)
[[ $got == *"not enforced as written"*"x/from-v6"* ]] || fail "policy get does not warn: $got"
wait_for "weft-npc to log it" 5 grep -q "not enforced as written: x/from-v6" "$(host_datadir "${HOST[x/a]}")/npc.log" ||
  fail "weft-npc did not log the policy it cannot enforce"
expect_all 1
expect '*' x/a '*' 0
probe_matrix "an IPv6-only ipBlock isolates x/a and admits nothing over IPv4 (not widened)"
