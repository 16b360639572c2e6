#pragma once
// A synchronous HTTP/1.1 client for the router's local API over its unix socket: one request per
// connection, the whole exchange bounded by one deadline. Used by the CLI, which does nothing
// else while it waits, so blocking is the simplest correct shape.
#include <chrono>
#include <stdexcept>
#include <string>

#include "common/http_message.h"

namespace weft {

// Nothing is listening at the socket path (no file, connection refused, no permission). `code`
// is the errno, so a caller can tell "not running" (ENOENT, ECONNREFUSED) from "not allowed"
// (EACCES, EPERM).
struct HttpConnectError : std::runtime_error {
  HttpConnectError(const std::string& what, int errno_code)
      : std::runtime_error(what), code(errno_code) {}
  int code;
};

// The server accepted but did not answer completely before the deadline.
struct HttpTimeoutError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Sends one request and returns the response, whatever its status. Throws HttpConnectError,
// HttpTimeoutError, or std::runtime_error (HttpParseError) for a broken response.
HttpResult http_request(const std::string& unix_socket_path, const std::string& method,
                        const std::string& target, const std::string& body = "",
                        std::chrono::milliseconds timeout = std::chrono::seconds(5));

}  // namespace weft
