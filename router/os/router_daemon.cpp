#include "router/os/router_daemon.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sodium.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "common/atomic_file.h"
#include "router/api/dataplane_status.h"
#include "router/api/mesh_routes.h"
#include "router/os/spdlog_line.h"

namespace weft {

namespace asio = boost::asio;
using asio::ip::tcp;

RouterDaemon::RouterDaemon(RouterOptions opts)
    : opts_(std::move(opts)),
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
  routes_.mesh = mesh_.get();
  DataplaneIoConfig dc;
  dc.bridge = opts_.bridge;
  dc.capture = opts_.capture;
  dc.port = opts_.self.port;
  dc.mtu = opts_.mtu;
  dc.cipher = cipher_name(data_cipher());
  dp_io_ = std::make_unique<DataplaneIoAdapter>(
      io_, dc, [this](PeerName n, ByteView batch) { mesh_->send_frames(n, batch); },
      [this] { return now_ms(); }, [this] { rearm_timer(); });
  uint64_t dp_seed;
  randombytes_buf(&dp_seed, sizeof dp_seed);
  dp_ = std::make_unique<DataplaneCore>(opts_.self.name, opts_.self.port, *mesh_, routes_, *dp_io_,
                                        dp_seed, opts_.encryption);
  mesh_->register_channel(std::string(DataplaneCore::kChannel), dp_.get());
  listener_ = std::make_unique<ControlListener>(
      io_, [this] { return now_ms(); },
      [this](tcp::socket sock, const std::string& address) {
        return accepted(std::move(sock), address);
      });
  mesh_->set_frame_sink([this](PeerName from, ByteView batch, int64_t now) {
    dp_->on_fallback(from, batch, now);
    dp_io_->flush_device();
  });
}

RouterDaemon::~RouterDaemon() {
  if (http_) http_->stop();
  http_.reset();
  attacher_.reset();  // waits for a host change under way, before the modules it uses go
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
  listener_->listen(opts_.self.port);

  ipam::IpamConfig ic;
  ic.self = opts_.self.name;
  ic.range = opts_.ipalloc_range;
  ic.init = opts_.ipalloc_init;
  ic.started_unix_ms = opts_.started_unix_ms;
  ipam_ =
      std::make_unique<IpamService>(io_, *mesh_, opts_.datadir, ic, [this] { return now_ms(); });
  ipam_->start(*this);

  StateServiceConfig sc;
  sc.datadir = opts_.datadir;
  sc.self = opts_.self.name;
  sc.nickname = opts_.self.nickname;
  sc.started_unix_ms = static_cast<int64_t>(opts_.started_unix_ms) - now_ms();
  sc.gone_grace_ms = opts_.peer_gone_after_ms;
  state_ = std::make_unique<StateService>(*mesh_, *mesh_, sc, [this] { return now_ms(); });
  state_->start(*this);
  ipam_->on_rmpeer([this](PeerName p) { state_->forget_host(p); });
  port_guard_nft_ = std::make_unique<PortGuard>();
  port_guard_ = std::make_unique<PortGuardService>(opts_.self.name, *port_guard_nft_,
                                                   [this] { return now_ms(); });
  port_guard_->start(state_->core().table());
  state_->on_changes([this](const state::Change& c) { port_guard_->on_change(c); });
  add_metrics([this] { return port_guard_->metrics_text(); });

  DnsModuleConfig dc = opts_.dns;
  dc.bridge = opts_.bridge;
  dns_ = std::make_unique<DnsModule>(io_, std::move(dc), *state_);
  dns_->start(*this);

  dp_io_->start(*dp_);
  WorkloadAttacherConfig wc;
  wc.bridge = opts_.bridge;
  wc.mtu = [this] { return dp_io_->mtu(); };
  wc.changed = [this] { rearm_timer(); };
  wc.dns = [this](const std::string& ns) { return dns_->resolver_config(ns); };
  attacher_ = std::make_unique<WorkloadAttacher>(io_, *ipam_, *state_, wc);
  attacher_->start(*this);
  start_api();

  std::vector<std::string> targets = load_targets();
  for (const auto& p : opts_.peers) targets.push_back(p);
  spdlog::info("weft router {} starting: peer {}({}), port {}, encryption {}, discovery {}",
               WEFT_VERSION, format_peer_name(opts_.self.name), opts_.self.nickname,
               opts_.self.port, opts_.encryption ? "on" : "OFF", opts_.discovery ? "on" : "off");
  if (!opts_.encryption)
    spdlog::warn(
        "ENCRYPTION IS OFF: control and data traffic between peers is readable and "
        "forgeable on the network");
  mesh_->start(targets, now_ms());
  targets_changed(mesh_->targets());
  listener_->start();
  signals_.async_wait([this](const boost::system::error_code&, int sig) {
    spdlog::info("received signal {}, shutting down", sig);
    io_.stop();
  });
  rearm_timer();
  io_.run();
  spdlog::info("weft router stopped");
}

ConnId RouterDaemon::accepted(tcp::socket sock, const std::string& address) {
  ConnId id = mesh_->on_inbound(address, now_ms());
  auto conn =
      std::make_shared<ControlConnection>(std::move(sock), id, channel_config(false), *this);
  conns_[id] = conn;
  conn->start();
  rearm_timer();
  return id;
}

void RouterDaemon::rearm_timer() {
  // The mesh's deadline covers every registered channel's (the modules', the data plane's).
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
  listener_->finished(id);
  // Closed by the mesh (dead, duplicate...): the data session goes with it unless another
  // connection to the peer is current.
  if (auto p = keying_.peer_of(id)) {
    if (auto down = keying_.on_closed(id, mesh_->connection_of(*p))) dp_->neighbor_down(*down);
  }
  auto it = conns_.find(id);
  if (it == conns_.end()) return;
  it->second->close();
  conns_.erase(it);
}

void RouterDaemon::log(LogLevel level, const std::string& message) {
  log_with_spdlog(level, message);
}

void RouterDaemon::targets_changed(const std::vector<std::string>& targets) {
  try {
    write_file_atomic(opts_.datadir + "/targets.json", nlohmann::json(targets).dump() + "\n", 0600);
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
  listener_->finished(id);
  mesh_->on_established(id, remote, now_ms());
  auto conn = conns_.find(id);
  if (conn != conns_.end() &&
      keying_.on_established(id, remote.name, mesh_->connection_of(remote.name))) {
    // This connection carries the mesh to `remote` now: its handshake keys the data plane.
    std::string addr = mesh_->address_of(remote.name);
    std::string ip = addr.substr(0, addr.rfind(':'));
    if (!ip.empty() && ip.front() == '[') ip = ip.substr(1, ip.size() - 2);
    const ControlChannel& ch = conn->second->channel();
    dp_->set_neighbor_keys(remote.name, ch.dataplane_send_key(), ch.dataplane_recv_key(), ip,
                           now_ms());
  }
  rearm_timer();
}

void RouterDaemon::connection_message(ConnId id, ByteView message) {
  mesh_->on_message(id, message, now_ms());
  rearm_timer();
}

void RouterDaemon::connection_closed(ConnId id, ChannelFailure failure, const std::string& why) {
  listener_->finished(id);
  conns_.erase(id);
  mesh_->on_closed(id, failure, why, now_ms());
  if (auto p = keying_.peer_of(id)) {
    if (auto down = keying_.on_closed(id, mesh_->connection_of(*p))) dp_->neighbor_down(*down);
  }
  rearm_timer();
}

// --- ModuleRegistry

void RouterDaemon::add_channel(std::string name, GossipChannel* channel) {
  mesh_->register_channel(std::move(name), channel);
}

void RouterDaemon::add_route(ApiRoute route) {
  api_.add(std::move(route));
}

void RouterDaemon::add_metrics(std::function<std::string()> text) {
  metrics_.push_back(std::move(text));
}

// --- HTTP API

void RouterDaemon::start_api() {
  MeshRoutes mr;
  mr.mesh = mesh_.get();
  mr.info = info_;
  mr.now_ms = [this] { return now_ms(); };
  mr.extra_status = [this](nlohmann::json& j) {
    j["dataplane"] = dataplane_status_json(*dp_, *mesh_, dataplane_info(), now_ms());
  };
  add_mesh_routes(*this, std::move(mr));
  add_metrics([this] { return dataplane_metrics_text(*dp_, dataplane_info()); });
  add_metrics([this] { return listener_->metrics_text(); });
  add_metrics([this] { return http_ ? http_->metrics_text() : std::string(); });
  add_route({"GET", "/metrics", ApiAccess::kRead, [this](const HttpRequest&, HttpResponder r) {
               std::string m;
               for (const auto& f : metrics_) m += f();
               r({200, "text/plain; version=0.0.4", m});
             }});
  http_ = std::make_unique<HttpServer>(io_, [this](const HttpRequest& r, HttpResponder respond) {
    api_.dispatch(r, std::move(respond));
    rearm_timer();  // a handler may have given a core new deadlines
  });
  http_->listen_unix(opts_.datadir + "/api.sock");
  if (!opts_.http_addr.empty()) http_->listen_tcp(opts_.http_addr);
}

DataCipher RouterDaemon::data_cipher() const {
  return opts_.encryption ? best_local_cipher() : DataCipher::kNone;
}

DataplaneInfo RouterDaemon::dataplane_info() const {
  return {opts_.bridge, dp_io_->mtu(), dp_io_->describe_device(), cipher_name(data_cipher()),
          dp_io_->device_write_drops()};
}

}  // namespace weft
