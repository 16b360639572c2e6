#pragma once
// Gossip channels: the boundary through which modules (topology, IPAM, the cluster state, DNS)
// share state over the mesh without knowing its internals. This header depends on nothing in
// router/, so ipam/, state/, dns/ and npc/ can include it.
//
// A module implements GossipChannel and registers it with the mesh under a unique name; the
// mesh hands it a GossipSender to talk and a Membership to ask who is there, tells it about
// neighbours and peers coming and going, and drives its timers (next_deadline / on_timer), so
// no module arms a timer of its own.
//
// Delivery is best effort (a connection can drop a message), so every channel must converge by
// periodic anti-entropy (on_gossip_tick) rather than rely on each broadcast arriving.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "common/peer_name.h"

namespace weft {

// How a broadcast that carried news is passed on (see Topology::gossip_children).
enum class GossipRelay {
  kAlongTree,  // src's broadcast tree from the last route computation (a flood if it has none)
  kFlood,      // every neighbour that may lack it: the tree may run through a peer just gone
};

class GossipSender {
 public:
  virtual ~GossipSender() = default;
  // To a directly connected peer only.
  virtual void send_neighbor(std::string_view channel, PeerName neighbor, ByteView payload) = 0;
  // To any reachable peer, relayed along the shortest path.
  virtual void send_unicast(std::string_view channel, PeerName dst, ByteView payload) = 0;
  // To every reachable peer, once each, along this peer's broadcast tree.
  virtual void broadcast(std::string_view channel, ByteView payload) = 0;
  // Passes news about `src` on as if it had come as src's broadcast, not back to `from`: news
  // that reached us off src's tree (e.g. in a neighbour's reply), or that the tree may not
  // carry everywhere (kFlood). The default (for senders without routing) does nothing:
  // anti-entropy still converges.
  virtual void relay_broadcast(std::string_view, PeerName /*src*/, PeerName /*from*/, ByteView,
                               GossipRelay) {}
  // The neighbours relay_broadcast would pass news about src on to, for a channel that batches
  // news about many sources into one neighbour message per neighbour instead. Default: none.
  virtual std::vector<PeerName> relay_targets(PeerName /*src*/, PeerName /*from*/, GossipRelay) {
    return {};
  }
};

// A peer as the mesh knows it.
struct MemberInfo {
  PeerName name = 0;
  std::string nickname;
  bool reachable = false;  // a route leads to it now (always true for this peer itself)
};

// Who is in the mesh, asked by modules when they need it (the mesh implements it).
class Membership {
 public:
  virtual ~Membership() = default;
  // Every peer the mesh knows, this one included.
  virtual std::vector<MemberInfo> members() const = 0;
  virtual bool reachable(PeerName peer) const = 0;
};

constexpr int64_t kNoGossipDeadline = INT64_MAX;

class GossipChannel {
 public:
  virtual ~GossipChannel() = default;
  // Handlers may throw DecodeError on malformed payloads: the mesh counts and logs it.
  virtual void on_neighbor(PeerName from, ByteView payload, int64_t now_ms) = 0;
  virtual void on_unicast(PeerName src, ByteView payload, int64_t now_ms) = 0;
  // Returns true when the broadcast carried news, so the mesh relays it further down the tree
  // (GossipRelay::kAlongTree). A channel that relays it some other way itself (relay_broadcast)
  // returns false.
  virtual bool on_broadcast(PeerName src, PeerName from, ByteView payload, int64_t now_ms) = 0;
  // A control connection to `peer` has just been established.
  virtual void on_neighbor_up(PeerName peer, int64_t now_ms) = 0;
  // Periodic anti-entropy with one randomly chosen neighbour.
  virtual void on_gossip_tick(PeerName neighbor, int64_t now_ms) = 0;
  // The control connection to a neighbour has closed (it may still be reachable via others).
  virtual void on_neighbor_down(PeerName /*peer*/, int64_t /*now_ms*/) {}
  // The mesh has forgotten `peer`: it was unreachable past the mesh's grace period and its
  // record was collected. It may come back later (a long partition ends) as a new arrival.
  virtual void on_peer_gone(PeerName /*peer*/, int64_t /*now_ms*/) {}
  // The earliest time on_timer wants to run, or kNoGossipDeadline. The mesh asks after every
  // event it delivers to any channel, so a channel's deadline may change in any handler.
  virtual int64_t next_deadline() const { return kNoGossipDeadline; }
  // Called once next_deadline() has passed (possibly late, never early).
  virtual void on_timer(int64_t /*now_ms*/) {}
};

}  // namespace weft
