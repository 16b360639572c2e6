#include "router/dataplane/forwarder.h"

#include <cstring>

namespace weft {

namespace {
Mac mac_at(const uint8_t* p) {
  Mac m;
  std::memcpy(m.b.data(), p, 6);
  return m;
}
bool group_address(const uint8_t* p) { return p[0] & 1; }  // broadcast or multicast
}  // namespace

void Forwarder::flood(PeerName src, PeerName except, const FrameItem& f, ForwardingSink& out) {
  ++counters_.flooded;
  for (PeerName child : routes_.broadcast_children(src))
    if (child != except && child != src) out.send(child, src, 0, f);
}

void Forwarder::from_local(const FrameItem& f, int64_t now_ms, ForwardingSink& out) {
  const uint8_t* eth = f.frame.data();
  if (!group_address(eth + 6)) macs_.learn(mac_at(eth + 6), self_, now_ms);
  if (group_address(eth)) return flood(self_, 0, f, out);
  auto owner = macs_.lookup(mac_at(eth), now_ms);
  if (!owner) return flood(self_, 0, f, out);
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
  const uint8_t* eth = f.frame.data();
  if (src == self_ || group_address(eth + 6)) {
    ++counters_.dropped_spoofed;
    return;
  }
  // A peer may not speak for a MAC that lives on this host.
  Mac smac = mac_at(eth + 6);
  if (auto owner = macs_.lookup(smac, now_ms); owner && *owner == self_) {
    ++counters_.dropped_spoofed;
    return;
  }
  if (macs_.learn(smac, src, now_ms).status == LearnStatus::kMoved) ++counters_.mac_moves;
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
