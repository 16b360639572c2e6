#!/usr/bin/env bash
# The systemd units in deploy/systemd are valid unit files (systemd-analyze verify: sections,
# keys, ExecStart paths, dependencies), with the built binaries in place of /usr/bin's; a broken
# copy is refused (the positive control). How `weft launch` behaves under them:
# test_launch_systemd.sh.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
: "${WEFT_BIN_DIR:=$repo/build}"
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
command -v systemd-analyze >/dev/null || fail "this test needs systemd-analyze (scripts/bootstrap installs systemd)"
[[ -x $WEFT_BIN_DIR/weft ]] || fail "no weft in $WEFT_BIN_DIR; build it first"
dir=$(mktemp -d /tmp/weft-units.XXXXXX)
trap 'rm -rf "$dir"' EXIT

# weft-npc is not built yet: its unit's ExecStart points at the router in its place.
for u in "$repo"/deploy/systemd/*.service; do
  sed -e "s|/usr/bin/weft-npc|$WEFT_BIN_DIR/weft-router|g" -e "s|/usr/bin/weft |$WEFT_BIN_DIR/weft |g" \
    "$u" >"$dir/${u##*/}"
done
units=("$dir"/*.service)
((${#units[@]} >= 2)) || fail "expected weft-router.service and weft-npc.service in deploy/systemd"
out=$(systemd-analyze verify --man=no "${units[@]}" 2>&1) || fail "systemd-analyze verify: $out"
[[ -z $out ]] || fail "systemd-analyze verify warns: $out"
sed -i 's|^ExecStart=.*|ExecStart=weft launch|' "$dir/weft-router.service"
if systemd-analyze verify --man=no "$dir/weft-router.service" >/dev/null 2>&1; then
  fail "systemd-analyze accepted a unit with a relative ExecStart: this check cannot fail"
fi
echo "PASS: deploy/systemd units verify cleanly ($(basename -a "${units[@]}" | xargs)); a broken copy is refused"
