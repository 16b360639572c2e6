#include "router/api/http_server.h"

#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

// Not <boost/asio.hpp>: in Boost 1.74 it pulls in awaitable.hpp, which misses <utility> on GCC 12.
#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <type_traits>
#include <unordered_set>

#include "common/host_port.h"
#include "common/http_message.h"
#include "common/log_limiter.h"

namespace weft {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using boost::system::error_code;

namespace {

// A client gets this long to send its whole request and read the answer; local callers are
// fast, and a stuck one must not pin a connection slot forever.
constexpr auto kSessionTimeout = std::chrono::seconds(10);
// Once a request is in, how long its handler may take to answer (longer than any IPAM wait).
constexpr auto kResponseTimeout = std::chrono::seconds(60);
// Local callers are few (the CLI, weft-npc, scrapers); more than this at once is a runaway.
// Counted per listener: the TCP port's clients cannot take the unix socket's places.
constexpr size_t kMaxUnixSessions = 64;
constexpr size_t kMaxTcpSessions = 16;
constexpr uint32_t kMaxHeaderBytes = 16 * 1024;

std::string error_body(const std::string& message) {
  return nlohmann::json{{"error", message}}.dump() + "\n";
}

bool is_http_parse_error(const error_code& ec) {
  return &ec.category() == &http::make_error_code(http::error::bad_method).category();
}

}  // namespace

struct SessionBase {
  virtual ~SessionBase() = default;
  virtual void close() = 0;
};

// Whether the peer of a unix socket runs as root (the only user the 0600 socket admits, unless
// someone loosened its mode).
bool peer_is_root(int fd) {
  struct ucred cred {};
  socklen_t len = sizeof cred;
  return ::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && cred.uid == 0;
}

struct HttpServerState : std::enable_shared_from_this<HttpServerState> {
  HttpServerState(asio::io_context& io_context, HttpHandler h)
      : io(io_context), handler(std::move(h)) {}

  asio::io_context& io;
  HttpHandler handler;
  std::unique_ptr<asio::local::stream_protocol::acceptor> unix_acceptor;
  std::unique_ptr<asio::ip::tcp::acceptor> tcp_acceptor;
  // Identity of the socket file we bound, so stop() never unlinks a successor's socket.
  std::string unix_path;
  dev_t unix_dev = 0;
  ino_t unix_ino = 0;
  // Non-owning: each session adds itself on start and removes itself when destroyed.
  std::unordered_set<SessionBase*> sessions;
  size_t unix_sessions = 0, tcp_sessions = 0;
  HttpServerCounters counters;
  // Accept failures and refused connections repeat as fast as a client can cause them.
  LogLimiter accept_log, refused_log;
  static int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  bool stopped = false;

  void dispatch(const http::request<http::string_body>& req, bool privileged,
                HttpResponder respond);
  template <class Protocol>
  void accept(typename Protocol::acceptor& acceptor);
};

namespace {

template <class Protocol>
class Session : public SessionBase, public std::enable_shared_from_this<Session<Protocol>> {
 public:
  Session(std::shared_ptr<HttpServerState> impl, typename Protocol::socket socket, size_t& count)
      : impl_(std::move(impl)),
        socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        count_(count) {
    ++count_;
  }
  ~Session() override {
    impl_->sessions.erase(this);
    --count_;
  }

  void start(bool privileged) {
    privileged_ = privileged;
    impl_->sessions.insert(this);
    parser_.body_limit(kHttpMaxRequestBody);
    parser_.header_limit(kMaxHeaderBytes);
    timer_.expires_after(kSessionTimeout);
    timer_.async_wait([self = this->shared_from_this()](const error_code& ec) {
      if (!ec) self->close();
    });
    http::async_read(
        socket_, buffer_, parser_,
        [self = this->shared_from_this()](const error_code& ec, size_t) { self->on_read(ec); });
  }

  void close() override {
    timer_.cancel();
    error_code ignored;
    socket_.close(ignored);
  }

  // --- streaming (used through StreamHandle)
  bool stream_write(std::string chunk) {
    if (!socket_.is_open()) return false;
    if (backlog_ + chunk.size() > kHttpMaxStreamBacklog) {
      close();
      return false;
    }
    backlog_ += chunk.size();
    out_.push_back(std::move(chunk));
    pump();
    return true;
  }
  bool stream_open() const { return socket_.is_open(); }
  void stream_close() {
    closing_ = true;
    pump();
  }

 private:
  struct StreamHandle : HttpStream {
    std::weak_ptr<Session> session;
    bool write(std::string chunk) override {
      auto s = session.lock();
      return s && s->stream_write(std::move(chunk));
    }
    bool open() const override {
      auto s = session.lock();
      return s && s->stream_open();
    }
    void close() override {
      if (auto s = session.lock()) s->stream_close();
    }
  };

  void on_read(const error_code& ec) {
    if (impl_->stopped) return close();
    if (ec == http::error::body_limit) {
      return respond({413, "application/json",
                      error_body("request body larger than " + std::to_string(kHttpMaxRequestBody) +
                                 " bytes")});
    }
    if (ec == http::error::header_limit) {
      return respond({431, "application/json", error_body("request headers too large")});
    }
    // end_of_stream before any byte: the client connected and left. Not worth an answer.
    if (ec == http::error::end_of_stream) return close();
    if (ec && is_http_parse_error(ec)) {
      return respond({400, "application/json", error_body("malformed request: " + ec.message())});
    }
    if (ec) return close();
    timer_.expires_after(kResponseTimeout);
    timer_.async_wait([self = this->shared_from_this()](const error_code& e) {
      if (!e) self->close();
    });
    impl_->dispatch(parser_.get(), privileged_, [self = this->shared_from_this()](HttpResponse r) {
      if (self->answered_) return;
      if (r.stream)
        self->start_stream(std::move(r));
      else
        self->respond(r);
    });
  }

  void respond(const HttpResponse& r) {
    answered_ = true;
    if (!socket_.is_open()) return;  // timed out or the server stopped meanwhile
    res_.version(11);
    res_.result(static_cast<unsigned>(r.status));
    res_.set(http::field::server, "weft/" WEFT_VERSION);
    res_.set(http::field::content_type, r.content_type);
    res_.keep_alive(false);
    res_.body() = r.body;
    res_.prepare_payload();
    http::async_write(socket_, res_, [self = this->shared_from_this()](const error_code&, size_t) {
      error_code ignored;
      self->socket_.shutdown(Protocol::socket::shutdown_send, ignored);
      self->close();
    });
  }

  // The header now, then chunks as the handler writes them, until either side closes. A
  // stream lives as long as its client: no timeout, but a bounded backlog.
  void start_stream(HttpResponse r) {
    answered_ = true;
    timer_.cancel();
    if (!socket_.is_open()) return;
    std::string head = "HTTP/1.1 " + std::to_string(r.status) +
                       " OK\r\nServer: weft/" WEFT_VERSION + "\r\nContent-Type: " + r.content_type +
                       "\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
    out_.push_back(std::move(head));
    raw_next_ = true;
    pump();
    // The client sends nothing more: a read that ends says it left.
    socket_.async_read_some(asio::buffer(sink_), [self = this->shared_from_this()](
                                                     const error_code&, size_t) { self->close(); });
    auto handle = std::make_shared<StreamHandle>();
    handle->session = this->shared_from_this();
    r.stream(handle);
  }

  void pump() {
    if (writing_ || !socket_.is_open()) return;
    if (out_.empty()) {
      if (!closing_) return;
      closing_ = false;
      writing_ = true;
      wire_ = "0\r\n\r\n";
      asio::async_write(socket_, asio::buffer(wire_),
                        [self = this->shared_from_this()](const error_code&, size_t) {
                          error_code ignored;
                          self->socket_.shutdown(Protocol::socket::shutdown_send, ignored);
                          self->close();
                        });
      return;
    }
    std::string chunk = std::move(out_.front());
    out_.pop_front();
    backlog_ -= std::min(backlog_, chunk.size());
    if (raw_next_) {
      raw_next_ = false;
      wire_ = std::move(chunk);
    } else {
      char len[20];
      std::snprintf(len, sizeof len, "%zx\r\n", chunk.size());
      wire_ = len + chunk + "\r\n";
    }
    writing_ = true;
    asio::async_write(socket_, asio::buffer(wire_),
                      [self = this->shared_from_this()](const error_code& ec, size_t) {
                        self->writing_ = false;
                        if (ec) return self->close();
                        self->pump();
                      });
  }

  std::shared_ptr<HttpServerState> impl_;
  typename Protocol::socket socket_;
  asio::steady_timer timer_;
  size_t& count_;
  bool privileged_ = false;
  beast::flat_buffer buffer_;
  http::request_parser<http::string_body> parser_;
  http::response<http::string_body> res_;
  bool answered_ = false;
  // Streaming state.
  std::deque<std::string> out_;
  std::string wire_;
  size_t backlog_ = 0;
  bool writing_ = false, closing_ = false, raw_next_ = false;
  std::array<char, 64> sink_{};
};

}  // namespace

void HttpServerState::dispatch(const http::request<http::string_body>& req, bool privileged,
                               HttpResponder respond) {
  HttpRequest r;
  r.privileged = privileged;
  r.method = std::string(req.method_string());
  r.target = std::string(req.target());
  try {
    RequestTarget t = split_target(r.target);
    r.path = std::move(t.path);
    r.query = std::move(t.query);
  } catch (const HttpParseError& e) {
    return respond({400, "application/json",
                    error_body(std::string("malformed request target: ") + e.what())});
  }
  r.body = req.body();
  try {
    handler(r, respond);
  } catch (const std::exception& e) {
    spdlog::warn("API {} {} failed: {}", r.method, r.path, e.what());
    respond({500, "application/json", error_body(e.what())});
  } catch (...) {
    spdlog::warn("API {} {} failed with an unknown exception", r.method, r.path);
    respond({500, "application/json", error_body("internal error")});
  }
}

template <class Protocol>
void HttpServerState::accept(typename Protocol::acceptor& acceptor) {
  constexpr bool kUnix = std::is_same_v<Protocol, asio::local::stream_protocol>;
  acceptor.async_accept([self = shared_from_this(), &acceptor](const error_code& ec,
                                                               typename Protocol::socket socket) {
    if (self->stopped || ec == asio::error::operation_aborted) return;
    if (ec) {
      // Usually EMFILE: back off instead of spinning on an error that will repeat at once.
      ++self->counters.accept_failures;
      if (auto suppressed = self->accept_log.admit(now_ms()))
        spdlog::warn("API accept failed: {}; retrying in 100 ms{}", ec.message(),
                     LogLimiter::suffix(*suppressed));
      auto timer = std::make_shared<asio::steady_timer>(self->io, std::chrono::milliseconds(100));
      timer->async_wait([self, timer, &acceptor](const error_code& tec) {
        if (!tec && !self->stopped) self->accept<Protocol>(acceptor);
      });
      return;
    }
    size_t& count = kUnix ? self->unix_sessions : self->tcp_sessions;
    const size_t limit = kUnix ? kMaxUnixSessions : kMaxTcpSessions;
    if (count >= limit) {
      ++self->counters.refused;
      if (auto suppressed = self->refused_log.admit(now_ms()))
        spdlog::warn("API: {} connections open on the {} already, refusing more{}", limit,
                     kUnix ? "unix socket" : "TCP port", LogLimiter::suffix(*suppressed));
      error_code ignored;
      socket.close(ignored);
    } else {
      bool privileged = false;
      if constexpr (kUnix) privileged = peer_is_root(socket.native_handle());
      std::make_shared<Session<Protocol>>(self, std::move(socket), count)->start(privileged);
    }
    self->accept<Protocol>(acceptor);
  });
}

HttpServer::HttpServer(asio::io_context& io, HttpHandler handler)
    : impl_(std::make_shared<HttpServerState>(io, std::move(handler))) {}

HttpServer::~HttpServer() {
  stop();
}

void HttpServer::listen_unix(const std::string& path) {
  using local = asio::local::stream_protocol;
  if (impl_->unix_acceptor) throw std::logic_error("HttpServer already listens on a unix socket");
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      throw std::runtime_error(path + " exists and is not a socket; move it out of the way");
    }
    // A socket file outlives a crashed router. Replace it only if nobody answers on it, so a
    // second router on the same data dir cannot silently steal the first one's API.
    local::socket probe(impl_->io);
    error_code ec;
    probe.open(local(), ec);
    if (!ec) probe.non_blocking(true, ec);
    if (!ec) probe.connect(local::endpoint(path), ec);
    if (!ec || ec == asio::error::would_block || ec == asio::error::try_again) {
      throw std::runtime_error("another process is already serving on " + path +
                               "; is another weft router running with this data dir?");
    }
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      throw std::runtime_error("cannot remove the stale socket " + path + ": " +
                               std::strerror(errno));
    }
  } else if (errno != ENOENT) {
    throw std::runtime_error("cannot inspect " + path + ": " + std::strerror(errno));
  }

  auto acceptor = std::make_unique<local::acceptor>(impl_->io);
  try {
    local::endpoint ep(path);
    acceptor->open(ep.protocol());
    acceptor->bind(ep);
    // Before listen(): until then connects are refused, so no one can get in through the
    // umask-derived mode the file was created with.
    if (::chmod(path.c_str(), 0600) != 0) {
      throw std::runtime_error(std::string("chmod 0600: ") + std::strerror(errno));
    }
    acceptor->listen();
  } catch (const std::exception& e) {
    throw std::runtime_error("cannot serve the API on " + path + ": " + e.what());
  }
  if (::stat(path.c_str(), &st) == 0) {
    impl_->unix_dev = st.st_dev;
    impl_->unix_ino = st.st_ino;
  }
  impl_->unix_path = path;
  impl_->unix_acceptor = std::move(acceptor);
  impl_->accept<local>(*impl_->unix_acceptor);
}

void HttpServer::listen_tcp(const std::string& address) {
  using tcp = asio::ip::tcp;
  if (impl_->tcp_acceptor) throw std::logic_error("HttpServer already listens on TCP");
  HostPort hp = parse_host_port(address, 6784);
  if (!is_loopback_literal(hp.host)) {
    throw std::invalid_argument("refusing to serve the weft API on " + address +
                                ": not a loopback address. The API must only be reachable from "
                                "this host; use 127.0.0.1:PORT or [::1]:PORT");
  }
  auto acceptor = std::make_unique<tcp::acceptor>(impl_->io);
  try {
    tcp::endpoint ep(asio::ip::make_address(hp.host), hp.port);
    acceptor->open(ep.protocol());
    acceptor->set_option(tcp::acceptor::reuse_address(true));
    acceptor->bind(ep);
    acceptor->listen();
  } catch (const std::exception& e) {
    throw std::runtime_error("cannot serve the API on " + address + ": " + e.what());
  }
  impl_->tcp_acceptor = std::move(acceptor);
  impl_->accept<tcp>(*impl_->tcp_acceptor);
}

std::string HttpServer::tcp_address() const {
  if (!impl_->tcp_acceptor || !impl_->tcp_acceptor->is_open()) return "";
  error_code ec;
  auto ep = impl_->tcp_acceptor->local_endpoint(ec);
  if (ec) return "";
  return format_host_port({ep.address().to_string(), ep.port()});
}

const HttpServerCounters& HttpServer::counters() const {
  return impl_->counters;
}

std::string HttpServer::metrics_text() const {
  const HttpServerCounters& c = impl_->counters;
  auto counter = [](const std::string& name, const std::string& help, uint64_t v) {
    return "# HELP " + name + " " + help + "\n# TYPE " + name + " counter\n" + name + " " +
           std::to_string(v) + "\n";
  };
  return counter("weft_api_accept_failures_total",
                 "Failed accepts on the API's listeners (e.g. out of descriptors), each retried "
                 "after 100 ms.",
                 c.accept_failures) +
         counter("weft_api_connections_refused_total",
                 "API connections closed at once: the listener's connection limit was reached.",
                 c.refused);
}

void HttpServer::stop() {
  if (impl_->stopped) return;
  impl_->stopped = true;
  error_code ignored;
  if (impl_->unix_acceptor) impl_->unix_acceptor->close(ignored);
  if (impl_->tcp_acceptor) impl_->tcp_acceptor->close(ignored);
  // close() only cancels; sessions leave the set when their last handler has run.
  for (SessionBase* s : std::vector<SessionBase*>(impl_->sessions.begin(), impl_->sessions.end())) {
    s->close();
  }
  if (!impl_->unix_path.empty()) {
    struct stat st;
    if (::lstat(impl_->unix_path.c_str(), &st) == 0 && st.st_dev == impl_->unix_dev &&
        st.st_ino == impl_->unix_ino) {
      ::unlink(impl_->unix_path.c_str());
    }
  }
}

}  // namespace weft
