#include "cli/service_manager.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include "cli/output.h"

namespace weft::cli {

bool under_systemd() {
  for (const char* v : {"INVOCATION_ID", "NOTIFY_SOCKET"}) {
    if (const char* s = std::getenv(v); s && *s) return true;
  }
  return false;
}

void notify_service_ready(std::optional<pid_t> main_pid) {
  const char* path = std::getenv("NOTIFY_SOCKET");
  if (!path || !*path) {
    if (under_systemd()) {
      warn(
          "Note: weft launch runs under systemd without Type=notify: when it exits, systemd "
          "considers the service finished and may stop the router with it. Use the unit "
          "weft-router.service shipped with weft (Type=notify, NotifyAccess=all).");
    }
    return;
  }
  std::string msg = "READY=1\nSTATUS=weft router running\n";
  if (main_pid) msg += "MAINPID=" + std::to_string(*main_pid) + "\n";
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  size_t len = std::strlen(path);
  if (len >= sizeof addr.sun_path || (path[0] != '/' && path[0] != '@')) {
    warn(std::string("Note: NOTIFY_SOCKET=") + path +
         " is not a socket path; systemd was not told "
         "that weft is ready.");
    return;
  }
  std::memcpy(addr.sun_path, path, len);
  if (path[0] == '@') addr.sun_path[0] = '\0';  // an abstract socket
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  socklen_t alen = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len);
  if (fd < 0 ||
      ::sendto(fd, msg.data(), msg.size(), 0, reinterpret_cast<sockaddr*>(&addr), alen) < 0) {
    warn(std::string("Note: could not tell systemd that weft is ready (") + std::strerror(errno) +
         ").");
  }
  if (fd >= 0) ::close(fd);
}

}  // namespace weft::cli
