#include "router/os/router_daemon.h"

#include <sodium.h>
#include <spdlog/spdlog.h>

#include <boost/asio/ip/v6_only.hpp>
#include <nlohmann/json.hpp>

#include "common/atomic_file.h"

namespace weft {

namespace asio = boost::asio;
using asio::ip::tcp;

RouterDaemon::RouterDaemon(RouterOptions opts)
    : opts_(std::move(opts)),
      acceptor_(io_),
      timer_(io_),
      signals_(io_, SIGTERM, SIGINT),
      epoch_(std::chrono::steady_clock::now()) {
  info_.encryption = opts_.encryption;
  info_.port = opts_.self.port;
  info_.discovery = opts_.discovery;
  MeshConfig cfg;
  cfg.self = opts_.self;
  cfg.discovery = opts_.discovery;
  cfg.default_port = 6783;
  randombytes_buf(&cfg.seed, sizeof cfg.seed);
  mesh_ = std::make_unique<MeshCore>(cfg, *this);
}

RouterDaemon::~RouterDaemon() {
  if (http_) http_->stop();
  http_.reset();
}

int64_t RouterDaemon::now_ms() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               epoch_)
      .count();
}

ControlChannel::Config RouterDaemon::channel_config(bool initiator) const {
  ControlChannel::Config c;
  c.initiator = initiator;
  c.encrypted = opts_.encryption;
  c.psk = opts_.psk;
  c.local = opts_.self;
  return c;
}

std::vector<std::string> RouterDaemon::load_targets() const {
  std::vector<std::string> t;
  if (auto text = read_file(opts_.datadir + "/targets.json")) {
    try {
      t = nlohmann::json::parse(*text).get<std::vector<std::string>>();
    } catch (const std::exception& e) {
      spdlog::warn("{}/targets.json is unreadable ({}); starting with the command-line peers only",
                   opts_.datadir, e.what());
    }
  }
  return t;
}

void RouterDaemon::run() {
  tcp::endpoint ep(tcp::v6(), opts_.self.port);
  boost::system::error_code ec;
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::ip::v6_only(false), ec);
  if (ec) {  // no IPv6 in this namespace: IPv4 only
    acceptor_ = tcp::acceptor(io_);
    ep = tcp::endpoint(tcp::v4(), opts_.self.port);
    acceptor_.open(ep.protocol());
  }
  acceptor_.set_option(asio::socket_base::reuse_address(true));
  acceptor_.bind(ep, ec);
  if (ec)
    throw std::runtime_error("cannot listen on TCP port " + std::to_string(opts_.self.port) +
                             ": " + ec.message() + " (is another weft router running? use --port)");
  acceptor_.listen();

  http_ = std::make_unique<HttpServer>(io_, [this](const HttpRequest& r) { return handle(r); });
  http_->listen_unix(opts_.datadir + "/api.sock");
  if (!opts_.http_addr.empty()) http_->listen_tcp(opts_.http_addr);

  std::vector<std::string> targets = load_targets();
  for (const auto& p : opts_.peers) targets.push_back(p);
  spdlog::info("weft router {} starting: peer {}({}), port {}, encryption {}, discovery {}",
               WEFT_VERSION, format_peer_name(opts_.self.name), opts_.self.nickname,
               opts_.self.port, opts_.encryption ? "on" : "OFF", opts_.discovery ? "on" : "off");
  if (!opts_.encryption)
    spdlog::warn("ENCRYPTION IS OFF: control and data traffic between peers is readable and "
                 "forgeable on the network");
  mesh_->start(targets, now_ms());
  targets_changed(mesh_->targets());
  accept();
  signals_.async_wait([this](const boost::system::error_code&, int sig) {
    spdlog::info("received signal {}, shutting down", sig);
    io_.stop();
  });
  rearm_timer();
  io_.run();
  spdlog::info("weft router stopped");
}

void RouterDaemon::accept() {
  acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket sock) {
    if (ec) {
      if (ec != asio::error::operation_aborted) {
        spdlog::warn("accept failed: {}", ec.message());
        accept();
      }
      return;
    }
    boost::system::error_code e2;
    auto rep = sock.remote_endpoint(e2);
    std::string addr;
    if (!e2) {
      auto a = rep.address();
      if (a.is_v6() && a.to_v6().is_v4_mapped())
        a = asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
      addr = a.is_v6() ? "[" + a.to_string() + "]:" + std::to_string(rep.port())
                       : a.to_string() + ":" + std::to_string(rep.port());
    }
    ConnId id = mesh_->on_inbound(addr, now_ms());
    auto conn = std::make_shared<ControlConnection>(std::move(sock), id, channel_config(false),
                                                    *this);
    conns_[id] = conn;
    conn->start();
    rearm_timer();
    accept();
  });
}

void RouterDaemon::rearm_timer() {
  int64_t d = mesh_->next_deadline();
  if (d == timer_at_) return;
  timer_at_ = d;
  timer_.expires_at(epoch_ + std::chrono::milliseconds(d));
  timer_.async_wait([this, d](const boost::system::error_code& ec) {
    if (ec || d != timer_at_) return;
    timer_at_ = -1;
    mesh_->on_timer(now_ms());
    rearm_timer();
  });
}

// --- MeshIo

void RouterDaemon::dial(ConnId id, const std::string& address) {
  conns_[id] = ControlConnection::dial(io_, id, address, channel_config(true), *this);
}

void RouterDaemon::send(ConnId id, Bytes message) {
  auto it = conns_.find(id);
  if (it != conns_.end()) it->second->send(std::move(message));
}

void RouterDaemon::close(ConnId id) {
  auto it = conns_.find(id);
  if (it == conns_.end()) return;
  it->second->close();
  conns_.erase(it);
}

void RouterDaemon::log(LogLevel level, const std::string& message) {
  switch (level) {
    case LogLevel::kDebug: spdlog::debug("{}", message); break;
    case LogLevel::kInfo: spdlog::info("{}", message); break;
    case LogLevel::kWarn: spdlog::warn("{}", message); break;
    case LogLevel::kError: spdlog::error("{}", message); break;
  }
}

void RouterDaemon::targets_changed(const std::vector<std::string>& targets) {
  try {
    write_file_atomic(opts_.datadir + "/targets.json", nlohmann::json(targets).dump() + "\n",
                      0600);
  } catch (const std::exception& e) {
    spdlog::error("cannot save the target list: {}", e.what());
  }
}

// --- ControlConnection::Events

void RouterDaemon::connection_handshaking(ConnId id) {
  mesh_->on_handshaking(id, now_ms());
  rearm_timer();
}

void RouterDaemon::connection_established(ConnId id, const PeerHello& remote) {
  mesh_->on_established(id, remote, now_ms());
  rearm_timer();
}

void RouterDaemon::connection_message(ConnId id, ByteView message) {
  mesh_->on_message(id, message, now_ms());
  rearm_timer();
}

void RouterDaemon::connection_closed(ConnId id, ChannelFailure failure, const std::string& why) {
  conns_.erase(id);
  mesh_->on_closed(id, failure, why, now_ms());
  rearm_timer();
}

// --- HTTP API

HttpResponse RouterDaemon::handle(const HttpRequest& req) {
  auto error = [](int status, const std::string& msg) {
    return HttpResponse{status, "application/json", nlohmann::json{{"error", msg}}.dump()};
  };
  if (req.path == "/status" && req.method == "GET")
    return {200, "application/json", status_json(*mesh_, info_).dump()};
  if (req.path == "/metrics" && req.method == "GET")
    return {200, "text/plain; version=0.0.4", metrics_text(*mesh_, info_)};
  if ((req.path == "/connect" || req.path == "/forget") && req.method == "POST") {
    std::vector<std::string> peers;
    bool replace = false;
    try {
      auto j = nlohmann::json::parse(req.body);
      peers = j.at("peers").get<std::vector<std::string>>();
      replace = j.value("replace", false);
    } catch (const std::exception& e) {
      return error(400, std::string("expected {\"peers\": [\"host[:port]\", ...]}: ") + e.what());
    }
    try {
      auto t = req.path == "/connect" ? mesh_->connect(peers, replace, now_ms())
                                      : mesh_->forget(peers, now_ms());
      rearm_timer();
      return {200, "application/json", nlohmann::json{{"targets", t}}.dump()};
    } catch (const std::invalid_argument& e) {
      return error(400, e.what());
    }
  }
  return error(404, "no such endpoint: " + req.method + " " + req.path);
}

}  // namespace weft
