#include "router/dataplane/forwarder.h"

#include <cstring>

namespace weft {

namespace {
Mac mac_at(const uint8_t* p) {
  Mac m;
  std::memcpy(m.b.data(), p, 6);
  return m;
}
// Broadcast or multicast.
bool group_address(const uint8_t* p) {
  return p[0] & 1;
}
}  // namespace

void Forwarder::flood(PeerName src, PeerName except, const FrameItem& f, ForwardingSink& out) {
  ++counters_.flooded;
  for (PeerName child : routes_.broadcast_children(src))
    if (child != except && child != src) out.send(child, src, 0, f);
}

void Forwarder::count(LearnStatus s, uint64_t& moves, uint64_t& full) {
  if (s == LearnStatus::kMoved) ++moves;
  if (s == LearnStatus::kTableFull) ++full;
}

bool Forwarder::claim_source(ByteView frame, PeerName owner, int64_t now_ms) {
  const InnerSource s = parse_inner_source(frame);
  const bool peer = owner != self_;
  if (peer) {
    // A peer may not speak for an address of this host while that binding lives, nor for one
    // another peer is actively using. Checked before learning anything, so a refused frame
    // leaves no trace in either table.
    auto taken = [&](const auto& table, const auto& key) {
      auto o = table.lookup(key, now_ms);
      return (o && *o == self_) || table.held_by_other(key, owner, now_ms);
    };
    if (!s.mac.is_unicast_source() || s.arp_sender_mismatch || taken(macs_, s.mac)) {
      ++counters_.dropped_spoofed;
      return false;
    }
    if (s.ip && taken(ips_, *s.ip)) {
      ++counters_.dropped_spoofed_ip;
      return false;
    }
  }
  const LearnStatus m = macs_.learn(s.mac, owner, now_ms).status;
  const LearnStatus i = s.ip ? ips_.learn(*s.ip, owner, now_ms).status : LearnStatus::kInvalid;
  count(m, counters_.mac_moves, counters_.mac_table_full);
  count(i, counters_.ip_moves, counters_.ip_table_full);
  if (m == LearnStatus::kConflict || i == LearnStatus::kConflict) ++counters_.local_conflicts;
  return true;
}

void Forwarder::from_local(const FrameItem& f, int64_t now_ms, ForwardingSink& out) {
  const uint8_t* eth = f.frame.data();
  claim_source(f.frame, self_, now_ms);
  if (group_address(eth)) return flood(self_, 0, f, out);
  auto owner = macs_.lookup(mac_at(eth), now_ms);
  if (!owner) {
    if (!unknown_unicast_.allow(mac_at(eth + 6), now_ms)) {
      ++counters_.dropped_flood_limited;
      return;
    }
    return flood(self_, 0, f, out);
  }
  if (*owner == self_) {
    ++counters_.dropped_local;  // the bridge delivers local traffic itself
    return;
  }
  auto hop = routes_.next_hop(*owner);
  if (!hop) {
    ++counters_.dropped_no_route;
    return;
  }
  ++counters_.unicast;
  out.send(*hop, self_, *owner, f);
}

void Forwarder::from_peer(PeerName neighbor, PeerName src, PeerName dst, const FrameItem& f,
                          int64_t now_ms, ForwardingSink& out) {
  if (src == self_) {
    ++counters_.dropped_spoofed;
    return;
  }
  if (!claim_source(f.frame, src, now_ms)) return;
  if (dst == 0) {
    ++counters_.delivered;
    out.deliver_local(f);
    flood(src, neighbor, f, out);
    return;
  }
  if (dst == self_) {
    ++counters_.delivered;
    out.deliver_local(f);
    return;
  }
  auto hop = routes_.next_hop(dst);
  if (!hop || *hop == neighbor) {
    ++counters_.dropped_no_route;
    return;
  }
  ++counters_.relayed;
  out.send(*hop, src, dst, f);
}

}  // namespace weft
