#pragma once
// The router's DNS adapter: runs the dns::Resolver core on the router's io_context. Serves UDP
// and TCP on one address (the bridge address workloads reach; port 53), forwards what is not
// ours over an upstream UDP socket and short TCP exchanges, drives the resolver's deadlines with
// one timer, re-reads resolv.conf when it changes (mtime and size polled), and exposes metrics
// and the lookup route:
//
//   GET /dns/lookup?name=NAME   -> {"name": "web.weft.local.", "addresses": ["10.32.0.2", ...]}
//                                  (200 with [] when the name has none; 400 for an invalid name)
//
// The zone is the caller's: it changes the zone (upsert/remove/replace_all) on the same thread
// and the next query sees it. Malformed queries are counted; their log lines are rate-limited.
//
// The router runs it through router/os/dns_module.h, which feeds the zone from the cluster
// state and picks the listen address.
// clang-format off: the regrouping would move it after the Boost headers
#include <utility>  // Boost 1.74's asio headers need it first with GCC 12
// clang-format on

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "dns/resolver.h"
#include "dns/zone.h"
#include "router/api/http_server.h"

namespace weft {

struct DnsServerConfig {
  bool enabled = true;  // false: start() binds nothing; /dns/lookup still answers from the zone
  // "ADDR" (port 53) or "ADDR:PORT", IPv4; port 0 picks a free one (tests). 0.0.0.0 listens on
  // every address (and then every local address counts as ours, see loop protection).
  std::string listen = "127.0.0.1:53";
  uint32_t ttl_s = 1;
  // "ADDR" or "ADDR:PORT"; when empty, the nameservers of `resolv_conf`, re-read on change.
  std::vector<std::string> upstreams;
  std::string resolv_conf = "/etc/resolv.conf";
  int64_t resolv_conf_poll_ms = 2000;
  // DNS addresses of other weft routers ("ADDR[:PORT]"): never used as upstreams.
  std::vector<std::string> other_resolvers;
  int64_t try_timeout_ms = 700;
  int64_t query_timeout_ms = 2000;
  size_t max_in_flight = 1000;
  size_t max_tcp_clients = 64;
  int64_t tcp_idle_ms = 10'000;
};

class DnsServer : private dns::ResolverIo {
 public:
  // `zone` outlives the server. The zone's domain is the cluster domain served. Like the
  // router's other services, destroy it only once the io_context runs no more handlers.
  DnsServer(boost::asio::io_context& io, DnsServerConfig cfg, dns::DnsZone& zone);
  ~DnsServer() override;
  DnsServer(const DnsServer&) = delete;
  DnsServer& operator=(const DnsServer&) = delete;

  // Binds the listeners and reads the upstreams. Throws std::runtime_error saying what to do
  // when the address is invalid or taken. Does nothing when the config says disabled.
  void start();
  // Closes every socket and timer; idempotent. Queries in flight get no answer. start() may be
  // called again afterwards (handlers of the earlier run are ignored).
  void stop();
  // Serves on `listen` from now on: stop(), then start() with it (throws like start()). The
  // zone, the upstream choice and the counters stay.
  void set_listen(std::string listen);
  // The bound listen address ("10.32.0.1:53"), or "" before start() / when disabled.
  std::string listen_address() const;
  // Other routers' DNS addresses changed (cluster state): refilters the upstreams.
  void set_other_resolvers(std::vector<std::string> addresses);
  // The upstreams in use, after loop filtering.
  std::vector<std::string> upstreams() const;

  // Serves GET /dns/lookup.
  void handle(const HttpRequest& req, HttpResponder respond);
  // Prometheus text: weft_dns_* counters and the forward latency histogram.
  std::string metrics_text() const;

 private:
  struct TcpClient;
  struct TcpExchange;

  // dns::ResolverIo
  void answer(dns::ClientId client, Bytes message) override;
  void send_udp(const dns::Upstream& to, Bytes message) override;
  void send_tcp(dns::ExchangeId exchange, const dns::Upstream& to, Bytes message) override;
  void cancel_tcp(dns::ExchangeId exchange) override;
  void malformed(dns::ClientId client, const char* what) override;

  int64_t now_ms() const;
  void rearm();
  void receive(boost::asio::ip::udp::socket& sock, std::vector<uint8_t>& buf,
               boost::asio::ip::udp::endpoint& from, void (DnsServer::*on_datagram)(size_t));
  void on_client_datagram(size_t n);
  void on_upstream_datagram(size_t n);
  void accept_tcp();
  void read_tcp(const std::shared_ptr<TcpClient>& c);
  void write_tcp(const std::shared_ptr<TcpClient>& c);
  void close_tcp(uint64_t id);
  void poll_resolv_conf();
  void refresh_upstreams();
  std::vector<dns::Upstream> own_addresses() const;

  boost::asio::io_context& io_;
  DnsServerConfig cfg_;
  dns::DnsZone& zone_;
  std::unique_ptr<dns::Resolver> resolver_;
  std::chrono::steady_clock::time_point epoch_;
  boost::asio::ip::udp::socket udp_;
  boost::asio::ip::udp::socket upstream_udp_;
  boost::asio::ip::tcp::acceptor tcp_;
  boost::asio::steady_timer timer_, resolv_timer_;
  int64_t timer_at_ = -1;
  std::vector<uint8_t> udp_buf_, upstream_buf_;
  boost::asio::ip::udp::endpoint udp_from_, upstream_from_;
  std::map<uint64_t, std::shared_ptr<TcpClient>> tcp_clients_;
  uint64_t next_tcp_client_ = 1;
  std::map<dns::ExchangeId, std::shared_ptr<TcpExchange>> exchanges_;
  std::vector<std::string> resolv_nameservers_;
  std::string resolv_stamp_;  // mtime and size of resolv.conf when last read
  bool running_ = false;
  uint64_t run_ = 0;  // which start() the pending handlers belong to; stale ones return
  // Malformed-query log: one line per interval, with the count since the last line.
  int64_t malformed_logged_at_ = INT64_MIN / 2;
  uint64_t malformed_suppressed_ = 0;
  uint64_t tcp_refused_ = 0;
};

}  // namespace weft
