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

namespace weft {

namespace asio = boost::asio;
using asio::ip::tcp;

RouterDaemon::RouterDaemon(RouterOptions opts)
    : opts_(std::move(opts)),
      timer_(io_),
      signals_(io_, SIGTERM, SIGINT),
      epoch_(std::chrono::steady_clock::now()),
      udp_(io_) {
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
  uint64_t dp_seed;
  randombytes_buf(&dp_seed, sizeof dp_seed);
  dp_ = std::make_unique<DataplaneCore>(opts_.self.name, opts_.self.port, *mesh_, routes_, *this,
                                        dp_seed, opts_.encryption);
  mesh_->register_channel(std::string(DataplaneCore::kChannel), dp_.get());
  listener_ = std::make_unique<ControlListener>(
      io_, [this] { return now_ms(); },
      [this](tcp::socket sock, const std::string& address) {
        return accepted(std::move(sock), address);
      });
  mesh_->set_frame_sink([this](PeerName from, ByteView batch, int64_t now) {
    dp_->on_fallback(from, batch, now);
    if (device_) device_->flush();
  });
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
  listener_->listen(opts_.self.port);

  ipam::IpamConfig ic;
  ic.self = opts_.self.name;
  ic.range = opts_.ipalloc_range;
  ic.init = opts_.ipalloc_init;
  ic.started_unix_ms = opts_.started_unix_ms;
  ipam_ =
      std::make_unique<IpamService>(io_, *mesh_, opts_.datadir, ic, [this] { return now_ms(); });
  ipam_->start();

  http_ = std::make_unique<HttpServer>(io_, [this](const HttpRequest& r, HttpResponder respond) {
    if (r.path.starts_with("/ipam/")) return ipam_->handle(r, std::move(respond));
    respond(handle(r));
  });
  http_->listen_unix(opts_.datadir + "/api.sock");
  if (!opts_.http_addr.empty()) http_->listen_tcp(opts_.http_addr);

  start_dataplane();

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
  int64_t d = std::min(mesh_->next_deadline(), dp_->next_deadline());
  if (d == timer_at_) return;
  timer_at_ = d;
  timer_.expires_at(epoch_ + std::chrono::milliseconds(d));
  timer_.async_wait([this, d](const boost::system::error_code& ec) {
    if (ec || d != timer_at_) return;
    timer_at_ = -1;
    mesh_->on_timer(now_ms());
    dp_->on_timer(now_ms());
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
  auto cp = conn_peer_.find(id);
  if (cp != conn_peer_.end()) {
    PeerName p = cp->second;
    conn_peer_.erase(cp);
    // Closed by the mesh (dead, duplicate...): the data session goes with it unless another
    // connection to the peer is current.
    auto cur = mesh_->connection_of(p);
    if (!cur || *cur == id) dp_->neighbor_down(p);
  }
  auto it = conns_.find(id);
  if (it == conns_.end()) return;
  it->second->close();
  conns_.erase(it);
}

void RouterDaemon::log(LogLevel level, const std::string& message) {
  switch (level) {
    case LogLevel::kDebug:
      spdlog::debug("{}", message);
      break;
    case LogLevel::kInfo:
      spdlog::info("{}", message);
      break;
    case LogLevel::kWarn:
      spdlog::warn("{}", message);
      break;
    case LogLevel::kError:
      spdlog::error("{}", message);
      break;
  }
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
  if (mesh_->connection_of(remote.name) == id && conn != conns_.end()) {
    // This connection carries the mesh to `remote` now: its handshake keys the data plane.
    conn_peer_[id] = remote.name;
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
  auto cp = conn_peer_.find(id);
  if (cp != conn_peer_.end()) {
    if (!mesh_->connection_of(cp->second)) dp_->neighbor_down(cp->second);
    conn_peer_.erase(cp);
  }
  rearm_timer();
}

// --- HTTP API

HttpResponse RouterDaemon::handle(const HttpRequest& req) {
  auto error = [](int status, const std::string& msg) {
    return HttpResponse{status, "application/json", nlohmann::json{{"error", msg}}.dump()};
  };
  if (req.path == "/status" && req.method == "GET") {
    auto j = status_json(*mesh_, info_);
    j["dataplane"] = dataplane_json();
    return {200, "application/json", j.dump()};
  }
  if (req.path == "/metrics" && req.method == "GET") {
    std::string m = metrics_text(*mesh_, info_);
    const DataplaneCounters& c = dp_->counters();
    const ForwarderCounters& f = dp_->forwarding();
    auto counter = [&](const std::string& name, const std::string& help, uint64_t v) {
      m += "# HELP " + name + " " + help + "\n# TYPE " + name + " counter\n" + name + " " +
           std::to_string(v) + "\n";
    };
    m += "# HELP weft_dataplane_dropped_total Data-plane datagrams and frames dropped, by reason.\n"
         "# TYPE weft_dataplane_dropped_total counter\n";
    for (auto [reason, v] : std::initializer_list<std::pair<const char*, uint64_t>>{
             {"malformed", c.dropped_malformed},
             {"unknown_session", c.dropped_unknown_session},
             {"authentication", c.dropped_auth},
             {"replay", c.dropped_replay},
             {"no_session", c.dropped_no_session},
             {"spoofed_source", f.dropped_spoofed},
             {"spoofed_source_ip", f.dropped_spoofed_ip},
             {"too_big", dp_->too_big().dropped},
             {"no_route", f.dropped_no_route}})
      m += "weft_dataplane_dropped_total{reason=\"" + std::string(reason) + "\"} " +
           std::to_string(v) + "\n";
    counter("weft_dataplane_udp_received_total", "Authenticated UDP datagrams received.", c.udp_rx);
    counter("weft_dataplane_udp_sent_total", "UDP datagrams sent.", c.udp_tx);
    counter("weft_dataplane_fallback_sent_total",
            "Frame batches sent over the control connection because UDP did not work.",
            c.fallback_tx);
    counter("weft_dataplane_fallback_received_total",
            "Frame batches received over the control connection.", c.fallback_rx);
    counter("weft_dataplane_frames_relayed_total", "Frames relayed for other peers.", f.relayed);
    counter("weft_dataplane_frames_flooded_total", "Frames flooded along broadcast trees.",
            f.flooded);
    counter("weft_dataplane_frames_delivered_total", "Frames injected into the local bridge.",
            f.delivered);
    counter("weft_dataplane_icmp_too_big_sent_total",
            "ICMP fragmentation-needed / packet-too-big errors sent to local senders.",
            dp_->too_big().replies);
    counter("weft_dataplane_address_table_full_total",
            "New source MACs and IPs not learned because their table was full.",
            f.mac_table_full + f.ip_table_full);
    counter("weft_dataplane_device_write_drops_total",
            "Frames the capture device (TAP or pcap) would not take.", device_->write_drops());
    m += listener_->metrics_text();
    m += ipam_->metrics_text();
    return {200, "text/plain; version=0.0.4", m};
  }
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

namespace weft {

void RouterDaemon::start_dataplane() {
  mtu_ = opts_.mtu > 0 ? opts_.mtu : underlay_mtu() - kOverlayOverhead;
  device_ = open_frame_device(opts_.capture, io_, opts_.bridge, mtu_);
  dp_->set_overlay_mtu(static_cast<size_t>(mtu_));
  boost::system::error_code ec;
  udp_.open(asio::ip::udp::v4());
  udp_.bind(asio::ip::udp::endpoint(asio::ip::udp::v4(), opts_.self.port), ec);
  if (ec)
    throw std::runtime_error("cannot listen on UDP port " + std::to_string(opts_.self.port) + ": " +
                             ec.message());
  udp_.non_blocking(true);
  // Bursts of segments from one super-frame arrive back to back: room for several of them.
  udp_.set_option(asio::socket_base::receive_buffer_size(4 << 20), ec);
  udp_.set_option(asio::socket_base::send_buffer_size(4 << 20), ec);
  udp_out_ = std::make_unique<UdpGsoSender>(udp_.native_handle());
  udp_in_ = std::make_unique<UdpGroReceiver>(udp_.native_handle());
  spdlog::info("data plane: bridge {} with {}, overlay MTU {}, UDP port {}, {}", opts_.bridge,
               device_->describe(), mtu_, opts_.self.port, cipher_name(data_cipher()));
  // Experiment (bench/RESULTS.md): 1 = whole super-frames in fragments sent with UDP GSO,
  // 2 = whole super-frames IP-fragmented by the kernel.
  if (const char* e = std::getenv("WEFT_EXPERIMENT_WHOLE_SUPERFRAMES"); e && *e >= '1') {
    spdlog::warn("experiment: super-frames cross whole, one AEAD each, {}",
                 *e == '1' ? "in UDP GSO fragments" : "IP-fragmented");
    dp_->set_whole_superframes(true, *e == '1' ? size_t(mtu_ + kOverlayOverhead - 28) : 0);
  }
  device_->start(
      [this](ByteView vnet, ByteView frame) {
        batching_ = true;
        dp_->on_local_frame(vnet, frame, now_ms());
      },
      [this] {
        batching_ = false;
        udp_out_->flush();
        device_->flush();
        rearm_timer();
      });
  read_udp();
}

void RouterDaemon::read_udp() {
  udp_.async_wait(asio::ip::udp::socket::wait_read, [this](const boost::system::error_code& ec) {
    if (ec) return;
    int64_t now = now_ms();
    // Several recvmmsg calls per wakeup: each returns up to UdpGroReceiver::kMessages bundles.
    // Datagrams relayed meanwhile are queued (batching_) and leave in GSO sends at the end.
    batching_ = true;
    for (int i = 0; i < 8; ++i) {
      const auto& batch = udp_in_->receive();
      if (batch.empty()) break;
      for (const UdpGroReceiver::Datagram& d : batch) dp_->on_udp(d.from, d.data, now);
    }
    batching_ = false;
    // Whole super-frames go to the bridge (and datagrams relayed or answered leave) per burst.
    device_->flush();
    udp_out_->flush();
    rearm_timer();
    read_udp();
  });
}

void RouterDaemon::send_udp(const UdpEndpoint& to, ByteView datagram) {
  // The segments of one super-frame leave in one UDP GSO send: send_udp queues them, and the
  // end of a burst (or a datagram that cannot join the run) sends them.
  udp_out_->send(to, datagram);
  if (!batching_) udp_out_->flush();
}

void RouterDaemon::send_fallback(PeerName neighbor, ByteView batch) {
  mesh_->send_frames(neighbor, batch);
}

void RouterDaemon::inject(ByteView vnet, ByteView frame) {
  device_->write(vnet, frame);
}

DataCipher RouterDaemon::data_cipher() const {
  return opts_.encryption ? best_local_cipher() : DataCipher::kNone;
}

nlohmann::json RouterDaemon::dataplane_json() {
  nlohmann::json j;
  j["bridge"] = opts_.bridge;
  j["mtu"] = mtu_;
  j["capture"] = device_->describe();
  j["cipher"] = cipher_name(data_cipher());
  nlohmann::json paths = nlohmann::json::array();
  for (const NeighborPath& p : dp_->paths(now_ms())) {
    const PeerRecord* r = mesh_->topology().find(p.peer);
    paths.push_back({{"peer", format_peer_name(p.peer)},
                     {"nickname", r ? r->nickname : ""},
                     {"session", p.session},
                     {"path", !p.session ? "none"
                              : p.udp    ? "udp"
                                         : "tcp (UDP not working)"},
                     {"endpoint", p.endpoint},
                     {"cipher", p.cipher}});
  }
  j["paths"] = paths;
  j["macs"] = dp_->macs().size();
  return j;
}

}  // namespace weft
