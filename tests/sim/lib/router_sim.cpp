#include "tests/sim/lib/router_sim.h"

#include <algorithm>
#include <limits>

#include "common/overlay.h"
#include "common/random_source.h"
#include "tests/sim/lib/mesh_views.h"

namespace weft::sim {

namespace {
constexpr int64_t kNever = std::numeric_limits<int64_t>::max();
constexpr uint16_t kPort = 6783;
// What the simulated IP and UDP headers add to a datagram on the wire.
constexpr size_t kUdpIpHeaders = 28;
// A simulated workload's frame body starts with this and the frame's id.
constexpr uint8_t kMagic[8] = {'w', 'e', 'f', 't', 's', 'i', 'm', '!'};
constexpr size_t kBodyMin = sizeof kMagic + 8;
constexpr size_t kEthLen = 14, kIpv4Len = 20;
const Bytes kNoVnet(10, 0);
const std::vector<int> kNone;
const std::vector<uint64_t> kNoFrames;
}  // namespace

// One end of a simulated TCP connection carrying a real ControlChannel.
struct RouterSim::Conn {
  std::unique_ptr<ControlChannel> channel;
  uint64_t serial = 0;  // unique in the run: ConnIds repeat after a restart
  ConnKey other{-1, 0};
  uint64_t other_serial = 0;
  bool silent = false;       // across a cut, or the other host is gone: nothing more arrives
  int64_t last_arrival = 0;  // when our last segment reaches the other end (TCP keeps order)
  bool established_reported = false;
};

// One router: the cores, and the adapter glue RouterDaemon has around them.
struct RouterSim::Peer : MeshIo, DataplaneIo, ForwardingRoutes {
  RouterSim& sim;
  int index;
  PeerName name = 0;
  uint64_t incarnation = 0;
  uint64_t generation = 0;  // bumped on every (re)start; stale events check it
  bool alive = false;
  std::unique_ptr<SeededRandom> random;  // the control channels' ephemeral keys
  std::unique_ptr<MeshCore> mesh;
  std::unique_ptr<DataplaneCore> dp;
  std::map<ConnId, PeerName> conn_peer;  // connections whose keys the data plane uses
  int64_t timer_at = kNever;
  std::set<ConnId> pending_dials;
  std::vector<uint64_t> injected;

  Peer(RouterSim& s, int i) : sim(s), index(i) {}

  // MeshIo
  void dial(ConnId id, const std::string& address) override { sim.dial(index, id, address); }
  void send(ConnId id, Bytes message) override { sim.mesh_send(index, id, std::move(message)); }
  void close(ConnId id) override { sim.mesh_close(index, id); }
  void log(LogLevel, const std::string&) override {}
  void targets_changed(const std::vector<std::string>&) override {}
  // DataplaneIo
  void send_udp(const UdpEndpoint& to, ByteView datagram) override {
    sim.send_udp(index, to, datagram);
  }
  void send_fallback(PeerName neighbor, ByteView batch) override {
    mesh->send_frames(neighbor, batch);
  }
  void inject(ByteView, ByteView frame) override { sim.inject(index, frame); }
  // ForwardingRoutes (RouterDaemon::TopologyRoutes)
  std::optional<PeerName> next_hop(PeerName dst) override { return mesh->topology().next_hop(dst); }
  std::vector<PeerName> broadcast_children(PeerName src) override {
    return mesh->topology().broadcast_children(src, /*without_tree=*/false);
  }
};

RouterSim::RouterSim(RouterSimOptions opts) : opts_(std::move(opts)), rng_(opts_.seed) {}
RouterSim::~RouterSim() {
  conns_.clear();
  for (auto& p : peers_) {
    p->dp.reset();
    p->mesh.reset();
  }
}

bool RouterSim::chance(double p) {
  return p > 0 && std::uniform_real_distribution<double>(0, 1)(rng_) < p;
}

std::string RouterSim::ip_of(int i) const {
  return "10." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1) + ".1";
}
std::string RouterSim::address_of(int i) const {
  return ip_of(i) + ":" + std::to_string(kPort);
}

bool RouterSim::cut(int a, int b) const {
  return cut_.count({std::min(a, b), std::max(a, b)}) > 0;
}

PeerName RouterSim::name(int i) const {
  return peers_.at(i)->name;
}
bool RouterSim::alive(int i) const {
  return peers_.at(i)->alive;
}
MeshCore& RouterSim::mesh(int i) {
  return *peers_.at(i)->mesh;
}
DataplaneCore& RouterSim::dataplane(int i) {
  return *peers_.at(i)->dp;
}

std::vector<int> RouterSim::alive_peers() const {
  std::vector<int> v;
  for (size_t i = 0; i < peers_.size(); ++i)
    if (peers_[i]->alive) v.push_back(static_cast<int>(i));
  return v;
}

void RouterSim::touch(int i) {
  Peer& p = *peers_[i];
  if (!p.alive) return;
  // The mesh drives the data plane's deadlines (it is a registered channel), as in the router.
  int64_t d = std::max(p.mesh->next_deadline(), clock_.now());
  if (d >= p.timer_at) return;
  p.timer_at = d;
  uint64_t gen = p.generation;
  clock_.schedule(d, [this, i, gen, d] {
    Peer& q = *peers_[i];
    if (!q.alive || q.generation != gen || q.timer_at != d) return;
    q.timer_at = kNever;
    q.mesh->on_timer(clock_.now());
    touch(i);
  });
}

// --- Peers

void RouterSim::start_peer(int i, const std::vector<int>& targets) {
  Peer& p = *peers_[i];
  p.incarnation = static_cast<uint64_t>(clock_.now()) + 1;
  p.generation++;
  p.alive = true;
  p.timer_at = kNever;
  p.pending_dials.clear();
  p.conn_peer.clear();
  MeshConfig cfg = opts_.mesh;
  cfg.self.name = p.name;
  cfg.self.nickname = "p" + std::to_string(i);
  cfg.self.incarnation = p.incarnation;
  cfg.self.port = kPort;
  cfg.discovery = opts_.discovery;
  cfg.seed = rng_();
  p.random = std::make_unique<SeededRandom>(rng_());
  p.mesh = std::make_unique<MeshCore>(cfg, p);
  p.dp = std::make_unique<DataplaneCore>(p.name, kPort, *p.mesh, p, p, rng_(), opts_.encrypted);
  p.dp->set_overlay_mtu(static_cast<size_t>(1500 - kOverlayOverhead));
  p.mesh->register_channel(std::string(DataplaneCore::kChannel), p.dp.get());
  p.mesh->set_frame_sink(
      [&p](PeerName from, ByteView batch, int64_t now) { p.dp->on_fallback(from, batch, now); });
  std::vector<std::string> t;
  for (int j : targets) t.push_back(address_of(j));
  p.mesh->start(t, clock_.now());
  touch(i);
}

int RouterSim::add_peer(const std::vector<int>& targets) {
  int i = static_cast<int>(peers_.size());
  auto p = std::make_unique<Peer>(*this, i);
  do {
    p->name = rng_() & kPeerNameMask;
  } while (p->name == 0);
  peers_.push_back(std::move(p));
  by_address_[address_of(i)] = i;
  by_ip_[ip_of(i)] = i;
  start_peer(i, targets);
  return i;
}

void RouterSim::end_peer(int i, bool close_sockets) {
  Peer& p = *peers_[i];
  if (!p.alive) return;
  p.alive = false;
  for (auto it = conns_.begin(); it != conns_.end();) {
    if (it->first.first != i) {
      ++it;
      continue;
    }
    Conn& c = it->second;
    auto other = conns_.find(c.other);
    if (other != conns_.end() && !c.silent) {
      if (close_sockets)
        send_fin(c);
      else
        other->second.silent = true;  // a dead host: the other end waits for heartbeats
    }
    it = conns_.erase(it);
  }
  p.dp.reset();
  p.mesh.reset();
}

void RouterSim::stop_peer(int i) {
  end_peer(i, true);
}
void RouterSim::crash_peer(int i) {
  end_peer(i, false);
}

void RouterSim::restart_peer(int i, const std::vector<int>& targets) {
  if (peers_[i]->alive) stop_peer(i);
  start_peer(i, targets);
}

void RouterSim::partition(const std::vector<int>& a, const std::vector<int>& b) {
  std::vector<int> side(peers_.size(), 0);
  for (int x : a) side[x] = 1;
  for (int y : b) side[y] = 2;
  for (int x : a)
    for (int y : b) cut_.insert({std::min(x, y), std::max(x, y)});
  for (auto& [key, c] : conns_) {
    int s1 = side[key.first], s2 = c.other.first >= 0 ? side[c.other.first] : 0;
    if (s1 && s2 && s1 != s2) c.silent = true;
  }
}

void RouterSim::heal_all() {
  cut_.clear();
}
void RouterSim::cut_udp(int a, int b) {
  udp_cut_.insert({std::min(a, b), std::max(a, b)});
}
void RouterSim::heal_udp(int a, int b) {
  udp_cut_.erase({std::min(a, b), std::max(a, b)});
}

// --- Control connections

ControlChannel::Config RouterSim::channel_config(int i, bool initiator) {
  Peer& p = *peers_[i];
  ControlChannel::Config c;
  c.initiator = initiator;
  c.encrypted = opts_.encrypted;
  c.psk.fill(0x5a);
  c.local = p.mesh->config().self;
  c.random = p.random.get();
  return c;
}

void RouterSim::dial(int i, ConnId id, const std::string& address) {
  peers_[i]->pending_dials.insert(id);
  uint64_t gen = peers_[i]->generation;
  clock_.schedule(clock_.now() + opts_.faults.delay_ms, [this, i, id, address, gen] {
    Peer& p = *peers_[i];
    if (!p.alive || p.generation != gen || !p.pending_dials.erase(id)) return;
    auto t = by_address_.find(address);
    if (t == by_address_.end() || cut(i, t->second)) return;  // SYN lost: the dial times out
    int j = t->second;
    Peer& q = *peers_[j];
    if (!q.alive) {
      p.mesh->on_closed(id, ChannelFailure::kNone, "connection refused", clock_.now());
      touch(i);
      return;
    }
    ConnId jid =
        q.mesh->on_inbound(ip_of(i) + ":" + std::to_string(40000 + id % 20000), clock_.now());
    ++links_.handshakes;
    Conn& a = conns_[{i, id}];
    Conn& b = conns_[{j, jid}];
    a.serial = ++next_serial_;
    b.serial = ++next_serial_;
    a.channel = std::make_unique<ControlChannel>(channel_config(i, true));
    a.other = {j, jid};
    a.other_serial = b.serial;
    b.channel = std::make_unique<ControlChannel>(channel_config(j, false));
    b.other = {i, id};
    b.other_serial = a.serial;
    // ControlConnection::start: report, then write the preamble.
    p.mesh->on_handshaking(id, clock_.now());
    q.mesh->on_handshaking(jid, clock_.now());
    flush({i, id});
    flush({j, jid});
    touch(i);
    touch(j);
  });
}

void RouterSim::flush(const ConnKey& k) {
  auto it = conns_.find(k);
  if (it == conns_.end() || !it->second.channel->has_output()) return;
  Conn& c = it->second;
  Bytes out = c.channel->take_output();
  if (c.silent || !conns_.count(c.other)) return;
  const LinkFaults& f = opts_.faults;
  for (size_t off = 0; off < out.size();) {
    size_t len = std::uniform_int_distribution<size_t>(1, std::max<size_t>(f.max_segment, 1))(rng_);
    len = std::min(len, out.size() - off);
    int64_t at = clock_.now() + f.delay_ms +
                 (f.jitter_ms ? std::uniform_int_distribution<int64_t>(0, f.jitter_ms)(rng_) : 0);
    if (chance(f.stream_retransmit)) {
      at += f.rto_ms;
      ++links_.retransmits;
    }
    at = std::max(at, c.last_arrival);
    c.last_arrival = at;
    ++links_.segments;
    Bytes seg(out.begin() + static_cast<ptrdiff_t>(off),
              out.begin() + static_cast<ptrdiff_t>(off + len));
    off += len;
    ConnKey to = c.other;
    uint64_t serial = c.other_serial;
    clock_.schedule(at, [this, to, serial, seg = std::move(seg)] {
      auto t = conns_.find(to);
      if (t == conns_.end() || t->second.serial != serial || t->second.silent) return;
      t->second.channel->receive(seg);
      after_input(to);
    });
  }
}

void RouterSim::send_fin(Conn& c) {
  if (c.silent) return;
  int64_t at = std::max(clock_.now() + opts_.faults.delay_ms, c.last_arrival);
  ConnKey to = c.other;
  uint64_t serial = c.other_serial;
  clock_.schedule(at, [this, to, serial] {
    auto t = conns_.find(to);
    if (t == conns_.end() || t->second.serial != serial || t->second.silent) return;
    const ControlChannel& ch = *t->second.channel;
    connection_failed(to, ch.failure(),
                      ch.failed() ? ch.failure_detail() : "connection closed by the other side");
  });
}

// ControlConnection::after_input and RouterDaemon::connection_established/message.
void RouterSim::after_input(const ConnKey& k) {
  auto [i, id] = k;
  Peer& p = *peers_[i];
  flush(k);
  Conn& c = conns_.at(k);
  if (c.channel->failed()) {
    connection_failed(k, c.channel->failure(), c.channel->failure_detail());
    return;
  }
  if (c.channel->established() && !c.established_reported) {
    c.established_reported = true;
    PeerHello remote = *c.channel->remote();
    p.mesh->on_established(id, remote, clock_.now());
    auto now_c = conns_.find(k);
    if (now_c != conns_.end() && p.mesh->connection_of(remote.name) == id) {
      p.conn_peer[id] = remote.name;
      std::string addr = p.mesh->address_of(remote.name);
      const ControlChannel& ch = *now_c->second.channel;
      p.dp->set_neighbor_keys(remote.name, ch.dataplane_send_key(), ch.dataplane_recv_key(),
                              addr.substr(0, addr.rfind(':')), clock_.now());
    }
    trace_ = (trace_ ^ (p.name + static_cast<uint64_t>(clock_.now()))) * 0x100000001b3ull;
  }
  for (;;) {
    auto it = conns_.find(k);
    if (it == conns_.end()) break;
    auto m = it->second.channel->pop_message();
    if (!m) break;
    p.mesh->on_message(id, *m, clock_.now());
  }
  touch(i);
}

// ControlConnection::fail and RouterDaemon::connection_closed.
void RouterSim::connection_failed(const ConnKey& k, ChannelFailure f, const std::string& why) {
  auto [i, id] = k;
  Peer& p = *peers_[i];
  if (f != ChannelFailure::kNone) ++links_.handshake_failures;
  flush(k);  // a queued reject frame still goes out
  auto it = conns_.find(k);
  if (it != conns_.end()) {
    send_fin(it->second);
    conns_.erase(it);
  }
  p.mesh->on_closed(id, f, why, clock_.now());
  auto cp = p.conn_peer.find(id);
  if (cp != p.conn_peer.end()) {
    if (!p.mesh->connection_of(cp->second)) p.dp->neighbor_down(cp->second);
    p.conn_peer.erase(cp);
  }
  touch(i);
}

void RouterSim::mesh_send(int i, ConnId id, Bytes message) {
  auto it = conns_.find({i, id});
  if (it == conns_.end()) return;
  it->second.channel->send(message);
  flush({i, id});
}

// RouterDaemon::close: the data session goes with the connection unless another is current.
void RouterSim::mesh_close(int i, ConnId id) {
  Peer& p = *peers_[i];
  p.pending_dials.erase(id);
  auto cp = p.conn_peer.find(id);
  if (cp != p.conn_peer.end()) {
    PeerName other = cp->second;
    p.conn_peer.erase(cp);
    auto cur = p.mesh->connection_of(other);
    if (!cur || *cur == id) p.dp->neighbor_down(other);
  }
  auto it = conns_.find({i, id});
  if (it == conns_.end()) return;
  flush({i, id});
  send_fin(it->second);
  conns_.erase(it);
}

// --- Data path

void RouterSim::send_udp(int i, const UdpEndpoint& to, ByteView datagram) {
  ++links_.udp_sent;
  const LinkFaults& f = opts_.faults;
  std::string ip = std::to_string(to.ip[0]) + "." + std::to_string(to.ip[1]) + "." +
                   std::to_string(to.ip[2]) + "." + std::to_string(to.ip[3]);
  auto t = by_ip_.find(ip);
  if (to.v6 || to.port != kPort || t == by_ip_.end()) {
    ++links_.udp_lost;
    return;
  }
  int j = t->second;
  if (cut(i, j) || udp_cut_.count({std::min(i, j), std::max(i, j)})) {
    ++links_.udp_cut;
    return;
  }
  if (datagram.size() + kUdpIpHeaders > f.mtu) {
    ++links_.udp_too_big;
    return;
  }
  if (chance(f.udp_loss)) {
    ++links_.udp_lost;
    return;
  }
  int copies = 1;
  if (chance(f.udp_duplicate)) {
    copies = 2;
    ++links_.udp_duplicated;
  }
  UdpEndpoint from = *parse_udp_endpoint(ip_of(i), kPort);
  uint64_t gen = peers_[j]->generation;
  for (int n = 0; n < copies; ++n) {
    int64_t at = clock_.now() + f.delay_ms +
                 (f.jitter_ms ? std::uniform_int_distribution<int64_t>(0, f.jitter_ms)(rng_) : 0);
    if (chance(f.udp_reorder)) {
      at += std::uniform_int_distribution<int64_t>(1, std::max<int64_t>(f.reorder_ms, 1))(rng_);
      ++links_.udp_reordered;
    }
    clock_.schedule(at, [this, j, gen, from, d = Bytes(datagram.begin(), datagram.end())] {
      Peer& q = *peers_[j];
      if (!q.alive || q.generation != gen) return;
      q.dp->on_udp(from, d, clock_.now());
      touch(j);
    });
  }
}

void RouterSim::inject(int i, ByteView frame) {
  size_t body = kEthLen + kIpv4Len;
  if (frame.size() < body + kBodyMin || !std::equal(kMagic, kMagic + 8, frame.begin() + body))
    return;
  uint64_t id = 0;
  for (size_t k = 0; k < 8; ++k) id = id << 8 | frame[body + 8 + k];
  deliveries_[id].push_back(i);
  peers_[i]->injected.push_back(id);
  trace_ = (trace_ ^ (id * 1315423911u + static_cast<uint64_t>(i))) * 0x100000001b3ull;
}

// --- Workloads

int RouterSim::add_workload(int peer) {
  int w = static_cast<int>(workloads_.size());
  workloads_.push_back(Workload{peer, Mac::from_u64(0x020000000000ull | uint64_t(w + 1)),
                                0x0a200001u + static_cast<uint32_t>(w)});
  return w;
}

void RouterSim::move_workload(int w, int peer) {
  workloads_.at(w).peer = peer;
}

uint64_t RouterSim::send_frame(int from, int to, size_t payload, std::optional<uint32_t> spoof_ip) {
  const Workload& w = workloads_.at(from);
  uint64_t id = next_frame_++;
  payload = std::max(payload, kBodyMin);
  Bytes f(kEthLen + kIpv4Len + payload, 0);
  Mac dst = to < 0 ? Mac::from_u64(0xffffffffffffull) : workloads_.at(to).mac;
  std::copy(dst.b.begin(), dst.b.end(), f.begin());
  std::copy(w.mac.b.begin(), w.mac.b.end(), f.begin() + 6);
  f[12] = 0x08;
  f[13] = 0x00;
  uint8_t* ip = f.data() + kEthLen;
  size_t total = kIpv4Len + payload;
  ip[0] = 0x45;
  ip[2] = static_cast<uint8_t>(total >> 8);
  ip[3] = static_cast<uint8_t>(total);
  ip[8] = 64;  // TTL
  ip[9] = 17;  // UDP
  uint32_t src = spoof_ip.value_or(w.ip);
  uint32_t dip = to < 0 ? 0xffffffffu : workloads_.at(to).ip;
  for (int k = 0; k < 4; ++k) {
    ip[12 + k] = static_cast<uint8_t>(src >> (24 - 8 * k));
    ip[16 + k] = static_cast<uint8_t>(dip >> (24 - 8 * k));
  }
  uint8_t* body = ip + kIpv4Len;
  std::copy(kMagic, kMagic + 8, body);
  for (int k = 0; k < 8; ++k) body[8 + k] = static_cast<uint8_t>(id >> (56 - 8 * k));
  for (size_t k = kBodyMin; k < payload; ++k) body[k] = static_cast<uint8_t>(k);
  Peer& p = *peers_.at(w.peer);
  if (p.alive) {
    p.dp->on_local_frame(kNoVnet, f, clock_.now());
    touch(w.peer);
  }
  return id;
}

const std::vector<int>& RouterSim::deliveries(uint64_t id) const {
  auto it = deliveries_.find(id);
  return it == deliveries_.end() ? kNone : it->second;
}

const std::vector<uint64_t>& RouterSim::injected_at(int i) const {
  return i < static_cast<int>(peers_.size()) ? peers_[i]->injected : kNoFrames;
}

// --- Running and checks

std::vector<const MeshCore*> RouterSim::live_cores() const {
  std::vector<const MeshCore*> v;
  for (int i : alive_peers()) v.push_back(peers_[i]->mesh.get());
  return v;
}

bool RouterSim::views_agree_on_members() const {
  return sim::views_agree_on_members(live_cores());
}
bool RouterSim::views_agree() const {
  return sim::views_agree(live_cores());
}
bool RouterSim::full_mesh_connected() const {
  return sim::full_mesh_connected(live_cores());
}

bool RouterSim::sessions_ready() const {
  for (int i : alive_peers()) {
    const Peer& p = *peers_[i];
    std::vector<NeighborPath> paths = p.dp->paths(clock_.now());
    for (PeerName n : p.mesh->neighbors()) {
      auto it = std::find_if(paths.begin(), paths.end(),
                             [n](const NeighborPath& np) { return np.peer == n; });
      if (it == paths.end() || !it->session || !it->udp) return false;
    }
  }
  return true;
}

DataplaneCounters RouterSim::total_dataplane() const {
  DataplaneCounters t;
  for (int i : alive_peers()) {
    const DataplaneCounters& c = peers_[i]->dp->counters();
    t.udp_rx += c.udp_rx;
    t.udp_tx += c.udp_tx;
    t.fallback_rx += c.fallback_rx;
    t.fallback_tx += c.fallback_tx;
    t.dropped_malformed += c.dropped_malformed;
    t.dropped_unknown_session += c.dropped_unknown_session;
    t.dropped_auth += c.dropped_auth;
    t.dropped_replay += c.dropped_replay;
    t.dropped_no_session += c.dropped_no_session;
    t.endpoint_changes += c.endpoint_changes;
  }
  return t;
}

ForwarderCounters RouterSim::total_forwarding() const {
  ForwarderCounters t;
  for (int i : alive_peers()) {
    const ForwarderCounters& c = peers_[i]->dp->forwarding();
    t.unicast += c.unicast;
    t.flooded += c.flooded;
    t.relayed += c.relayed;
    t.delivered += c.delivered;
    t.dropped_no_route += c.dropped_no_route;
    t.dropped_local += c.dropped_local;
    t.dropped_spoofed += c.dropped_spoofed;
    t.dropped_spoofed_ip += c.dropped_spoofed_ip;
    t.mac_moves += c.mac_moves;
    t.ip_moves += c.ip_moves;
    t.local_conflicts += c.local_conflicts;
    t.mac_table_full += c.mac_table_full;
    t.ip_table_full += c.ip_table_full;
  }
  return t;
}

}  // namespace weft::sim
