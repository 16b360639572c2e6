#!/usr/bin/env bash
# scripts/package builds a .deb that installs into a clean root and works there: the package
# holds the binaries, the CNI plugin in /usr/lib/cni, the systemd units, /etc/default/weft as a
# conffile, bash completion and the man page; `weft version`, `weft --help` and `weft-cni
# VERSION` run from the unpacked tree inside a fresh network namespace (a host with no weft);
# `weft --help` and the man page name every command of the README's CLI section. The machine
# is not changed: the package is unpacked with dpkg -x into a scratch dir, never installed.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../../scripts/lib/netns.sh
source "$here/../../scripts/lib/netns.sh"
repo=$(cd "$here/../.." && pwd)
command -v dpkg-deb >/dev/null || fail "this test needs dpkg-deb"
command -v unshare >/dev/null || fail "this test needs unshare (util-linux)"
command -v man >/dev/null || fail "this test needs man (man-db)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/weft-package-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

deb=$("$repo/scripts/package" --bin-dir "$WEFT_BIN_DIR" --out "$tmp" | tail -1)
version=$(sed -n 's/^project(weft VERSION \([0-9.]*\).*/\1/p' "$repo/CMakeLists.txt")
[[ $deb == "$tmp/weft_${version}_$(dpkg --print-architecture).deb" && -f $deb ]] ||
  fail "no weft_VERSION_ARCH.deb: $deb"
info=$(dpkg-deb -I "$deb")
for f in "Package: weft" "Version: $version" "Depends: .*libsodium" "Depends: .*iproute2"; do
  grep -q "$f" <<<"$info" || fail "control lacks $f: $info"
done
[[ $(dpkg-deb -I "$deb" conffiles) == /etc/default/weft ]] || fail "/etc/default/weft not a conffile"
pass "$(basename "$deb") has the control fields, dependencies and conffile"

root=$tmp/root
dpkg-deb -x "$deb" "$root"
for f in usr/bin/weft usr/bin/weft-router usr/bin/weft-cni usr/lib/cni/weft-cni \
  lib/systemd/system/weft-router.service lib/systemd/system/weft-npc.service etc/default/weft \
  usr/share/bash-completion/completions/weft usr/share/man/man1/weft.1.gz; do
  [[ -e $root/$f ]] || fail "the package lacks /$f"
done
[[ $(stat -c %a "$root/usr/lib/cni/weft-cni") == 755 ]] || fail "weft-cni is not executable"
pass "the package holds binaries, plugin, units, completion and man page"

# A clean host: a new network namespace with nothing of weft, running the unpacked binaries.
on_clean_host() { unshare --net -- "$@"; }
out=$(on_clean_host "$root/usr/bin/weft" version) || fail "weft version failed: $out"
[[ $out == "weft $version" ]] || fail "weft version said: $out"
help=$(on_clean_host "$root/usr/bin/weft" --help) || fail "weft --help failed: $help"
cni=$(echo '{"cniVersion": "1.0.0"}' | on_clean_host env CNI_COMMAND=VERSION "$root/usr/lib/cni/weft-cni")
[[ $(jq -r .cniVersion <<<"$cni") == 1.0.0 ]] || fail "weft-cni VERSION said: $cni"
rc=0
err=$(on_clean_host "$root/usr/bin/weft" --datadir "$tmp/none" status 2>&1) || rc=$?
[[ $rc -ne 0 && $err == *"weft launch"* ]] || fail "weft status on a clean host: $err"
pass "weft version, weft --help, weft-cni VERSION run from the package on a clean host"

# The README's CLI section is the reference: every command it lists is in --help and the man page.
man_text=$(MANWIDTH=200 man -l "$root/usr/share/man/man1/weft.1.gz" 2>/dev/null)
commands=$(sed -n '/^## The CLI/,/^## /p' "$repo/README.md" | grep -oE '^weft [a-z-]+' | cut -d' ' -f2 |
  sort -u)
[[ $(wc -w <<<"$commands") -ge 10 ]] || fail "could not read the README's commands: $commands"
for c in $commands; do
  grep -qE "^  $c( |$)" <<<"$help" || fail "weft --help lacks '$c' (README lists it): $help"
  grep -qE "(^| )$c( |$)" <<<"$man_text" || fail "the man page lacks '$c' (README lists it)"
done
pass "weft --help and weft(1) list every command of the README: $(echo $commands)"

# The completion script loads and completes subcommands and their options (bash-completion's
# _init_completion is stubbed: the test needs no bash-completion package).
completion=$root/usr/share/bash-completion/completions/weft
complete_words() { # LINE: prints the completions bash would offer at the end of LINE
  bash -c '
    _init_completion() { cur=${COMP_WORDS[COMP_CWORD]}; prev=${COMP_WORDS[COMP_CWORD-1]}
      words=("${COMP_WORDS[@]}"); cword=$COMP_CWORD; }
    _filedir() { :; }
    source "$1"; read -ra COMP_WORDS <<<"$2"; [[ $2 == *" " ]] && COMP_WORDS+=("")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _weft; echo "${COMPREPLY[*]}"' _ "$completion" "$1"
}
[[ $(complete_words "weft sta") == status ]] || fail "completion of 'weft sta': $(complete_words "weft sta")"
[[ $(complete_words "weft setup-cni --co") == --conf-dir ]] || fail "completion of setup-cni options"
[[ $(complete_words "weft status ") == "peers connections targets ipam npc" ]] ||
  fail "completion of status views: $(complete_words "weft status ")"
pass "bash completion completes commands, options and status views"
