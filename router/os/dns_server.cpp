#include "router/os/dns_server.h"

#include <ifaddrs.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <deque>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>

#include "common/atomic_file.h"
#include "common/ipv4_cidr.h"
#include "dns/message.h"

namespace weft {

namespace asio = boost::asio;
using asio::ip::tcp;
using asio::ip::udp;
using nlohmann::json;

namespace {

// UDP clients are named by their endpoint (no state to leak when a query is dropped); TCP clients
// by a counter, which never reaches this bit.
constexpr uint64_t kUdpClientBit = uint64_t{1} << 62;
constexpr int64_t kMalformedLogIntervalMs = 10'000;
// Datagrams read without waiting after a wakeup (sockets are non-blocking).
constexpr int kDrainBurst = 32;
// Answers queued for one TCP client that does not read them; past it the connection is closed.
constexpr size_t kMaxTcpBacklog = 64;

dns::ClientId udp_client_id(const udp::endpoint& ep) {
  return kUdpClientBit | (uint64_t(ep.address().to_v4().to_uint()) << 16) | ep.port();
}
udp::endpoint udp_client_endpoint(dns::ClientId id) {
  return {asio::ip::address_v4(uint32_t(id >> 16)), uint16_t(id)};
}

const char* rcode_name(uint16_t rcode) {
  switch (rcode) {
    case dns::kNoError:
      return "NOERROR";
    case dns::kFormErr:
      return "FORMERR";
    case dns::kServFail:
      return "SERVFAIL";
    case dns::kNxDomain:
      return "NXDOMAIN";
    case dns::kNotImp:
      return "NOTIMP";
    case dns::kRefused:
      return "REFUSED";
    case dns::kBadVers:
      return "BADVERS";
  }
  return "OTHER";
}

dns::Upstream parse_listen(const std::string& text) {
  auto u = dns::parse_upstream(text);
  if (!u)
    throw std::runtime_error("DNS listen address \"" + text +
                             "\" is not an IPv4 address with an optional port (like 10.32.0.1 or "
                             "10.32.0.1:53); fix --dns-listen");
  return *u;
}

}  // namespace

// A TCP client: queries arrive as u16 length + message (RFC 1035 §4.2.2, several per
// connection); answers are written in order.
struct DnsServer::TcpClient {
  explicit TcpClient(tcp::socket s) : socket(std::move(s)), idle(socket.get_executor()) {}
  uint64_t id = 0;
  tcp::socket socket;
  asio::steady_timer idle;
  uint8_t len[2] = {0, 0};
  Bytes buf;
  std::deque<Bytes> out;
  bool writing = false;
};

// One query to an upstream over TCP: connect, write, read one answer.
struct DnsServer::TcpExchange {
  explicit TcpExchange(asio::io_context& io) : socket(io) {}
  tcp::socket socket;
  Bytes out;
  uint8_t len[2] = {0, 0};
  Bytes in;
};

DnsServer::DnsServer(asio::io_context& io, DnsServerConfig cfg, dns::DnsZone& zone)
    : io_(io),
      cfg_(std::move(cfg)),
      zone_(zone),
      epoch_(std::chrono::steady_clock::now()),
      udp_(io),
      upstream_udp_(io),
      tcp_(io),
      timer_(io),
      resolv_timer_(io),
      udp_buf_(65536),
      upstream_buf_(65536) {
  dns::ResolverConfig rc;
  rc.ttl_s = cfg_.ttl_s;
  rc.try_timeout_ms = cfg_.try_timeout_ms;
  rc.query_timeout_ms = cfg_.query_timeout_ms;
  rc.max_in_flight = cfg_.max_in_flight;
  auto rng = std::make_shared<std::mt19937>(std::random_device{}());
  dns::ResolverIo& rio = *this;
  resolver_ = std::make_unique<dns::Resolver>(rc, zone_, rio, [rng] { return uint32_t((*rng)()); });
}

DnsServer::~DnsServer() {
  stop();
}

int64_t DnsServer::now_ms() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               epoch_)
      .count();
}

void DnsServer::start() {
  if (!cfg_.enabled || running_) return;
  dns::Upstream l = parse_listen(cfg_.listen);
  udp::endpoint uep(asio::ip::address_v4(l.ip), l.port);
  boost::system::error_code ec;
  udp_.open(udp::v4(), ec);
  if (!ec) udp_.bind(uep, ec);
  if (ec)
    throw std::runtime_error("cannot serve DNS on " + l.to_string() + " (UDP): " + ec.message() +
                             "; another DNS server may be using it (stop it, or give weft "
                             "another address with --dns-listen, or turn DNS off with --no-dns)");
  // TCP on the port UDP got (it may have been picked: port 0).
  tcp::endpoint tep(asio::ip::address_v4(l.ip), udp_.local_endpoint().port());
  tcp_.open(tcp::v4(), ec);
  if (!ec) tcp_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) tcp_.bind(tep, ec);
  if (!ec) tcp_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    udp_.close();
    throw std::runtime_error("cannot serve DNS on " + tep.address().to_string() + ":" +
                             std::to_string(tep.port()) + " (TCP): " + ec.message() +
                             "; stop what listens there or use --dns-listen");
  }
  upstream_udp_.open(udp::v4());
  upstream_udp_.bind(udp::endpoint(asio::ip::address_v4::any(), 0));
  udp_.non_blocking(true);
  upstream_udp_.non_blocking(true);
  running_ = true;
  ++run_;
  refresh_upstreams();
  spdlog::info("DNS: serving {} on {} (UDP, TCP)", zone_.domain().to_string(), listen_address());
  receive(udp_, udp_buf_, udp_from_, &DnsServer::on_client_datagram);
  receive(upstream_udp_, upstream_buf_, upstream_from_, &DnsServer::on_upstream_datagram);
  accept_tcp();
  if (cfg_.upstreams.empty()) poll_resolv_conf();
}

void DnsServer::stop() {
  if (!running_) return;
  running_ = false;
  boost::system::error_code ec;
  udp_.close(ec);
  upstream_udp_.close(ec);
  tcp_.close(ec);
  timer_.cancel();
  timer_at_ = -1;
  resolv_timer_.cancel();
  for (auto& [id, c] : tcp_clients_) {
    c->socket.close(ec);
    c->idle.cancel();
  }
  tcp_clients_.clear();
  for (auto& [id, x] : exchanges_) x->socket.close(ec);
  exchanges_.clear();
}

void DnsServer::set_listen(std::string listen) {
  stop();
  cfg_.listen = std::move(listen);
  start();
}

std::string DnsServer::listen_address() const {
  if (!running_) return "";
  auto ep = udp_.local_endpoint();
  return ep.address().to_string() + ":" + std::to_string(ep.port());
}

std::vector<std::string> DnsServer::upstreams() const {
  std::vector<std::string> out;
  for (const auto& u : resolver_->upstreams()) out.push_back(u.to_string());
  return out;
}

// --- Loop protection: which addresses are ours

std::vector<dns::Upstream> DnsServer::own_addresses() const {
  std::vector<dns::Upstream> own;
  if (running_) {
    auto ep = udp_.local_endpoint();
    uint32_t ip = ep.address().to_v4().to_uint();
    if (ip != 0) {
      own.push_back({ip, ep.port()});
    } else {
      // The wildcard: every address of this host reaches us.
      ifaddrs* ifs = nullptr;
      if (getifaddrs(&ifs) == 0) {
        for (ifaddrs* i = ifs; i; i = i->ifa_next)
          if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET)
            own.push_back(
                {ntohl(reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr.s_addr), ep.port()});
        freeifaddrs(ifs);
      }
    }
  }
  for (const std::string& s : cfg_.other_resolvers)
    if (auto u = dns::parse_upstream(s)) own.push_back(*u);
  return own;
}

void DnsServer::set_other_resolvers(std::vector<std::string> addresses) {
  cfg_.other_resolvers = std::move(addresses);
  refresh_upstreams();
}

void DnsServer::refresh_upstreams() {
  const auto& candidates = cfg_.upstreams.empty() ? resolv_nameservers_ : cfg_.upstreams;
  dns::UpstreamChoice c = dns::choose_upstreams(candidates, own_addresses());
  for (const std::string& s : c.skipped) spdlog::warn("DNS: not forwarding to {}", s);
  if (c.upstreams != resolver_->upstreams()) {
    resolver_->set_upstreams(c.upstreams);
    std::vector<std::string> names;
    for (const auto& u : c.upstreams) names.push_back(u.to_string());
    if (running_)
      spdlog::info("DNS: upstream servers now {}",
                   names.empty() ? std::string("none (other names get SERVFAIL)")
                                 : fmt::format("{}", fmt::join(names, ", ")));
  }
}

void DnsServer::poll_resolv_conf() {
  if (!running_) return;
  std::error_code ec;
  auto mtime = std::filesystem::last_write_time(cfg_.resolv_conf, ec);
  auto size = ec ? 0 : std::filesystem::file_size(cfg_.resolv_conf, ec);
  std::string stamp =
      ec ? "missing"
         : std::to_string(mtime.time_since_epoch().count()) + "/" + std::to_string(size);
  if (stamp != resolv_stamp_) {
    resolv_stamp_ = stamp;
    auto text = read_file(cfg_.resolv_conf);
    if (!text)
      spdlog::warn(
          "DNS: cannot read {}: names outside {} get SERVFAIL until it exists or "
          "--dns-upstream is given",
          cfg_.resolv_conf, zone_.domain().to_string());
    resolv_nameservers_ =
        text ? dns::parse_resolv_conf(*text).nameservers : std::vector<std::string>{};
    refresh_upstreams();
  }
  resolv_timer_.expires_after(std::chrono::milliseconds(cfg_.resolv_conf_poll_ms));
  resolv_timer_.async_wait([this, run = run_](const boost::system::error_code& e) {
    if (!e && run == run_) poll_resolv_conf();
  });
}

// --- Timer

void DnsServer::rearm() {
  int64_t d = resolver_->next_deadline();
  if (!running_ || d == INT64_MAX || d == timer_at_) return;
  timer_at_ = d;
  timer_.expires_at(epoch_ + std::chrono::milliseconds(d));
  timer_.async_wait([this, d](const boost::system::error_code& ec) {
    if (ec || d != timer_at_) return;
    timer_at_ = -1;
    resolver_->on_timer(now_ms());
    rearm();
  });
}

// --- Clients

// Waits for a datagram on `sock`, then reads what else is queued (up to kDrainBurst, the socket
// being non-blocking) before waiting again: one wakeup for a burst instead of one per datagram.
void DnsServer::receive(udp::socket& sock, std::vector<uint8_t>& buf, udp::endpoint& from,
                        void (DnsServer::*on_datagram)(size_t)) {
  auto on_receive = [this, &sock, &buf, &from, on_datagram, run = run_](
                        const boost::system::error_code& ec, size_t n) {
    if (ec == asio::error::operation_aborted || !running_ || run != run_) return;
    if (!ec) (this->*on_datagram)(n);
    boost::system::error_code e;
    for (int i = 0; i < kDrainBurst && running_; ++i) {
      size_t m = sock.receive_from(asio::buffer(buf), from, 0, e);
      if (e) break;
      (this->*on_datagram)(m);
    }
    rearm();
    receive(sock, buf, from, on_datagram);
  };
  sock.async_receive_from(asio::buffer(buf), from, on_receive);
}

void DnsServer::on_client_datagram(size_t n) {
  if (!udp_from_.address().is_v4()) return;
  resolver_->on_query(udp_client_id(udp_from_), false, ByteView(udp_buf_.data(), n), now_ms());
}

void DnsServer::accept_tcp() {
  tcp_.async_accept([this, run = run_](const boost::system::error_code& ec, tcp::socket s) {
    if (ec == asio::error::operation_aborted || !running_ || run != run_) return;
    if (!ec) {
      if (tcp_clients_.size() >= cfg_.max_tcp_clients) {
        ++tcp_refused_;
      } else {
        auto c = std::make_shared<TcpClient>(std::move(s));
        c->id = next_tcp_client_++;
        tcp_clients_[c->id] = c;
        read_tcp(c);
      }
    }
    accept_tcp();
  });
}

void DnsServer::read_tcp(const std::shared_ptr<TcpClient>& c) {
  c->idle.expires_after(std::chrono::milliseconds(cfg_.tcp_idle_ms));
  c->idle.async_wait([this, id = c->id](const boost::system::error_code& ec) {
    if (!ec) close_tcp(id);
  });
  asio::async_read(c->socket, asio::buffer(c->len),
                   [this, c](const boost::system::error_code& ec, size_t) {
                     if (ec || !running_) return close_tcp(c->id);
                     c->buf.resize(size_t(c->len[0] << 8 | c->len[1]));
                     asio::async_read(c->socket, asio::buffer(c->buf),
                                      [this, c](const boost::system::error_code& e, size_t) {
                                        if (e || !running_) return close_tcp(c->id);
                                        resolver_->on_query(c->id, true, c->buf, now_ms());
                                        rearm();
                                        read_tcp(c);
                                      });
                   });
}

void DnsServer::close_tcp(uint64_t id) {
  auto it = tcp_clients_.find(id);
  if (it == tcp_clients_.end()) return;
  boost::system::error_code ec;
  it->second->socket.close(ec);
  it->second->idle.cancel();
  tcp_clients_.erase(it);
  resolver_->forget_client(id);
  rearm();
}

void DnsServer::answer(dns::ClientId client, Bytes message) {
  if (client & kUdpClientBit) {
    boost::system::error_code ec;
    udp_.send_to(asio::buffer(message), udp_client_endpoint(client), 0, ec);
    return;
  }
  auto it = tcp_clients_.find(client);
  if (it == tcp_clients_.end()) return;
  auto c = it->second;
  Bytes framed{uint8_t(message.size() >> 8), uint8_t(message.size())};
  framed.insert(framed.end(), message.begin(), message.end());
  c->out.push_back(std::move(framed));
  // A client that sends and never reads would grow this without end.
  if (c->out.size() > kMaxTcpBacklog) return close_tcp(c->id);
  if (!c->writing) write_tcp(c);
}

void DnsServer::write_tcp(const std::shared_ptr<TcpClient>& c) {
  if (c->out.empty()) {
    c->writing = false;
    return;
  }
  c->writing = true;
  asio::async_write(c->socket, asio::buffer(c->out.front()),
                    [this, c](const boost::system::error_code& ec, size_t) {
                      if (ec) return close_tcp(c->id);
                      c->out.pop_front();
                      write_tcp(c);
                    });
}

void DnsServer::malformed(dns::ClientId client, const char* what) {
  int64_t now = now_ms();
  if (now - malformed_logged_at_ < kMalformedLogIntervalMs) {
    ++malformed_suppressed_;
    return;
  }
  std::string from = client & kUdpClientBit
                         ? udp_client_endpoint(client).address().to_string() + " (UDP)"
                         : "a TCP client";
  spdlog::warn("DNS: {} from {}{}", what, from,
               malformed_suppressed_
                   ? fmt::format(" ({} more since the last such line)", malformed_suppressed_)
                   : std::string());
  malformed_logged_at_ = now;
  malformed_suppressed_ = 0;
}

// --- Upstreams

void DnsServer::send_udp(const dns::Upstream& to, Bytes message) {
  boost::system::error_code ec;
  upstream_udp_.send_to(asio::buffer(message), udp::endpoint(asio::ip::address_v4(to.ip), to.port),
                        0, ec);
  // A failed send is a try that times out: the resolver moves on at the deadline.
}

void DnsServer::on_upstream_datagram(size_t n) {
  if (!upstream_from_.address().is_v4()) return;
  dns::Upstream from{upstream_from_.address().to_v4().to_uint(), upstream_from_.port()};
  resolver_->on_udp_reply(from, ByteView(upstream_buf_.data(), n), now_ms());
}

void DnsServer::send_tcp(dns::ExchangeId id, const dns::Upstream& to, Bytes message) {
  auto x = std::make_shared<TcpExchange>(io_);
  x->out = {uint8_t(message.size() >> 8), uint8_t(message.size())};
  x->out.insert(x->out.end(), message.begin(), message.end());
  exchanges_[id] = x;
  auto fail = [this, id] {
    if (!exchanges_.erase(id)) return;  // cancelled meanwhile
    resolver_->on_tcp_failed(id, now_ms());
    rearm();
  };
  x->socket.async_connect(
      tcp::endpoint(asio::ip::address_v4(to.ip), to.port),
      [this, x, id, fail](const boost::system::error_code& ec) {
        if (ec) return fail();
        asio::async_write(
            x->socket, asio::buffer(x->out),
            [this, x, id, fail](const boost::system::error_code& e, size_t) {
              if (e) return fail();
              asio::async_read(x->socket, asio::buffer(x->len),
                               [this, x, id, fail](const boost::system::error_code& e2, size_t) {
                                 if (e2) return fail();
                                 x->in.resize(size_t(x->len[0] << 8 | x->len[1]));
                                 asio::async_read(x->socket, asio::buffer(x->in),
                                                  [this, x, id, fail](
                                                      const boost::system::error_code& e3, size_t) {
                                                    if (e3) return fail();
                                                    if (!exchanges_.erase(id)) return;
                                                    boost::system::error_code ignored;
                                                    x->socket.close(ignored);
                                                    resolver_->on_tcp_reply(id, x->in, now_ms());
                                                    rearm();
                                                  });
                               });
            });
      });
}

void DnsServer::cancel_tcp(dns::ExchangeId id) {
  auto it = exchanges_.find(id);
  if (it == exchanges_.end()) return;
  boost::system::error_code ec;
  it->second->socket.close(ec);
  exchanges_.erase(it);
}

// --- API and metrics

void DnsServer::handle(const HttpRequest& req, HttpResponder respond) {
  if (req.path == "/dns/lookup" && req.method == "GET") {
    auto it = req.query.find("name");
    std::string name = it == req.query.end() ? "" : it->second;
    auto parsed = dns::parse_name(name);
    if (!parsed || parsed->labels.empty())
      return respond({400, "application/json",
                      json{{"error", "\"" + name +
                                         "\" is not a DNS name; give one like web, web.shop or "
                                         "web.shop." +
                                         zone_.domain().to_string()}}
                          .dump()});
    json addrs = json::array();
    for (uint32_t a : zone_.addresses(name)) addrs.push_back(format_ipv4(a));
    // The absolute name the answer is for (a relative name is below the domain).
    dns::Name full = *parsed;
    bool absolute = name.back() == '.' || parsed->ends_with_ci(zone_.domain());
    if (!absolute)
      full.labels.insert(full.labels.end(), zone_.domain().labels.begin(),
                         zone_.domain().labels.end());
    return respond({200, "application/json",
                    json{{"name", full.lower().to_string()}, {"addresses", addrs}}.dump()});
  }
  respond({404, "application/json", json{{"error", "no such DNS route: " + req.path}}.dump()});
}

std::string DnsServer::metrics_text() const {
  const dns::ResolverStats& s = resolver_->stats();
  std::string m;
  auto head = [&](const char* name, const char* help, const char* type) {
    m += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
  };
  auto counter = [&](const char* name, const char* help, uint64_t v) {
    head(name, help, "counter");
    m += std::string(name) + " " + std::to_string(v) + "\n";
  };
  head("weft_dns_queries_total", "DNS queries received.", "counter");
  m += "weft_dns_queries_total{transport=\"udp\"} " + std::to_string(s.queries_udp) + "\n";
  m += "weft_dns_queries_total{transport=\"tcp\"} " + std::to_string(s.queries_tcp) + "\n";
  head("weft_dns_answers_total", "DNS answers sent, by response code.", "counter");
  for (uint16_t rc : {dns::kNoError, dns::kFormErr, dns::kServFail, dns::kNxDomain, dns::kNotImp,
                      dns::kRefused, dns::kBadVers}) {
    auto it = s.answers_by_rcode.find(rc);
    m += std::string("weft_dns_answers_total{rcode=\"") + rcode_name(rc) + "\"} " +
         std::to_string(it == s.answers_by_rcode.end() ? 0 : it->second) + "\n";
  }
  counter("weft_dns_local_answers_total", "Queries answered from the cluster's names.",
          s.answered_locally);
  counter("weft_dns_forwarded_total", "Queries forwarded upstream.", s.forwarded);
  head("weft_dns_upstream_failures_total", "Upstream tries that failed, by reason.", "counter");
  m += "weft_dns_upstream_failures_total{reason=\"timeout\"} " +
       std::to_string(s.upstream_timeouts) + "\n";
  m += "weft_dns_upstream_failures_total{reason=\"error\"} " + std::to_string(s.upstream_failures) +
       "\n";
  counter("weft_dns_upstream_mismatched_total",
          "Upstream replies dropped: unknown id, wrong source or question.", s.upstream_mismatched);
  counter("weft_dns_tcp_retries_total", "Truncated upstream replies asked again over TCP.",
          s.tcp_retries);
  counter("weft_dns_truncated_total", "UDP answers sent truncated (TC), for a TCP retry.",
          s.truncated);
  counter("weft_dns_dropped_total", "Datagrams dropped: no query (too short, or a response).",
          s.dropped);
  counter("weft_dns_loops_refused_total",
          "Queries another weft resolver forwarded, not forwarded again (SERVFAIL).",
          s.loops_refused);
  counter("weft_dns_overloaded_total", "Queries refused because too many were in flight.",
          s.overloaded);
  counter("weft_dns_no_upstream_total", "Queries for other names with no upstream to ask.",
          s.no_upstream);
  counter("weft_dns_tcp_clients_refused_total", "TCP clients refused over the connection limit.",
          tcp_refused_);
  head("weft_dns_in_flight", "Queries forwarded and not answered yet.", "gauge");
  m += "weft_dns_in_flight " + std::to_string(resolver_->in_flight()) + "\n";
  head("weft_dns_forward_latency_seconds", "Time from query to answer of forwarded queries.",
       "histogram");
  uint64_t cum = 0;
  for (size_t i = 0; i <= dns::kLatencyBucketCount; ++i) {
    cum += s.latency_buckets[i];
    std::string le = i < dns::kLatencyBucketCount ? fmt::format("{}", dns::kLatencyBuckets[i])
                                                  : std::string("+Inf");
    m += "weft_dns_forward_latency_seconds_bucket{le=\"" + le + "\"} " + std::to_string(cum) + "\n";
  }
  m += fmt::format("weft_dns_forward_latency_seconds_sum {}\n", s.latency_sum_s);
  m += "weft_dns_forward_latency_seconds_count " + std::to_string(s.latency_count) + "\n";
  return m;
}

}  // namespace weft
