#pragma once
// Where an Ethernet frame goes, without I/O: captured on the local bridge, or arrived from a peer
// (directly or relayed). Learns source MACs, sends known unicast towards the owning peer over
// the next hop the topology gives, floods broadcast / multicast / unknown unicast along the
// source's broadcast tree (each peer gets it once, no loops), and relays for others.
#include <cstdint>
#include <optional>
#include <vector>

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
  uint64_t dropped_no_route = 0, dropped_spoofed = 0, dropped_local = 0, mac_moves = 0;
};

class Forwarder {
 public:
  Forwarder(PeerName self, MacTable& macs, ForwardingRoutes& routes)
      : self_(self), macs_(macs), routes_(routes) {}

  void from_local(const FrameItem& f, int64_t now_ms, ForwardingSink& out);
  // `src` and `dst` come from the authenticated batch header; `neighbor` is who sent it to us.
  void from_peer(PeerName neighbor, PeerName src, PeerName dst, const FrameItem& f,
                 int64_t now_ms, ForwardingSink& out);

  const ForwarderCounters& counters() const { return counters_; }

 private:
  void flood(PeerName src, PeerName except, const FrameItem& f, ForwardingSink& out);

  PeerName self_;
  MacTable& macs_;
  ForwardingRoutes& routes_;
  ForwarderCounters counters_;
};

}  // namespace weft
