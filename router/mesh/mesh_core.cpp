#include "router/mesh/mesh_core.h"

#include <algorithm>

#include "common/host_port.h"
#include "router/wire/mesh_message.h"

namespace weft {

namespace {

// The host part of a connection's "host:port" (the address itself when it does not parse).
std::string host_of(const std::string& address) {
  try {
    return parse_host_port(address, 0).host;
  } catch (const std::invalid_argument&) {
    return address;
  }
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

ConnId MeshCore::open_conn(const std::string& address, bool outbound, ConnState state,
                           int64_t now_ms) {
  ConnId id = next_id_++;
  Conn c;
  c.address = address;
  c.outbound = outbound;
  c.state = state;
  c.started_ms = c.last_recv_ms = c.last_sent_ms = now_ms;
  conns_[id] = c;
  return id;
}

ConnId MeshCore::on_inbound(const std::string& remote_address, int64_t now_ms) {
  now_ms_ = now_ms;
  return open_conn(remote_address, false, ConnState::kHandshaking, now_ms);
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
