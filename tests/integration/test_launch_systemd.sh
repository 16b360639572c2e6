#!/usr/bin/env bash
# `weft launch` under systemd (Type=notify, deploy/systemd/weft-router.service): it tells the
# service manager READY=1 only after the router's API answers, with MAINPID = the router's pid,
# so systemd supervises the router; a second launch (router already up) says the same; without
# NOTIFY_SOCKET but under systemd (INVOCATION_ID) it warns that Type=simple would stop the
# router. The service manager is a datagram socket this test listens on, as systemd does.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../../scripts/lib/netns.sh
source "$here/../../scripts/lib/netns.sh"
# shellcheck source=SCRIPTDIR/lib_weft.sh
source "$here/lib_weft.sh"
command -v python3 >/dev/null || fail "this test needs python3"

unset NOTIFY_SOCKET INVOCATION_ID # this test plays systemd itself
harness_init systemd
harness_add_hosts 1
dir=$(host_dir h1)
sock=$dir/notify.sock
# The "service manager": appends every datagram to notify.log, one message per line pair.
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
open(sys.argv[2] + ".ready", "w").close()
while True:
    m = s.recv(4096).decode()
    with open(sys.argv[2], "a") as f:
        f.write(m.replace("\n", " ").strip() + "\n")
' "$sock" "$dir/notify.log" &
listener=$!
trap 'kill "$listener" 2>/dev/null || true' EXIT
wait_for "the notify listener" 10 test -e "$dir/notify.log.ready" || fail "no notify listener"

# `ip netns exec` (hexec) drops NOTIFY_SOCKET from the environment; nsenter keeps it.
launch_as_service() { # ENV...: `weft launch` in h1 with these variables, as systemd starts it
  env "$@" nsenter --net="/run/netns/$(host_ns h1)" "$WEFT" --datadir "$(host_datadir h1)" \
    launch --nickname h1
}
launch_as_service NOTIFY_SOCKET="$sock" INVOCATION_ID=test >/dev/null ||
  fail "weft launch under a fake systemd failed"
router_pid=$(cat "$(host_datadir h1)/router.pid")
notified() { grep -q "READY=1 .*MAINPID=$router_pid" "$dir/notify.log" 2>/dev/null; }
wait_for "READY=1 MAINPID=$router_pid" 5 notified || fail "no READY with the router's pid: $(cat "$dir/notify.log" 2>&1)"
weft_on h1 status >/dev/null || fail "the router does not answer although READY was sent"
pass "launch under systemd: READY=1 with MAINPID = the router ($router_pid) once its API answers"

: >"$dir/notify.log"
launch_as_service NOTIFY_SOCKET="$sock" >/dev/null || fail "a second launch failed"
wait_for "READY again" 5 notified || fail "a second launch did not re-announce the router"
pass "a launch that finds the router running hands systemd the same router"

# Under systemd without Type=notify: a warning; and outside systemd nothing is said.
out=$(launch_as_service INVOCATION_ID=test 2>&1) || fail "launch under Type=simple failed: $out"
[[ $out == *"without Type=notify"* ]] || fail "no Type=notify warning: $out"
out=$(launch_as_service 2>&1) || fail "launch failed: $out"
[[ $out != *"Type=notify"* ]] || fail "a warning about systemd outside systemd: $out"
pass "under systemd without NOTIFY_SOCKET launch warns; outside systemd it does not"
weft_on h1 stop >/dev/null
