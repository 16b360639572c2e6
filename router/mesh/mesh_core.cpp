#include "router/mesh/mesh_core.h"

#include <algorithm>
#include <unordered_set>

#include "router/wire/mesh_message.h"

namespace weft {

namespace {

std::string host_of(const std::string& address) {
  if (!address.empty() && address[0] == '[') {
    auto e = address.find(']');
    return e == std::string::npos ? address : address.substr(1, e - 1);
  }
  auto c = address.rfind(':');
  return c == std::string::npos ? address : address.substr(0, c);
}

std::string join_host_port(const std::string& host, uint16_t port) {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

const char* state_name(int s) {
  switch (s) {
    case 0:
      return "connecting";
    case 1:
      return "handshaking";
    default:
      return "established";
  }
}

}  // namespace

std::string normalize_address(const std::string& address, uint16_t default_port) {
  if (address.empty() || address.size() > 255) return "";
  for (char c : address)
    if (c <= ' ' || c == '/' || c == '@') return "";
  if (address[0] == '[') {
    auto e = address.find(']');
    if (e == std::string::npos || e == 1) return "";
    if (e + 1 == address.size()) return address + ":" + std::to_string(default_port);
    if (address[e + 1] != ':') return "";
    std::string port = address.substr(e + 2);
    if (port.empty() || port.size() > 5 ||
        !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
        std::stoi(port) == 0 || std::stoi(port) > 65535)
      return "";
    return address;
  }
  auto c = address.find(':');
  if (c == std::string::npos) return address + ":" + std::to_string(default_port);
  if (address.find(':', c + 1) != std::string::npos)  // bare IPv6
    return "[" + address + "]:" + std::to_string(default_port);
  std::string port = address.substr(c + 1);
  if (c == 0 || port.empty() || port.size() > 5 ||
      !std::all_of(port.begin(), port.end(), [](char ch) { return ch >= '0' && ch <= '9'; }) ||
      std::stoi(port) == 0 || std::stoi(port) > 65535)
    return "";
  return address;
}

static PeerRecord self_record(const PeerHello& h) {
  PeerRecord r;
  r.name = h.name;
  r.nickname = h.nickname.substr(0, kMaxNicknameLen);
  r.incarnation = h.incarnation;
  r.version = 1;
  r.port = h.port;
  return r;
}

MeshCore::MeshCore(MeshConfig cfg, MeshIo& io)
    : cfg_(std::move(cfg)),
      io_(io),
      topo_(self_record(cfg_.self)),
      topo_gossip_(topo_, *this),
      rng_(cfg_.seed) {
  channels_[std::string(TopologyGossip::kChannel)] = &topo_gossip_;
  published_ = topo_.own();
}

void MeshCore::register_channel(std::string name, GossipChannel* ch) {
  if (name.size() > kMaxChannelNameLen || channels_.count(name))
    throw std::invalid_argument("gossip channel name invalid or taken: " + name);
  channels_[std::move(name)] = ch;
}

GossipChannel* MeshCore::channel(const std::string& name) {
  auto it = channels_.find(name);
  return it == channels_.end() ? nullptr : it->second;
}

std::string MeshCore::describe(const PeerHello& h) const {
  return format_peer_name(h.name) + "(" + h.nickname + ")";
}

void MeshCore::start(const std::vector<std::string>& targets, int64_t now_ms) {
  now_ms_ = now_ms;
  next_tick_ms_ = now_ms;
  next_gossip_ms_ = now_ms + cfg_.gossip_interval_ms;
  for (const auto& t : targets) {
    std::string a = normalize_address(t, cfg_.default_port);
    if (a.empty()) {
      log(LogLevel::kWarn, "ignoring malformed peer address '" + t + "'");
      continue;
    }
    Attempt& at = attempts_[a];
    at.target = true;
    at.next_try_ms = now_ms;
    next_dial_ms_ = std::min(next_dial_ms_, now_ms);
  }
  dial_due(now_ms);
}

ConnId MeshCore::on_inbound(const std::string& remote_address, int64_t now_ms) {
  now_ms_ = now_ms;
  ConnId id = next_id_++;
  Conn c;
  c.address = remote_address;
  c.outbound = false;
  c.state = ConnState::kHandshaking;
  c.started_ms = c.last_recv_ms = c.last_sent_ms = now_ms;
  conns_[id] = c;
  return id;
}

void MeshCore::on_handshaking(ConnId id, int64_t now_ms) {
  now_ms_ = now_ms;
  auto it = conns_.find(id);
  if (it != conns_.end() && it->second.state == ConnState::kConnecting)
    it->second.state = ConnState::kHandshaking;
}

void MeshCore::drop(ConnId id, const std::string& reason, bool tell_peer) {
  auto it = conns_.find(id);
  if (it == conns_.end()) return;
  if (tell_peer && it->second.state == ConnState::kEstablished) io_.send(id, encode_close(reason));
  io_.close(id);
}

void MeshCore::on_established(ConnId id, const PeerHello& remote, int64_t now_ms) {
  now_ms_ = now_ms;
  auto it = conns_.find(id);
  if (it == conns_.end()) return;
  Conn& c = it->second;
  c.remote = remote;
  Attempt* attempt = nullptr;
  if (c.outbound) {
    auto at = attempts_.find(c.address);
    if (at != attempts_.end() && at->second.conn == id) attempt = &at->second;
  }
  if (remote.name == cfg_.self.name) {
    ++metrics_.self_connections;
    if (attempt) {
      attempt->is_self = true;
      attempt->conn = 0;
      attempt->peer = remote.name;
      log(LogLevel::kInfo, "address " + c.address + " is this router itself; not connecting to it");
    }
    drop(id, "connection to self", false);
    conns_.erase(it);
    return;
  }
  auto existing = by_peer_.find(remote.name);
  if (existing != by_peer_.end()) {
    Conn& old = conns_.at(existing->second);
    bool keep_new;
    if (old.remote.incarnation != remote.incarnation) {
      keep_new = remote.incarnation > old.remote.incarnation;  // the peer restarted
    } else {
      // Both ends apply the same rule, so they close the same one of two simultaneous
      // connections: keep the one initiated by the peer with the lower name.
      bool we_initiate = cfg_.self.name < remote.name;
      keep_new = c.outbound == we_initiate;
      ++metrics_.duplicate_connections;
    }
    ConnId loser = keep_new ? existing->second : id;
    Conn& l = conns_.at(loser);
    log(LogLevel::kDebug,
        "closing duplicate connection to " + describe(remote) + " at " + l.address);
    drop(loser, "duplicate connection", true);
    if (!keep_new) {
      if (attempt) {
        attempt->conn = 0;
        attempt->peer = remote.name;
      }
      conns_.erase(loser);
      return;
    }
    // Re-point any attempt that owned the old connection.
    for (auto& [addr, a] : attempts_)
      if (a.conn == loser) a.conn = 0;
    conns_.erase(loser);
  }
  c.state = ConnState::kEstablished;
  c.last_recv_ms = c.last_sent_ms = now_ms;
  by_peer_[remote.name] = id;
  if (attempt) {
    attempt->failures = 0;
    attempt->peer = remote.name;
    attempt->last_error.clear();
    attempt->last_failure = ChannelFailure::kNone;
  }
  log(LogLevel::kInfo, "connected to peer " + describe(remote) + " at " + c.address + " (" +
                           (c.outbound ? "outbound" : "inbound") + ")");
  Edge e;
  e.ip = host_of(c.address);
  e.outbound = c.outbound;
  topo_.add_own_edge(remote.name, e);
  own_record_changed(now_ms);
  for (auto& [name, ch] : channels_) ch->on_neighbor_up(remote.name, now_ms);
}

void MeshCore::attempt_failed(Attempt& a, const std::string& address, ChannelFailure failure,
                              const std::string& detail, int64_t now_ms) {
  a.conn = 0;
  ++a.failures;
  int shift = std::min(a.failures - 1, 20);
  int64_t delay = std::min(cfg_.backoff_max_ms, cfg_.backoff_min_ms << shift);
  // Jitter in [0.5, 1.0) of the delay so that peers restarted together do not retry in step.
  std::uniform_int_distribution<int64_t> jitter(delay / 2, std::max(delay / 2, delay - 1));
  a.next_try_ms = now_ms + jitter(rng_);
  next_dial_ms_ = std::min(next_dial_ms_, a.next_try_ms);
  // Log a failure once, not on every retry: only when its kind changes.
  if (failure != a.last_failure || a.last_error.empty()) {
    std::string msg;
    switch (failure) {
      case ChannelFailure::kAuthentication:
        msg = "peer at " + address + ": authentication failed, do both hosts use the same secret?";
        break;
      case ChannelFailure::kEncryptionMismatch:
        msg = "peer at " + address + ": " + detail;
        break;
      default:
        msg = "cannot connect to " + address + ": " + detail;
    }
    log(failure == ChannelFailure::kNone ? LogLevel::kInfo : LogLevel::kWarn,
        msg + " (retrying with backoff; repeats are not logged)");
  }
  a.last_failure = failure;
  a.last_error = detail.empty() ? "connection failed" : detail;
  if (failure == ChannelFailure::kAuthentication)
    a.last_error = "authentication failed, do both hosts use the same secret?";
}

void MeshCore::on_closed(ConnId id, ChannelFailure failure, const std::string& detail,
                         int64_t now_ms) {
  now_ms_ = now_ms;
  forget_conn(id, failure, detail, now_ms);
}

void MeshCore::forget_conn(ConnId id, ChannelFailure failure, const std::string& detail,
                           int64_t now_ms) {
  auto it = conns_.find(id);
  if (it == conns_.end()) return;
  Conn c = it->second;
  conns_.erase(it);
  if (failure != ChannelFailure::kNone) {
    ++metrics_.handshake_failures[static_cast<size_t>(failure)];
    // A refused peer keeps retrying; log it once per source host and quarter hour, count always.
    std::string host = host_of(c.address);
    auto last = inbound_failure_logged_.find(host);
    std::optional<uint64_t> suppressed;
    if (!c.outbound &&
        (last == inbound_failure_logged_.end() || now_ms - last->second >= kRelogAfterMs) &&
        (suppressed = inbound_failure_log_.admit(now_ms))) {
      if (inbound_failure_logged_.size() >= kMaxLoggedHosts) inbound_failure_logged_.clear();
      inbound_failure_logged_[host] = now_ms;
      log(LogLevel::kWarn, (failure == ChannelFailure::kAuthentication
                                ? "peer at " + c.address +
                                      ": authentication failed, do both hosts use the same secret?"
                                : "connection from " + c.address + " refused: " + detail) +
                               " (repeats from this host are counted in /metrics, not logged)" +
                               LogLimiter::suffix(*suppressed));
    }
  }
  bool was_established = c.state == ConnState::kEstablished;
  if (was_established) {
    auto bp = by_peer_.find(c.remote.name);
    if (bp != by_peer_.end() && bp->second == id) {
      by_peer_.erase(bp);
      log(LogLevel::kInfo, "connection to peer " + describe(c.remote) + " at " + c.address +
                               " closed: " + (detail.empty() ? "closed" : detail));
      topo_.remove_own_edge(c.remote.name);
      own_record_changed(now_ms);
      for (auto& [name, ch] : channels_) ch->on_neighbor_down(c.remote.name, now_ms);
    }
  }
  for (auto& [addr, a] : attempts_) {
    if (a.conn != id) continue;
    if (was_established) {
      a.conn = 0;
      a.failures = 0;
      a.last_failure = ChannelFailure::kNone;
      a.last_error = detail;
      // Reconnect soon, but not instantly: the other side may be restarting.
      std::uniform_int_distribution<int64_t> jitter(cfg_.backoff_min_ms / 2, cfg_.backoff_min_ms);
      a.next_try_ms = now_ms + jitter(rng_);
      next_dial_ms_ = std::min(next_dial_ms_, a.next_try_ms);
    } else {
      attempt_failed(a, addr, failure, detail, now_ms);
    }
  }
}

void MeshCore::send_raw(ConnId id, Bytes msg, std::string_view channel, int64_t now_ms) {
  auto it = conns_.find(id);
  if (it == conns_.end()) return;
  it->second.last_sent_ms = now_ms;
  if (!channel.empty()) {
    std::string ch(channel);
    metrics_.gossip_bytes_sent[ch] += msg.size();
    metrics_.gossip_messages_sent[ch] += 1;
  }
  io_.send(id, std::move(msg));
}

void MeshCore::on_message(ConnId id, ByteView message, int64_t now_ms) {
  now_ms_ = now_ms;
  auto it = conns_.find(id);
  if (it == conns_.end() || it->second.state != ConnState::kEstablished) return;
  Conn& c = it->second;
  c.last_recv_ms = now_ms;
  try {
    MeshMessage m = decode_mesh_message(message);
    switch (m.type) {
      case MeshMessageType::kHeartbeat:
        return;
      case MeshMessageType::kClose: {
        std::string reason = m.text;
        for (char& ch : reason)
          if (ch < 32 || ch > 126) ch = '?';
        io_.close(id);
        forget_conn(id, ChannelFailure::kNone, "closed by peer: " + reason, now_ms);
        return;
      }
      case MeshMessageType::kFrames:
        if (frame_sink_) frame_sink_(c.remote.name, m.payload, now_ms);
        return;
      default:
        deliver_gossip(c, m, message.size(), now_ms);
    }
  } catch (const DecodeError& e) {
    ++metrics_.malformed_messages;
    auto again = conns_.find(id);
    if (again != conns_.end() && !again->second.warned_malformed) {
      again->second.warned_malformed = true;
      log(LogLevel::kWarn, "malformed message from " + describe(again->second.remote) + ": " +
                               e.what() + " (dropped; further ones are counted, not logged)");
    }
  }
}

void MeshCore::deliver_gossip(const Conn& from, const MeshMessage& m, size_t size, int64_t now_ms) {
  GossipChannel* ch = channel(m.text);
  metrics_.gossip_bytes_received[m.text] += size;
  if (!ch) throw DecodeError("unknown gossip channel '" + m.text + "'");
  PeerName from_peer = from.remote.name;
  switch (m.type) {
    case MeshMessageType::kGossipNeighbor:
      ch->on_neighbor(from_peer, m.payload, now_ms);
      break;
    case MeshMessageType::kGossipUnicast:
      if (m.dst == cfg_.self.name) {
        ch->on_unicast(m.src, m.payload, now_ms);
      } else if (auto hop = topo_.next_hop(m.dst); hop && by_peer_.count(*hop)) {
        Bytes b = encode_gossip_unicast(m.text, m.src, m.dst, m.payload);
        send_raw(by_peer_.at(*hop), std::move(b), m.text, now_ms);
      } else {
        ++metrics_.unroutable_messages;
      }
      break;
    case MeshMessageType::kGossipBroadcast: {
      if (m.src == cfg_.self.name) return;  // our own broadcast came back: a stale tree
      if (ch->on_broadcast(m.src, from_peer, m.payload, now_ms))
        relay_broadcast(m.text, m.src, from_peer, m.payload, GossipRelay::kAlongTree);
      break;
    }
    default:
      break;
  }
  if (topo_.dirty()) after_topology_change(now_ms);
}

void MeshCore::send_neighbor(std::string_view channel, PeerName neighbor, ByteView payload) {
  auto bp = by_peer_.find(neighbor);
  if (bp == by_peer_.end()) return;
  send_raw(bp->second, encode_gossip_neighbor(channel, payload), channel, now_ms_);
}

void MeshCore::send_unicast(std::string_view channel, PeerName dst, ByteView payload) {
  auto bp = by_peer_.find(dst);
  if (bp == by_peer_.end()) {
    auto hop = topo_.next_hop(dst);
    if (!hop || !by_peer_.count(*hop)) {
      ++metrics_.unroutable_messages;
      return;
    }
    bp = by_peer_.find(*hop);
  }
  send_raw(bp->second, encode_gossip_unicast(channel, cfg_.self.name, dst, payload), channel,
           now_ms_);
}

void MeshCore::broadcast(std::string_view channel, ByteView payload) {
  if (by_peer_.empty()) return;
  Bytes b = encode_gossip_broadcast(channel, cfg_.self.name, payload);
  for (const auto& [peer, id] : by_peer_) send_raw(id, b, channel, now_ms_);
}

void MeshCore::own_record_changed(int64_t now_ms) {
  if (publish_due_ms_ < 0) publish_due_ms_ = now_ms + cfg_.publish_delay_ms;
  after_topology_change(now_ms);
}

void MeshCore::publish_own(int64_t now_ms) {
  if (publish_due_ms_ < 0 || now_ms < publish_due_ms_) return;
  publish_due_ms_ = -1;
  if (topo_.own().version == published_.version) return;
  PeerUpdate u = delta_update(published_, topo_.own());
  // A delta that carries every edge (always the case for a new peer's first one) is a full
  // record: say so, so that peers that never saw the base can apply and relay it.
  if (u.removals.empty() && u.upserts.size() == topo_.own().edges.size()) u.base_version = 0;
  topo_gossip_.publish(u);
  published_ = topo_.own();
}

std::vector<PeerName> MeshCore::relay_targets(PeerName src, PeerName from, GossipRelay how) {
  std::vector<PeerName> out;
  if (src == cfg_.self.name) return out;  // our own broadcast came back: a stale tree
  for (PeerName child : topo_.gossip_children(src, from, how))
    if (child != from && child != src && by_peer_.count(child)) out.push_back(child);
  return out;
}

void MeshCore::relay_broadcast(std::string_view channel, PeerName src, PeerName from,
                               ByteView payload, GossipRelay how) {
  std::vector<PeerName> children = relay_targets(src, from, how);
  if (children.empty()) return;
  Bytes b = encode_gossip_broadcast(channel, src, payload);
  for (PeerName child : children) send_raw(by_peer_.at(child), b, channel, now_ms_);
}

void MeshCore::after_topology_change(int64_t now_ms) {
  if (rebuild_due_ms_ < 0) rebuild_due_ms_ = now_ms + cfg_.route_delay_ms;
}

void MeshCore::maintain_routes(int64_t now_ms) {
  bool rebuilt = false;
  if (rebuild_due_ms_ >= 0 && now_ms >= rebuild_due_ms_) {
    rebuild_due_ms_ = -1;
    topo_.rebuild();
    ++metrics_.route_recomputations;
    rebuilt = true;
  }
  std::vector<PeerName> gone = topo_.collect_garbage(now_ms, cfg_.gc_grace_ms, cfg_.tombstone_ms);
  if (!gone.empty()) {
    metrics_.peers_collected += gone.size();
    std::unordered_map<PeerName, bool> gone_set;
    for (PeerName p : gone) {
      gone_set[p] = true;
      log(LogLevel::kDebug, "forgot unreachable peer " + format_peer_name(p));
    }
    for (auto it = attempts_.begin(); it != attempts_.end();) {
      const Attempt& a = it->second;
      if (!a.target && a.peer && gone_set.count(*a.peer) && a.conn == 0)
        it = attempts_.erase(it);
      else
        ++it;
    }
    topo_.rebuild();
    ++metrics_.route_recomputations;
    rebuilt = true;
    for (PeerName p : gone)
      for (auto& [name, ch] : channels_) ch->on_peer_gone(p, now_ms);
  }
  // Discovery only has news to act on when the view changed.
  if (rebuilt && cfg_.discovery) discover(now_ms);
}

void MeshCore::discover(int64_t now_ms) {
  // A peer we know of but are not connected to: try the address a neighbour of it reaches it at
  // (the first record, in name order, whose edge to it has an address).
  std::unordered_set<PeerName> handled;
  for (const auto& [addr, a] : attempts_)
    if (a.peer) handled.insert(*a.peer);
  // The peers wanted, in name order: none in a converged full mesh, which then costs O(peers)
  // instead of a pass over every edge at each route computation.
  std::vector<PeerName> wanted;
  for (const auto& [name, rec] : topo_.records())
    if (name != cfg_.self.name && rec.port != 0 && !by_peer_.count(name) && !handled.count(name) &&
        topo_.reachable(name))
      wanted.push_back(name);
  std::vector<bool> found(wanted.size(), false);
  size_t left = wanted.size();
  auto take = [&](size_t k, const Edge& edge) {
    if (found[k] || edge.ip.empty()) return;
    found[k] = true;
    --left;
    std::string address = join_host_port(edge.ip, topo_.find(wanted[k])->port);
    auto [it, inserted] = attempts_.try_emplace(address);
    if (inserted) {
      it->second.next_try_ms = now_ms;
      next_dial_ms_ = std::min(next_dial_ms_, now_ms);
      it->second.peer = wanted[k];
    }
  };
  for (const auto& [owner, rec] : topo_.records()) {
    if (left == 0) break;
    if (wanted.size() < rec.edges.size()) {
      for (size_t k = 0; k < wanted.size(); ++k)
        if (auto e = rec.edges.find(wanted[k]); e != rec.edges.end()) take(k, e->second);
    } else {
      for (const auto& [name, edge] : rec.edges) {
        auto w = std::lower_bound(wanted.begin(), wanted.end(), name);
        if (w != wanted.end() && *w == name) take(static_cast<size_t>(w - wanted.begin()), edge);
      }
    }
  }
}

void MeshCore::dial_due(int64_t now_ms) {
  next_dial_ms_ = kNoDeadline;
  size_t in_flight = 0;
  for (const auto& [id, c] : conns_)
    if (c.outbound && c.state != ConnState::kEstablished) ++in_flight;
  metrics_.dials_waiting = 0;
  for (auto& [addr, a] : attempts_) {
    if (a.is_self || a.conn != 0) continue;
    if (a.peer && by_peer_.count(*a.peer)) continue;  // already connected the other way
    if (!a.target && !cfg_.discovery) continue;
    if (now_ms < a.next_try_ms) {
      next_dial_ms_ = std::min(next_dial_ms_, a.next_try_ms);
      continue;
    }
    if (in_flight >= cfg_.max_concurrent_dials) {
      // Due, but the bound is reached: try again at the next tick (a slot frees when a dial
      // succeeds, fails or times out).
      ++metrics_.dials_waiting;
      next_dial_ms_ = std::min(next_dial_ms_, now_ms + cfg_.tick_ms);
      continue;
    }
    ++in_flight;
    ++metrics_.dials_started;
    ConnId id = next_id_++;
    Conn c;
    c.address = addr;
    c.outbound = true;
    c.state = ConnState::kConnecting;
    c.started_ms = c.last_recv_ms = c.last_sent_ms = now_ms;
    conns_[id] = c;
    a.conn = id;
    io_.dial(id, addr);
  }
}

void MeshCore::on_timer(int64_t now_ms) {
  now_ms_ = now_ms;
  publish_own(now_ms);
  if (rebuild_due_ms_ >= 0 && now_ms >= rebuild_due_ms_) maintain_routes(now_ms);
  if (now_ms >= next_tick_ms_) {
    next_tick_ms_ = now_ms + cfg_.tick_ms;
    std::vector<std::pair<ConnId, std::string>> to_close;
    for (auto& [id, c] : conns_) {
      if (c.state == ConnState::kEstablished) {
        if (now_ms - c.last_recv_ms >= cfg_.dead_after_ms) {
          to_close.emplace_back(id, "no message for " + std::to_string(cfg_.dead_after_ms / 1000) +
                                        " s, the peer seems dead");
          ++metrics_.dead_connections;
        } else if (now_ms - c.last_sent_ms >= cfg_.heartbeat_interval_ms) {
          send_raw(id, encode_heartbeat(), {}, now_ms);
        }
      } else if (now_ms - c.started_ms >= cfg_.handshake_timeout_ms) {
        to_close.emplace_back(id, "timed out connecting");
      }
    }
    for (auto& [id, why] : to_close) {
      drop(id, why, false);
      forget_conn(id, ChannelFailure::kNone, why, now_ms);
    }
    if (now_ms >= next_gossip_ms_ && !by_peer_.empty()) {
      std::uniform_int_distribution<int64_t> jitter(cfg_.gossip_interval_ms / 2,
                                                    cfg_.gossip_interval_ms * 3 / 2);
      next_gossip_ms_ = now_ms + jitter(rng_);
      std::uniform_int_distribution<size_t> pick(0, by_peer_.size() - 1);
      auto it = by_peer_.begin();
      std::advance(it, static_cast<long>(pick(rng_)));
      // Sorted iteration would be deterministic too, but unordered_map order depends only on
      // insertion history, which is itself deterministic for a given seed.
      PeerName neighbor = it->first;
      for (auto& [name, ch] : channels_) ch->on_gossip_tick(neighbor, now_ms);
    }
    maintain_routes(now_ms);
  }
  dial_due(now_ms);
  for (auto& [name, ch] : channels_)
    if (ch->next_deadline() <= now_ms) ch->on_timer(now_ms);
}

int64_t MeshCore::next_deadline() const {
  int64_t d = next_tick_ms_;
  if (rebuild_due_ms_ >= 0) d = std::min(d, rebuild_due_ms_);
  if (publish_due_ms_ >= 0) d = std::min(d, publish_due_ms_);
  for (const auto& [name, ch] : channels_) d = std::min(d, ch->next_deadline());
  return std::min(d, next_dial_ms_);
}

std::vector<MemberInfo> MeshCore::members() const {
  std::vector<MemberInfo> out;
  for (const auto& [name, r] : topo_.records())
    out.push_back({name, r.nickname, topo_.reachable(name)});
  return out;
}

bool MeshCore::reachable(PeerName peer) const {
  return topo_.reachable(peer);
}

std::vector<std::string> MeshCore::targets() const {
  std::vector<std::string> t;
  for (const auto& [addr, a] : attempts_)
    if (a.target) t.push_back(addr);
  return t;
}

void MeshCore::notify_targets() {
  io_.targets_changed(targets());
}

std::vector<std::string> MeshCore::connect(const std::vector<std::string>& peers, bool replace,
                                           int64_t now_ms) {
  now_ms_ = now_ms;
  std::vector<std::string> norm;
  for (const auto& p : peers) {
    std::string a = normalize_address(p, cfg_.default_port);
    if (a.empty()) throw std::invalid_argument("malformed peer address '" + p + "'");
    norm.push_back(a);
  }
  if (replace) {
    for (auto it = attempts_.begin(); it != attempts_.end();) {
      Attempt& a = it->second;
      bool was_target = a.target;
      a.target = false;
      if (was_target && std::find(norm.begin(), norm.end(), it->first) == norm.end()) {
        abandon_dial(a);  // a replaced target: as if forgotten
        if (a.conn == 0) {
          it = attempts_.erase(it);
          continue;
        }
      }
      ++it;
    }
  }
  for (const auto& a : norm) {
    auto [it, inserted] = attempts_.try_emplace(a);
    it->second.target = true;
    if (it->second.conn == 0) {
      it->second.next_try_ms = now_ms;
      next_dial_ms_ = std::min(next_dial_ms_, now_ms);
      it->second.failures = 0;
    }
  }
  notify_targets();
  dial_due(now_ms);
  return targets();
}

std::vector<std::string> MeshCore::forget(const std::vector<std::string>& peers, int64_t now_ms) {
  now_ms_ = now_ms;
  for (const auto& p : peers) {
    std::string a = normalize_address(p, cfg_.default_port);
    auto it = attempts_.find(a);
    if (it == attempts_.end() || !it->second.target) continue;
    // Forgetting a target stops retries and a dial in progress; an established connection
    // stays (Weave does the same).
    abandon_dial(it->second);
    if (it->second.conn == 0)
      attempts_.erase(it);
    else
      it->second.target = false;
  }
  notify_targets();
  return targets();
}

void MeshCore::abandon_dial(Attempt& a) {
  if (a.conn == 0) return;
  auto c = conns_.find(a.conn);
  if (c != conns_.end() && c->second.state == ConnState::kEstablished) return;
  ConnId id = a.conn;
  a.conn = 0;
  ++metrics_.dials_abandoned;
  if (c != conns_.end()) conns_.erase(c);
  io_.close(id);
}

std::optional<ConnId> MeshCore::connection_of(PeerName p) const {
  auto it = by_peer_.find(p);
  if (it == by_peer_.end()) return std::nullopt;
  return it->second;
}

std::string MeshCore::address_of(PeerName neighbor) const {
  auto it = by_peer_.find(neighbor);
  if (it == by_peer_.end()) return "";
  return conns_.at(it->second).address;
}

bool MeshCore::send_frames(PeerName neighbor, ByteView batch) {
  auto it = by_peer_.find(neighbor);
  if (it == by_peer_.end()) return false;
  send_raw(it->second, encode_frames(batch), {}, now_ms_);
  return true;
}

std::vector<PeerName> MeshCore::neighbors() const {
  std::vector<PeerName> n;
  for (const auto& [p, id] : by_peer_) n.push_back(p);
  std::sort(n.begin(), n.end());
  return n;
}

std::vector<ConnectionStatus> MeshCore::connection_statuses() const {
  std::vector<ConnectionStatus> out;
  for (const auto& [id, c] : conns_) {
    ConnectionStatus s;
    s.address = c.address;
    s.outbound = c.outbound;
    s.state = state_name(static_cast<int>(c.state));
    if (c.state == ConnState::kEstablished) {
      s.peer = c.remote;
    }
    out.push_back(std::move(s));
  }
  for (const auto& [addr, a] : attempts_) {
    if (a.conn != 0 || a.is_self || (a.peer && by_peer_.count(*a.peer))) continue;
    if (a.last_error.empty()) continue;
    ConnectionStatus s;
    s.address = addr;
    s.outbound = true;
    s.state = a.last_failure == ChannelFailure::kNone ? "retrying" : "failed";
    s.info = a.last_error + "; retrying in " +
             std::to_string(std::max<int64_t>(0, (a.next_try_ms - now_ms_ + 999) / 1000)) + " s";
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace weft
