#include "common/http_client.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace weft {

namespace {

using Clock = std::chrono::steady_clock;

struct Socket {
  int fd = -1;
  ~Socket() {
    if (fd >= 0) ::close(fd);
  }
};

std::string reach_error(const std::string& path, const std::string& reason) {
  return "cannot reach the weft router at " + path + ": " + reason;
}

// Milliseconds left before `deadline`, at least 0, for poll().
int remaining_ms(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

// Waits until `fd` is ready for `events` or the deadline passes (then throws).
void wait_ready(int fd, short events, Clock::time_point deadline, const std::string& path,
                std::chrono::milliseconds timeout) {
  for (;;) {
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, remaining_ms(deadline));
    if (n > 0) return;
    if (n == 0) {
      throw HttpTimeoutError("the weft router at " + path + " did not answer within " +
                             std::to_string(timeout.count()) + " ms");
    }
    if (errno != EINTR) throw std::runtime_error(reach_error(path, std::strerror(errno)));
  }
}

}  // namespace

HttpResult http_request(const std::string& unix_socket_path, const std::string& method,
                        const std::string& target, const std::string& body,
                        std::chrono::milliseconds timeout) {
  const std::string& path = unix_socket_path;
  const auto deadline = Clock::now() + timeout;

  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    throw HttpConnectError(reach_error(path, "socket path is too long (max " +
                                                 std::to_string(sizeof addr.sun_path - 1) +
                                                 " bytes); use a shorter --datadir"),
                           ENAMETOOLONG);
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);

  Socket s;
  s.fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s.fd < 0) throw std::runtime_error(reach_error(path, std::strerror(errno)));
  // A blocking AF_UNIX connect waits only when the listener's backlog is full; SO_SNDTIMEO bounds
  // that wait, so a wedged router cannot hang the CLI.
  // At least 1 ms: a zero SO_SNDTIMEO would mean "wait forever".
  auto ms = std::chrono::milliseconds(std::max(1, remaining_ms(deadline)));
  timeval tv{static_cast<time_t>(ms.count() / 1000),
             static_cast<suseconds_t>(ms.count() % 1000 * 1000)};
  ::setsockopt(s.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  while (::connect(s.fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    if (errno == EINTR) continue;
    int err = errno;
    if (err == EAGAIN || err == EINPROGRESS) {
      throw HttpTimeoutError("the weft router at " + path + " did not accept a connection within " +
                             std::to_string(timeout.count()) + " ms");
    }
    throw HttpConnectError(reach_error(path, std::strerror(err)), err);
  }
  ::fcntl(s.fd, F_SETFL, ::fcntl(s.fd, F_GETFL) | O_NONBLOCK);

  std::string request = method + " " + target + " HTTP/1.1\r\n";
  request += "Host: localhost\r\n";
  request += "User-Agent: weft/" WEFT_VERSION "\r\n";
  request += "Accept: application/json\r\n";
  request += "Connection: close\r\n";
  if (!body.empty()) request += "Content-Type: application/json\r\n";
  request += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  request += body;

  size_t sent = 0;
  while (sent < request.size()) {
    // MSG_NOSIGNAL: a router that closes early must not kill the CLI with SIGPIPE.
    ssize_t n = ::send(s.fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n >= 0) {
      sent += static_cast<size_t>(n);
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      wait_ready(s.fd, POLLOUT, deadline, path, timeout);
    } else if (errno == EPIPE || errno == ECONNRESET) {
      break;  // the router answered early (say, 413) and closed; read what it said
    } else if (errno != EINTR) {
      throw std::runtime_error(reach_error(path, std::strerror(errno)));
    }
  }

  std::string buf;
  char chunk[65536];
  for (;;) {
    ssize_t n = ::recv(s.fd, chunk, sizeof chunk, 0);
    if (n > 0) {
      buf.append(chunk, static_cast<size_t>(n));
      if (auto r = parse_http_response(buf, false)) return *r;
    } else if (n == 0) {
      return *parse_http_response(buf, true);
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      wait_ready(s.fd, POLLIN, deadline, path, timeout);
    } else if (errno == ECONNRESET) {
      return *parse_http_response(buf, true);
    } else if (errno != EINTR) {
      throw std::runtime_error(reach_error(path, std::strerror(errno)));
    }
  }
}

}  // namespace weft
