// MeshCore's gossip routing: messages for the registered channels (neighbour, unicast along
// the routes, broadcast along per-source trees or flooded), our own record published in
// batches, and routes recomputed and unreachable peers collected after the view changes.
#include <unordered_map>

#include "router/mesh/mesh_core.h"
#include "router/wire/mesh_message.h"

namespace weft {

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

}  // namespace weft
