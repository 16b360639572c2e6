# shellcheck shell=bash
# Helpers for the podman tests (tests/integration/test_podman_cni*.sh): a real CNI runtime
# (podman 4 with its CNI backend, ../shared/containers.md) run inside a test host. Everything
# podman keeps (storage, run state, CNI config and plugin dirs) lives in the host's scratch dir,
# and podman runs in the host's network namespace, so the machine's own podman setup and network
# are untouched.
#
#   podman_setup h1            # weft setup-cni into h1's dirs, containers.conf, a busybox rootfs
#   podman_on h1 run -d --name c1 ... "${PODMAN_RUN_ARGS[@]}" /bin/sleep 3600
#   podman_cleanup_trap        # the EXIT trap removes every container first (CNI DEL runs)

for c in podman runc busybox nsenter; do
  command -v "$c" >/dev/null || fail "this test needs $c (scripts/bootstrap installs it)"
done

# What every `podman run` here needs: the rlimits this machine can give, and the rootfs image.
# shellcheck disable=SC2034 # used by the tests that source this file
PODMAN_RUN_ARGS=()

# podman_setup hN: the CNI plugin and the network "weft" (with hN's data dir) in hN's scratch dir,
# a containers.conf pointing podman at them, and (once) a busybox root file system as the image.
podman_setup() {
  local h=$1 dir
  dir=$(host_dir "$h")
  "$WEFT" --datadir "$(host_datadir "$h")" setup-cni --conf-dir "$dir/net.d" \
    --bin-dir "$dir/cni-bin" >/dev/null || fail "setup-cni on $h failed"
  cat >"$dir/containers.conf" <<CONF
[network]
network_backend = "cni"
cni_plugin_dirs = ["$dir/cni-bin"]
network_config_dir = "$dir/net.d"
CONF
  local rootfs=$HARNESS_DIR/rootfs a
  if [[ ! -d $rootfs ]]; then
    mkdir -p "$rootfs/bin"
    cp "$(command -v busybox)" "$rootfs/bin/"
    for a in sh ip ping sleep nc true cat echo; do ln -sf busybox "$rootfs/bin/$a"; done
  fi
  # shellcheck disable=SC2034 # used by the tests that source this file
  PODMAN_RUN_ARGS=(--ulimit nofile=1024:1024 --ulimit nproc=1024:1024 --rootfs "$rootfs")
}

# podman_on hN ARGS...: podman with hN's configuration, in hN's network namespace. vfs: the
# overlay driver would mount inside the scratch dir, which the harness then cannot remove.
podman_on() {
  local h=$1 dir
  shift
  dir=$(host_dir "$h")
  CONTAINERS_CONF=$dir/containers.conf nsenter --net="/run/netns/$(host_ns "$h")" \
    podman --root "$dir/storage" --runroot "$dir/run" --storage-driver vfs --runtime runc \
    --network-config-dir "$dir/net.d" "$@"
}

# podman_cleanup: removes every container of every host set up here (their CNI DEL runs while the
# routers are still up), before the harness deletes the namespaces.
podman_cleanup() {
  local conf
  for conf in "$HARNESS_DIR"/h*/containers.conf; do
    [[ -f $conf ]] || continue
    conf=${conf%/containers.conf}
    podman_on "${conf##*/}" rm -af -t 0 >/dev/null 2>&1 || true
  done
}

# podman_cleanup_trap: call after harness_init; chains podman_cleanup in front of its cleanup.
podman_cleanup_trap() {
  # shellcheck disable=SC2154 # rc is assigned inside the trap
  trap 'rc=$?; podman_cleanup; harness_cleanup $rc' EXIT
}

# podman_ip hN NAME: the container's address on weft (eth0), like 10.32.0.1.
podman_ip() {
  podman_on "$1" exec "$2" ip -4 -o addr show dev eth0 | awk '{ split($4, a, "/"); print a[1] }'
}
