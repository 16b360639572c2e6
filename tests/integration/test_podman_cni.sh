#!/usr/bin/env bash
# Smoke test with a real CNI runtime (podman 4 with its CNI backend, ../shared/containers.md):
# podman finds the network "weft" that `weft setup-cni` wrote, runs weft-cni from the plugin dir,
# and, with no weft router on the host, fails the container's start with weft-cni's CNI error
# ("weft is not running on this host: start it with `weft launch`"). No router wiring yet: the
# router's /workloads endpoints are issue 8. Everything podman keeps (storage, run state, CNI
# config and plugin dirs) lives in the test's scratch dir, and podman runs in the test host's
# network namespace, so the machine's own podman setup and network are untouched.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../../scripts/lib/netns.sh
source "$here/../../scripts/lib/netns.sh"
for c in podman runc busybox nsenter; do
  command -v "$c" >/dev/null || fail "this test needs $c (scripts/bootstrap installs it)"
done

harness_init podmancni
harness_add_hosts 1
dir=$(host_dir h1)
conf=$dir/net.d bin=$dir/cni-bin
"$WEFT" --datadir "$(host_datadir h1)" setup-cni --conf-dir "$conf" --bin-dir "$bin" >/dev/null ||
  fail "setup-cni failed"
# Record what podman asks of the plugin: a wrapper in front of the installed weft-cni.
mv "$bin/weft-cni" "$bin/weft-cni.real"
cat >"$bin/weft-cni" <<WRAP
#!/bin/sh
echo "\$CNI_COMMAND" >>"$dir/cni-calls"
exec "$bin/weft-cni.real" "\$@"
WRAP
chmod 0755 "$bin/weft-cni"
cat >"$dir/containers.conf" <<CONF
[network]
network_backend = "cni"
cni_plugin_dirs = ["$bin"]
network_config_dir = "$conf"
CONF
rootfs=$dir/rootfs
mkdir -p "$rootfs/bin"
cp "$(command -v busybox)" "$rootfs/bin/"
for a in sh ip true; do ln -sf busybox "$rootfs/bin/$a"; done

# vfs: the overlay driver would mount inside the scratch dir, which the harness then cannot remove.
podman_in_h1() {
  CONTAINERS_CONF=$dir/containers.conf nsenter --net="/run/netns/$(host_ns h1)" \
    podman --root "$dir/storage" --runroot "$dir/run" --storage-driver vfs --runtime runc \
    --network-config-dir "$conf" "$@"
}
networks=$(podman_in_h1 network ls --format '{{.Name}}' 2>&1) || fail "podman network ls: $networks"
grep -qx weft <<<"$networks" || fail "podman does not see the network weft: $networks"
pass "podman sees the network weft from the conflist setup-cni wrote"

rc=0
out=$(podman_in_h1 run --rm --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 --network weft \
  --rootfs "$rootfs" /bin/true 2>&1) || rc=$?
[[ $rc -ne 0 ]] || fail "a container on weft started with no weft router: $out"
[[ $out == *"weft is not running on this host: start it with \`weft launch\`"* ]] ||
  fail "podman did not report weft-cni's error: $out"
grep -qx ADD "$dir/cni-calls" || fail "podman never ran weft-cni ADD: $(cat "$dir/cni-calls")"
pass "podman ran weft-cni ($(sort -u "$dir/cni-calls" | xargs)) and showed its error: $(grep -o 'weft is not running[^"]*' <<<"$out" | head -1)"
