#!/usr/bin/env bash
# Smoke test with a real CNI runtime (podman 4 with its CNI backend, ../shared/containers.md):
# podman finds the network "weft" that `weft setup-cni` wrote, runs weft-cni from the plugin dir,
# and, with no weft router on the host, fails the container's start with weft-cni's CNI error
# ("weft is not running on this host: start it with `weft launch`"), leaving no veth behind.
# Containers on a running weft: test_podman_cni_mesh.sh; weft-cni's other errors:
# test_cni_bad_inputs.sh.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../../scripts/lib/netns.sh
source "$here/../../scripts/lib/netns.sh"
# shellcheck source=SCRIPTDIR/lib_podman.sh
source "$here/lib_podman.sh"

harness_init podmancni
podman_cleanup_trap
harness_add_hosts 1
podman_setup h1
dir=$(host_dir h1)
bin=$dir/cni-bin
# Record what podman asks of the plugin: a wrapper in front of the installed weft-cni.
mv "$bin/weft-cni" "$bin/weft-cni.real"
cat >"$bin/weft-cni" <<WRAP
#!/bin/sh
echo "\$CNI_COMMAND" >>"$dir/cni-calls"
exec "$bin/weft-cni.real" "\$@"
WRAP
chmod 0755 "$bin/weft-cni"

networks=$(podman_on h1 network ls --format '{{.Name}}' 2>&1) || fail "podman network ls: $networks"
grep -qx weft <<<"$networks" || fail "podman does not see the network weft: $networks"
pass "podman sees the network weft from the conflist setup-cni wrote"

rc=0
out=$(podman_on h1 run --rm --network weft "${PODMAN_RUN_ARGS[@]}" /bin/true 2>&1) || rc=$?
[[ $rc -ne 0 ]] || fail "a container on weft started with no weft router: $out"
[[ $out == *"weft is not running on this host: start it with \`weft launch\`"* ]] ||
  fail "podman did not report weft-cni's error: $out"
grep -qx ADD "$dir/cni-calls" || fail "podman never ran weft-cni ADD: $(cat "$dir/cni-calls")"
left=$(hexec h1 ip -o link show type veth | grep vethwe || true)
[[ -z $left ]] || fail "the failed ADD left a veth on h1: $left"
pass "podman ran weft-cni ($(sort -u "$dir/cni-calls" | xargs)) and showed its error, nothing left: $(grep -o 'weft is not running[^"]*' <<<"$out" | head -1)"
