#pragma once
// The router's local HTTP API transport: HTTP/1.1 on Boost.Beast over a 0600 unix socket and,
// optionally, a loopback-only TCP port (ARCHITECTURE.md §5: the API is never reachable from
// workloads or other hosts). Runs on the caller's io_context, single-threaded; the handler is
// called on that thread, one request per connection. Destroy the server before its io_context.
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace boost::asio {
class io_context;
}

namespace weft {

struct HttpServerState;

struct HttpRequest {
  std::string method;
  std::string target;  // as received, with the query
  std::string path;    // decoded, without the query
  std::map<std::string, std::string> query;
  std::string body;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

// Handlers answer through the responder, at once or later (an IPAM allocation may wait for
// address space from another peer); it must be called exactly once, on the io_context's thread.
using HttpResponder = std::function<void(HttpResponse)>;
using HttpHandler = std::function<void(const HttpRequest&, HttpResponder)>;

constexpr size_t kHttpMaxRequestBody = 1 << 20;

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& io, HttpHandler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Serves on a unix socket at `path`, mode 0600. A stale socket file is replaced; a path that
  // is not a socket, or a socket another process still answers on, is refused. Throws
  // std::runtime_error saying which.
  void listen_unix(const std::string& path);
  // Serves on "127.0.0.1:6784" / "[::1]:6784" (port 0 picks one). Throws std::invalid_argument
  // for an address that is not a loopback IP literal, std::runtime_error if it cannot bind.
  void listen_tcp(const std::string& address);
  // The bound TCP address ("127.0.0.1:40123"), or "" when not listening on TCP.
  std::string tcp_address() const;

  // Closes the listeners and any open connections and removes the socket file; idempotent. The
  // handler is not called after this returns.
  void stop();

 private:
  std::shared_ptr<HttpServerState> impl_;
};

}  // namespace weft
