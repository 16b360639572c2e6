#!/usr/bin/env bash
# weft-cni's failures, as a runtime sees them: no router running, a malformed configuration, an
# unknown CNI version, a network namespace path that does not exist (or is not a namespace), and
# an ADD that fails in the router after IPAM gave an address (the container already has the
# interface). Each answers CNI error JSON (code, msg) on stdout with a non-zero exit status and
# leaves nothing behind: no veth, no IPAM allocation, no workload record. A good ADD and its DEL
# are the positive control of each "nothing" check.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../../scripts/lib/netns.sh
source "$here/../../scripts/lib/netns.sh"
# shellcheck source=SCRIPTDIR/lib_weft.sh
source "$here/lib_weft.sh"

harness_init cnibad
harness_add_hosts 1
dir=$(host_dir h1)
"$WEFT" --datadir "$(host_datadir h1)" setup-cni --conf-dir "$dir/net.d" --bin-dir "$dir/bin" \
  >/dev/null || fail "setup-cni failed"
good_conf=$(jq -c '{cniVersion, name} + .plugins[0]' "$dir"/net.d/*.conflist)
# Named after the host, so the harness's cleanup deletes them with the run's other namespaces.
c1="$(host_ns h1)-c1" c2="$(host_ns h1)-c2"
for c in "$c1" "$c2"; do ip netns add "$c" || fail "cannot create $c"; done

# cni COMMAND CONTAINER_ID NETNS_PATH CONFIG: weft-cni as a runtime runs it, in h1 (with $CNI_ARGS
# if set); prints its stdout, returns its exit status.
cni() {
  hexec h1 env CNI_ARGS="${CNI_ARGS:-}" CNI_COMMAND="$1" CNI_CONTAINERID="$2" CNI_NETNS="$3" CNI_IFNAME=eth0 \
    CNI_PATH="$dir/bin" "$dir/bin/weft-cni" <<<"$4"
}
# expect_error WHAT CODE MSG_PART COMMAND...: the command fails with CNI error JSON of that code
# whose msg (or details) contains MSG_PART; prints "msg (details)".
expect_error() {
  local what=$1 code=$2 part=$3 out rc=0
  shift 3
  out=$("$@" 2>/dev/null) || rc=$?
  ((rc != 0)) || fail "$what: weft-cni succeeded: $out"
  jq -e --argjson c "$code" --arg p "$part" \
    '.code == $c and (.msg | length > 0) and ((.msg + " " + (.details // "")) | contains($p))' \
    <<<"$out" >/dev/null || fail "$what: not CNI error $code with \"$part\": $out"
  jq -r '.msg + (if .details then " (" + .details + ")" else "" end)' <<<"$out"
}
# Nothing of any container on h1: no workload veth, no allocation, no record.
veths() { hexec h1 ip -o link show type veth | awk -F': ' '{ print $2 }' | grep '^vethwe' || true; }
nothing_left() {
  [[ -z $(veths) ]] || fail "$1: a veth is left on h1: $(veths)"
  [[ $(weft_on h1 status ipam --json | jq '.allocations | length') == 0 ]] ||
    fail "$1: an address is left allocated: $(weft_on h1 status ipam --json | jq -c .allocations)"
  [[ $(weft_on h1 ps --json | jq length) == 0 ]] || fail "$1: a workload record is left: $(weft_on h1 ps --json)"
}

m=$(expect_error "no router" 11 "weft is not running on this host: start it with \`weft launch\`" \
  cni ADD cid1 "/run/netns/$c1" "$good_conf")
[[ -z $(veths) ]] || fail "ADD without a router left a veth: $(veths)"
pass "no router: code 11, \"$m\", no veth"

weft_launch_first h1 >/dev/null || fail "weft launch on h1 failed"
# Positive control: a good ADD leaves exactly what the checks below look for.
out=$(cni ADD cid1 "/run/netns/$c1" "$good_conf") || fail "a good ADD failed: $out"
[[ -n $(veths) && $(weft_on h1 status ipam --json | jq '.allocations | length') == 1 &&
  $(weft_on h1 ps --json | jq length) == 1 ]] || fail "a good ADD did not leave a veth, an address and a record"
cni DEL cid1 "/run/netns/$c1" "$good_conf" >/dev/null || fail "DEL failed"
nothing_left "DEL"
cni DEL cid1 "/run/netns/$c1" "$good_conf" >/dev/null || fail "a second DEL (already gone) failed"
pass "positive control: a good ADD leaves a veth, an address and a record; DEL removes them, and a second DEL succeeds"

m=$(expect_error "malformed config" 6 "" cni ADD cid2 "/run/netns/$c1" '{"cniVersion": "1.0.0", "name": ')
nothing_left "malformed config"
pass "malformed configuration: code 6, \"$m\", nothing left"

m=$(expect_error "unknown version" 1 "9.9.9" cni ADD cid3 "/run/netns/$c1" \
  "$(jq -c '.cniVersion = "9.9.9"' <<<"$good_conf")")
nothing_left "unknown version"
pass "unknown CNI version: code 1, \"$m\", nothing left"

m=$(expect_error "missing netns" 4 "does not exist" cni ADD cid4 "/run/netns/$(host_ns h1)-nope" "$good_conf")
nothing_left "missing netns"
touch "$dir/not-a-netns"
m2=$(expect_error "not a netns" 100 "is not a network namespace" cni ADD cid4 "$dir/not-a-netns" "$good_conf")
nothing_left "not a netns"
m3=$(expect_error "host netns" 100 "the host's own network namespace" cni ADD cid4 \
  "/run/netns/$(host_ns h1)" "$good_conf")
nothing_left "host netns"
pass "netns path that does not exist: code 4, \"$m\"; a file that is no namespace: code 100, \"$m2\"; the host's own: \"$m3\"; nothing left"

m=$(CNI_ARGS="K8S_POD_NAMESPACE=Not_A_Namespace" expect_error "bad namespace" 100 "namespace" \
  cni ADD cid6 "/run/netns/$c1" "$good_conf")
nothing_left "bad namespace"
pass "an invalid namespace from CNI_ARGS: code 100, \"$m\", nothing left"

# Refused by the router after IPAM allocated: the container already has an eth0.
ip -n "$c2" link add eth0 type veth peer name eth0p || fail "cannot add eth0 to $c2"
m=$(expect_error "eth0 present" 100 "already has an interface named eth0" cni ADD cid5 "/run/netns/$c2" "$good_conf")
nothing_left "eth0 present"
pass "ADD into a namespace that has eth0 already: code 100, \"$m\"; its address was released, nothing left"
