#!/usr/bin/env bash
# `weft setup-cni` installs weft-cni and a valid conflist named weft into the directories given,
# and the installed plugin runs as a runtime would run it: VERSION answers, and ADD without a
# router says how to start weft (CNI error code 11) and leaves nothing behind. No namespaces, no
# root needed: everything happens in a scratch directory.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../../scripts/lib/netns.sh
source "$here/../../scripts/lib/netns.sh"
command -v jq >/dev/null || fail "this test needs jq (apt-get install jq)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/weft-setup-cni.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
conf=$tmp/net.d bin=$tmp/cni-bin data=$tmp/data

out=$("$WEFT" --datadir "$data" setup-cni --conf-dir "$conf" --bin-dir "$bin") ||
  fail "setup-cni failed: $out"
[[ $out == *"podman run --network weft"* ]] || fail "no podman hint in: $out"
list=$conf/10-weft.conflist
[[ -f $list ]] || fail "no conflist in $conf: $(ls -la "$conf")"
jq -e --arg d "$data" '.cniVersion == "1.0.0" and .name == "weft" and (.plugins | length) == 1
  and .plugins[0].type == "weft-cni" and .plugins[0].datadir == $d' "$list" >/dev/null ||
  fail "conflist is not what runtimes need: $(cat "$list")"
[[ -x $bin/weft-cni ]] && cmp -s "$bin/weft-cni" "$WEFT_BIN_DIR/weft-cni" ||
  fail "the installed plugin is not the built weft-cni"
pass "setup-cni wrote the plugin and a conflist named weft"

# Run the installed plugin the way libcni does: the list's plugin entry with cniVersion and name
# inserted, on stdin; parameters in the environment.
exec_conf=$(jq -c '.plugins[0] + {cniVersion: .cniVersion, name: .name}' "$list")
version=$(echo "$exec_conf" | CNI_COMMAND=VERSION "$bin/weft-cni") || fail "VERSION failed: $version"
echo "$version" | jq -e '.supportedVersions | index("1.0.0") and index("0.4.0")' >/dev/null ||
  fail "VERSION does not list 1.0.0 and 0.4.0: $version"
rc=0
err=$(echo "$exec_conf" | CNI_COMMAND=ADD CNI_CONTAINERID=setupcnitest CNI_NETNS=/proc/self/ns/net \
  CNI_IFNAME=eth0 CNI_PATH="$bin" "$bin/weft-cni") || rc=$?
[[ $rc -ne 0 ]] || fail "ADD without a router succeeded: $err"
echo "$err" | jq -e '.code == 11 and (.msg | contains("weft launch"))
  and (.details | contains("'"$data"'/api.sock"))' >/dev/null ||
  fail "ADD without a router: not the CNI error with the weft launch hint: $err"
[[ ! -e $data ]] || fail "ADD without a router created $data"
pass "the installed plugin answers VERSION, and ADD without weft says to run weft launch"

# Running it again replaces both files (an upgrade); a directory that cannot be created is an
# error that names it.
"$WEFT" --datadir "$data" setup-cni --conf-dir "$conf" --bin-dir "$bin" >/dev/null ||
  fail "a second setup-cni failed"
[[ $(ls "$conf") == 10-weft.conflist ]] || fail "a second run left extra files: $(ls "$conf")"
rc=0
err=$("$WEFT" --datadir "$data" setup-cni --conf-dir /proc/weft-nope --bin-dir "$bin" 2>&1) || rc=$?
[[ $rc -ne 0 && $err == *"/proc/weft-nope"* ]] || fail "a bad --conf-dir was not refused: $err"
pass "setup-cni is repeatable and names a directory it cannot use"
