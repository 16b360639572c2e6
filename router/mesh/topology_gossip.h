#pragma once
// The "topology" gossip channel. A peer broadcasts the delta of its own record whenever its
// connections change (O(change) bytes, relayed once to each peer along its broadcast tree).
// Anti-entropy repairs anything missed: neighbours compare an O(1) digest of their views; only
// when the digests differ, per-bucket digests (64 buckets of names); then summaries of the
// buckets that differ, and just the records that differ.
#include "gossip/gossip_channel.h"
#include "router/mesh/topology.h"

namespace weft {

class TopologyGossip : public GossipChannel {
 public:
  static constexpr std::string_view kChannel = "topology";
  // While broadcasts are still bringing news, a digest mismatch is expected and a repair would
  // only duplicate them; repairs wait until the view has been quiet this long.
  static constexpr int64_t kSettleMs = 1000;

  TopologyGossip(Topology& topology, GossipSender& sender) : topo_(topology), send_(sender) {}

  // Broadcasts a change of our own record.
  void publish(const PeerUpdate& delta);

  void on_neighbor(PeerName from, ByteView payload, int64_t now_ms) override;
  void on_unicast(PeerName, ByteView, int64_t) override {}
  bool on_broadcast(PeerName src, PeerName from, ByteView payload, int64_t now_ms) override;
  void on_neighbor_up(PeerName peer, int64_t now_ms) override;
  void on_gossip_tick(PeerName neighbor, int64_t now_ms) override;

  uint64_t gaps() const { return gaps_; }
  // Records of recently collected peers refused (Topology::Applied::kBuried).
  uint64_t buried() const { return buried_; }

 private:
  struct Applied {
    const PeerUpdate* update;
    bool drops_edges;  // the record lost edges: relay it by flooding (see on_broadcast)
  };
  // Applies updates; returns those that were new. Asks `from` for full records on gaps.
  std::vector<Applied> apply_all(const std::vector<PeerUpdate>& updates, PeerName from,
                                 int64_t now_ms);
  // Passes each applied record on where its owner's broadcast would go, in one neighbour
  // message per neighbour.
  void relay(PeerName from, const std::vector<Applied>& applied);
  void send(PeerName to, const TopologyMessage& m);
  void send_digest(PeerName to);
  void send_summary(PeerName to, TopologyMessage::Mode mode, uint64_t buckets);
  void send_bucket_digests(PeerName to);

  Topology& topo_;
  GossipSender& send_;
  uint64_t gaps_ = 0;
  uint64_t buried_ = 0;
  int64_t last_news_ms_ = -1'000'000;
};

}  // namespace weft
