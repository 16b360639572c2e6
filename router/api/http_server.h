#pragma once
// The router's local HTTP API transport: HTTP/1.1 on Boost.Beast over a 0600 unix socket and,
// optionally, a loopback-only TCP port (ARCHITECTURE.md §5: the API is never reachable from
// workloads or other hosts). Runs on the caller's io_context, single-threaded; the handler is
// called on that thread, one request per connection, many connections at once (an answer may
// come later, and a watch streams for as long as its client stays). Destroy the server before
// its io_context.
//
// Only a request over the unix socket from root is `privileged` (may change anything): the
// socket is 0600, and its peer's uid is checked too (SO_PEERCRED). Each listener has its own
// connection limit, so clients of the TCP port can never crowd root out of the socket.
#include <cstddef>
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
  bool privileged = false;  // over the unix socket, from uid 0
};

// The open end of a streamed (chunked) response, e.g. a watch.
class HttpStream {
 public:
  virtual ~HttpStream() = default;
  // Queues one chunk. Returns false, and closes the stream, when the client is gone or has
  // fallen more than kHttpMaxStreamBacklog bytes behind: the writer must then forget it.
  virtual bool write(std::string chunk) = 0;
  virtual bool open() const = 0;
  // Ends the response (the last chunk) and closes the connection once written.
  virtual void close() = 0;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  // When set, the answer is streamed: the header goes out, then this is called with the stream
  // (body is ignored). The handler keeps the stream and writes to it as things happen.
  std::function<void(std::shared_ptr<HttpStream>)> stream = {};
};

// Handlers answer through the responder, at once or later (an IPAM allocation may wait for
// address space from another peer); it must be called exactly once, on the io_context's thread.
using HttpResponder = std::function<void(HttpResponse)>;

// What an attacker (a local user opening connections, a descriptor exhaustion) can cause, for
// /metrics. The log lines about them are rate-limited (common/log_limiter.h).
struct HttpServerCounters {
  uint64_t accept_failures = 0;  // accept() failed (EMFILE, ENFILE...): retried after 100 ms
  uint64_t refused = 0;          // closed at once: the listener's connection limit was reached
};
using HttpHandler = std::function<void(const HttpRequest&, HttpResponder)>;

constexpr size_t kHttpMaxRequestBody = 8 << 20;  // a file of 1,000s of NetworkPolicies
constexpr size_t kHttpMaxStreamBacklog = 16 << 20;

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
  // Serves on "127.0.0.1:6784" / "[::1]:6784" (port 0 picks one), unprivileged: read-only
  // routes only. Throws std::invalid_argument
  // for an address that is not a loopback IP literal, std::runtime_error if it cannot bind.
  void listen_tcp(const std::string& address);
  // The bound TCP address ("127.0.0.1:40123"), or "" when not listening on TCP.
  std::string tcp_address() const;
  const HttpServerCounters& counters() const;
  // Prometheus text: weft_api_accept_failures_total, weft_api_connections_refused_total.
  std::string metrics_text() const;

  // Closes the listeners and any open connections and removes the socket file; idempotent. The
  // handler is not called after this returns.
  void stop();

 private:
  std::shared_ptr<HttpServerState> impl_;
};

}  // namespace weft
