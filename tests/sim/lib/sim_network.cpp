#include "tests/sim/lib/sim_network.h"

#include <limits>

#include "tests/sim/lib/mesh_views.h"

namespace weft::sim {

constexpr int64_t kNever = std::numeric_limits<int64_t>::max();

struct SimNetwork::Io : MeshIo {
  SimNetwork& net;
  int self;
  Io(SimNetwork& n, int i) : net(n), self(i) {}
  void dial(ConnId id, const std::string& address) override { net.dial(self, id, address); }
  void send(ConnId id, Bytes message) override { net.send(self, id, std::move(message)); }
  void close(ConnId id) override { net.close(self, id); }
  void log(LogLevel, const std::string&) override {}
  void targets_changed(const std::vector<std::string>&) override {}
};

struct SimNetwork::Peer {
  PeerName name = 0;
  uint64_t incarnation = 0;
  uint64_t generation = 0;  // bumped on every (re)start; stale events check it
  bool alive = false;
  std::unique_ptr<Io> io;
  std::unique_ptr<MeshCore> core;
  int64_t timer_at = kNever;
  std::set<ConnId> pending_dials;
  // Traffic counters (benchmarks); they survive restarts.
  uint64_t msgs_in = 0, bytes_in = 0, heartbeats_in = 0, msgs_out = 0, bytes_out = 0;
};

SimNetwork::SimNetwork(SimOptions opts) : opts_(std::move(opts)), rng_(opts_.seed) {}
SimNetwork::~SimNetwork() = default;

void SimNetwork::record(uint64_t v) { trace_ = (trace_ ^ v) * 0x100000001b3ull; }

std::string SimNetwork::address_of(int i) const {
  return "10." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1) + ".1:6783";
}

bool SimNetwork::link_up(int a, int b) const {
  return !cut_.count({std::min(a, b), std::max(a, b)});
}

MeshCore& SimNetwork::core(int i) { return *peers_.at(i)->core; }
PeerName SimNetwork::name(int i) const { return peers_.at(i)->name; }
bool SimNetwork::alive(int i) const { return peers_.at(i)->alive; }
uint64_t SimNetwork::messages_received(int i) const { return peers_.at(i)->msgs_in; }
uint64_t SimNetwork::bytes_received(int i) const { return peers_.at(i)->bytes_in; }
uint64_t SimNetwork::heartbeats_received(int i) const { return peers_.at(i)->heartbeats_in; }
uint64_t SimNetwork::messages_sent(int i) const { return peers_.at(i)->msgs_out; }
uint64_t SimNetwork::bytes_sent(int i) const { return peers_.at(i)->bytes_out; }

std::vector<int> SimNetwork::alive_peers() const {
  std::vector<int> v;
  for (size_t i = 0; i < peers_.size(); ++i)
    if (peers_[i]->alive) v.push_back(static_cast<int>(i));
  return v;
}

void SimNetwork::touch(int i) {
  Peer& p = *peers_[i];
  if (!p.alive) return;
  int64_t d = std::max(p.core->next_deadline(), clock_.now());
  if (d >= p.timer_at) return;
  p.timer_at = d;
  uint64_t gen = p.generation;
  clock_.schedule(d, [this, i, gen, d] {
    Peer& q = *peers_[i];
    if (!q.alive || q.generation != gen || q.timer_at != d) return;
    q.timer_at = kNever;
    q.core->on_timer(clock_.now());
    touch(i);
  });
}

void SimNetwork::start_peer(int i, const std::vector<int>& targets) {
  Peer& p = *peers_[i];
  p.incarnation = static_cast<uint64_t>(clock_.now()) + 1;
  p.generation++;
  p.alive = true;
  p.timer_at = kNever;
  p.pending_dials.clear();
  MeshConfig cfg = opts_.mesh;
  cfg.self.name = p.name;
  cfg.self.nickname = "p" + std::to_string(i);
  cfg.self.incarnation = p.incarnation;
  cfg.self.port = 6783;
  cfg.discovery = opts_.discovery;
  cfg.seed = rng_();
  p.io = std::make_unique<Io>(*this, i);
  p.core = std::make_unique<MeshCore>(cfg, *p.io);
  std::vector<std::string> t;
  for (int j : targets) t.push_back(address_of(j));
  p.core->start(t, clock_.now());
  touch(i);
}

int SimNetwork::add_peer(const std::vector<int>& targets) {
  int i = static_cast<int>(peers_.size());
  auto p = std::make_unique<Peer>();
  do {
    p->name = rng_() & kPeerNameMask;
  } while (p->name == 0);
  peers_.push_back(std::move(p));
  by_address_[address_of(i)] = i;
  start_peer(i, targets);
  return i;
}

void SimNetwork::drop_all_connections(int i, bool notify) {
  // Keys first: erasing the other end below may remove the entry an iterator would visit next
  // (a peer's connection to itself has both ends under the same peer).
  std::vector<std::pair<int, ConnId>> mine;
  for (const auto& [key, link] : wires_)
    if (key.first == i) mine.push_back(key);
  for (const auto& key : mine) {
    auto it = wires_.find(key);
    if (it == wires_.end()) continue;  // the other end of one handled already
    Link other = it->second;
    wires_.erase(it);
    if (other.peer < 0) continue;  // already silent (a cut or a crashed peer)
    wires_.erase({other.peer, other.id});
    if (notify) {
      uint64_t gen = peers_[other.peer]->generation;
      clock_.schedule(clock_.now() + opts_.link_delay_ms, [this, other, gen] {
        Peer& q = *peers_[other.peer];
        if (!q.alive || q.generation != gen) return;
        q.core->on_closed(other.id, ChannelFailure::kNone, "connection reset by peer",
                          clock_.now());
        touch(other.peer);
      });
    } else {
      // The other side keeps a connection that will never deliver again (a silent host).
      wires_[{other.peer, other.id}] = Link{-1, 0};
    }
  }
}

void SimNetwork::stop_peer(int i) {
  Peer& p = *peers_[i];
  if (!p.alive) return;
  p.alive = false;
  drop_all_connections(i, true);
  p.core.reset();
}

void SimNetwork::crash_peer(int i) {
  Peer& p = *peers_[i];
  if (!p.alive) return;
  p.alive = false;
  drop_all_connections(i, false);
  p.core.reset();
}

void SimNetwork::restart_peer(int i, const std::vector<int>& targets) {
  if (peers_[i]->alive) stop_peer(i);
  start_peer(i, targets);
}

void SimNetwork::cut(int a, int b) { partition({a}, {b}); }

void SimNetwork::heal(int a, int b) { cut_.erase({std::min(a, b), std::max(a, b)}); }

void SimNetwork::partition(const std::vector<int>& a, const std::vector<int>& b) {
  std::vector<int> side(peers_.size(), 0);
  for (int x : a) side[x] = 1;
  for (int y : b) side[y] = 2;
  for (int x : a)
    for (int y : b) cut_.insert({std::min(x, y), std::max(x, y)});
  // Connections across the cut go silent both ways; the cores notice by heartbeats.
  for (auto& [key, link] : wires_) {
    if (link.peer < 0) continue;
    int s1 = side[key.first], s2 = side[link.peer];
    if (s1 && s2 && s1 != s2) link.peer = -1;
  }
}

void SimNetwork::heal_all() { cut_.clear(); }

void SimNetwork::dial(int from, ConnId id, const std::string& address) {
  peers_[from]->pending_dials.insert(id);
  uint64_t gen = peers_[from]->generation;
  clock_.schedule(clock_.now() + opts_.link_delay_ms, [this, from, id, address, gen] {
    Peer& p = *peers_[from];
    if (!p.alive || p.generation != gen || !p.pending_dials.erase(id)) return;
    auto t = by_address_.find(address);
    if (t == by_address_.end() || !link_up(from, t->second)) return;  // SYN lost: times out
    int j = t->second;
    Peer& q = *peers_[j];
    if (!q.alive) {
      p.core->on_closed(id, ChannelFailure::kNone, "connection refused", clock_.now());
      touch(from);
      return;
    }
    std::string ip = address_of(from);
    ip = ip.substr(0, ip.rfind(':')) + ":" + std::to_string(40000 + id % 20000);
    ConnId jid = q.core->on_inbound(ip, clock_.now());
    touch(j);
    wires_[{from, id}] = Link{j, jid};
    wires_[{j, jid}] = Link{from, id};
    // The handshake takes a round trip; then both sides are established.
    uint64_t gj = q.generation;
    clock_.schedule(clock_.now() + 2 * opts_.link_delay_ms, [this, from, id, j, jid, gen, gj] {
      Peer& a = *peers_[from];
      Peer& b = *peers_[j];
      if (!a.alive || !b.alive || a.generation != gen || b.generation != gj) return;
      auto wa = wires_.find({from, id});
      auto wb = wires_.find({j, jid});
      if (wa == wires_.end() || wb == wires_.end() || wa->second.peer < 0 ||
          wb->second.peer < 0)
        return;
      PeerHello ha = a.core->config().self, hb = b.core->config().self;
      b.core->on_established(jid, ha, clock_.now());
      a.core->on_established(id, hb, clock_.now());
      record(a.name ^ (b.name << 1) ^ static_cast<uint64_t>(clock_.now()));
      touch(from);
      touch(j);
    });
  });
}

void SimNetwork::send(int from, ConnId id, Bytes msg) {
  auto w = wires_.find({from, id});
  if (w == wires_.end() || w->second.peer < 0) return;
  Link to = w->second;
  uint64_t gen = peers_[to.peer]->generation;
  clock_.schedule(clock_.now() + opts_.link_delay_ms, [this, from, to, gen, m = std::move(msg)] {
    Peer& q = *peers_[to.peer];
    if (!q.alive || q.generation != gen) return;
    auto back = wires_.find({to.peer, to.id});
    if (back == wires_.end() || back->second.peer < 0) return;
    ++messages_;
    bytes_ += m.size();
    ++q.msgs_in;
    q.bytes_in += m.size();
    if (!m.empty() && m[0] == static_cast<uint8_t>(MeshMessageType::kHeartbeat)) ++q.heartbeats_in;
    ++peers_[from]->msgs_out;
    peers_[from]->bytes_out += m.size();
    if (observer_) observer_(from, to.peer, m);
    record(m.size() ^ (static_cast<uint64_t>(to.peer) << 32));
    q.core->on_message(to.id, m, clock_.now());
    touch(to.peer);
  });
}

void SimNetwork::close(int from, ConnId id) {
  peers_[from]->pending_dials.erase(id);
  auto w = wires_.find({from, id});
  if (w == wires_.end()) return;
  Link to = w->second;
  wires_.erase(w);
  if (to.peer < 0) return;
  wires_.erase({to.peer, to.id});
  uint64_t gen = peers_[to.peer]->generation;
  clock_.schedule(clock_.now() + opts_.link_delay_ms, [this, to, gen] {
    Peer& q = *peers_[to.peer];
    if (!q.alive || q.generation != gen) return;
    q.core->on_closed(to.id, ChannelFailure::kNone, "closed by peer", clock_.now());
    touch(to.peer);
  });
}


std::vector<const MeshCore*> SimNetwork::live_cores() const {
  std::vector<const MeshCore*> v;
  for (int i : alive_peers()) v.push_back(peers_[i]->core.get());
  return v;
}

bool SimNetwork::views_agree_on_members() const {
  return sim::views_agree_on_members(live_cores());
}
bool SimNetwork::views_agree() const { return sim::views_agree(live_cores()); }
bool SimNetwork::full_mesh_converged() const {
  return sim::full_mesh_connected(live_cores()) && views_agree();
}

}  // namespace weft::sim
