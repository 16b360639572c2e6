#pragma once
// Running under systemd (deploy/systemd/weft-router.service): `weft launch` is the service's
// start command. It sets the host up and starts the router as usual; with Type=notify it then
// tells systemd that the service is ready only once the router's API answers, and that the
// router is the service's main process (MAINPID), so systemd supervises and restarts the
// router itself, not the short-lived `weft launch`. Implements the sd_notify(3) datagram
// protocol directly (no libsystemd).
#include <sys/types.h>

#include <optional>

namespace weft::cli {

// True when started by systemd as (part of) a service: $INVOCATION_ID or $NOTIFY_SOCKET is set.
bool under_systemd();

// Sends "READY=1" (with "MAINPID=pid" when given) to $NOTIFY_SOCKET. Without one it does
// nothing, but warns when under_systemd() (Type=simple would take the router down with it). A
// failure to send is a warning: systemd then reports the start as timed out, with the reason in the
// journal.
void notify_service_ready(std::optional<pid_t> main_pid);

}  // namespace weft::cli
