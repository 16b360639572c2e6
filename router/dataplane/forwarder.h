#pragma once
// Where an Ethernet frame goes, without I/O: captured on the local bridge, or arrived from a peer
// (directly or relayed). Learns source MACs, sends known unicast towards the owning peer over
// the next hop the topology gives, floods broadcast / multicast / unknown unicast along the
// source's broadcast tree (each peer gets it once, no loops), and relays for others. Local
// unknown unicast is limited per source MAC (FloodLimiter) before it floods.
//
// Source check: a frame from a peer must come from addresses that belong to the peer it
// originates from (the batch header's source, not the relay that handed it to us). Its source
// MAC and inner source IP (IPv4, IPv6, ARP sender) are learned as owned by that peer; a frame is
// dropped and counted (dropped_spoofed) when either address is
//   - owned by this host (learned from our bridge and not expired): a peer may never speak for
//     our workloads, or our bridge would learn their MAC on the capture port and hand it their
//     traffic;
//   - owned by another peer that used it less than move_hold_ms ago (MacTableConfig): the real
//     owner is active, so this is a spoof, not a move. A quiet address moves (and is counted).
// Frames from our own bridge are trusted (the bridge is ours) but do not take over an address a
// peer is actively using either; they are forwarded all the same and the receivers drop them.
#include <cstdint>
#include <optional>
#include <vector>

#include "router/dataplane/flood_limiter.h"
#include "router/dataplane/frame_batch.h"
#include "router/dataplane/mac_table.h"

namespace weft {

class ForwardingRoutes {
 public:
  virtual ~ForwardingRoutes() = default;
  virtual std::optional<PeerName> next_hop(PeerName dst) = 0;
  virtual std::vector<PeerName> broadcast_children(PeerName src) = 0;
};

class ForwardingSink {
 public:
  virtual ~ForwardingSink() = default;
  virtual void deliver_local(const FrameItem& f) = 0;
  virtual void send(PeerName neighbor, PeerName src, PeerName dst, const FrameItem& f) = 0;
};

struct ForwarderCounters {
  uint64_t unicast = 0, flooded = 0, relayed = 0, delivered = 0;
  uint64_t dropped_no_route = 0, dropped_local = 0;
  // From a peer: a source MAC (or peer name) / a source IP that is not the originating peer's.
  uint64_t dropped_spoofed = 0, dropped_spoofed_ip = 0;
  uint64_t mac_moves = 0, ip_moves = 0;
  // A local frame whose source address a peer is actively using (not learned, still forwarded).
  uint64_t local_conflicts = 0;
  // New addresses not learned because the table is full (frames still forwarded).
  uint64_t mac_table_full = 0, ip_table_full = 0;
  // Local unknown-unicast frames over their source's limit (FloodLimiter): not flooded.
  uint64_t dropped_flood_limited = 0;
};

class Forwarder {
 public:
  // `unknown_unicast` limits, per local source MAC, the unknown-unicast frames flooded to peers.
  Forwarder(PeerName self, MacTable& macs, IpTable& ips, ForwardingRoutes& routes,
            FloodLimiter unknown_unicast = FloodLimiter{})
      : self_(self), macs_(macs), ips_(ips), routes_(routes), unknown_unicast_(unknown_unicast) {}

  void from_local(const FrameItem& f, int64_t now_ms, ForwardingSink& out);
  // `src` and `dst` come from the authenticated batch header; `neighbor` is who sent it to us.
  void from_peer(PeerName neighbor, PeerName src, PeerName dst, const FrameItem& f, int64_t now_ms,
                 ForwardingSink& out);

  const ForwarderCounters& counters() const { return counters_; }

 private:
  void flood(PeerName src, PeerName except, const FrameItem& f, ForwardingSink& out);
  // Learns the frame's source addresses as `owner`'s; false (learning nothing) when they belong
  // to somebody else (see the header comment). Counts what it decides.
  bool claim_source(ByteView frame, PeerName owner, int64_t now_ms);
  void count(LearnStatus s, uint64_t& moves, uint64_t& full);

  PeerName self_;
  MacTable& macs_;
  IpTable& ips_;
  ForwardingRoutes& routes_;
  FloodLimiter unknown_unicast_;
  ForwarderCounters counters_;
};

}  // namespace weft
