#pragma once
// The mesh as this peer knows it: every peer's record, and what follows from them (unicast routes,
// per-source broadcast trees, reachability). An edge counts only when both ends list each other,
// so a dead peer's stale record cannot keep it in the graph.
//
// Deriving routes costs O(peers + edges), so it is not redone per message: changes mark the view
// dirty and the owner calls rebuild() (the mesh core does it on a short timer). Queries between
// rebuilds answer from the last rebuild; anti-entropy repairs what a stale tree missed.
#include <array>
#include <functional>
#include <map>
#include <optional>
#include <unordered_map>
#include <vector>

#include "gossip/gossip_channel.h"
#include "router/mesh/peer_record.h"
#include "router/wire/topology_message.h"

namespace weft {

class Topology {
 public:
  explicit Topology(PeerRecord self);

  enum class Applied { kApplied, kStale, kGap, kRejected, kBuried };
  // Merges an update learned by gossip. kGap: a delta whose base we do not have (ask for the
  // full record). kRejected: an update about ourselves, which only we may write. kBuried: the
  // record of a peer collect_garbage removed a moment ago, no newer than what it removed, and
  // no record we hold lists that peer: a copy of a departed peer's record still going round
  // (taking it back would spread it again). A record that lists it makes it news again.
  Applied apply(const PeerUpdate& u, int64_t now_ms);

  // Changes to our own record; each returns the delta to broadcast.
  PeerUpdate add_own_edge(PeerName peer, Edge e);
  PeerUpdate remove_own_edge(PeerName peer);

  PeerName self() const { return self_; }
  const PeerRecord& own() const { return records_.at(self_); }
  const PeerRecord* find(PeerName p) const;
  const std::map<PeerName, PeerRecord>& records() const { return records_; }
  size_t size() const { return records_.size(); }
  // Are a and b joined by an edge both of them list?
  bool connected(PeerName a, PeerName b) const;

  // Order-independent hash of every (name, incarnation, version): equal views, equal digests.
  uint64_t digest() const { return digest_; }
  // The same per bucket of names (digest_bucket): they add up to digest().
  const std::array<uint64_t, kDigestBuckets>& bucket_digests() const { return buckets_; }
  // The buckets whose digests differ from theirs (a bit mask).
  uint64_t differing_buckets(const std::vector<uint64_t>& theirs) const;
  static bool in_buckets(PeerName p, uint64_t buckets) { return (buckets >> digest_bucket(p)) & 1; }
  // (name, incarnation, version) of every record in the given buckets.
  std::vector<SummaryEntry> summary(uint64_t buckets = kAllBuckets) const;

  bool dirty() const { return dirty_; }
  void rebuild();
  // From the last rebuild:
  std::optional<PeerName> next_hop(PeerName dst) const;
  std::optional<int> hops(PeerName dst) const;
  bool reachable(PeerName p) const;
  // The neighbours this peer forwards src's broadcasts to (its children in src's tree).
  // without_tree: a source the last rebuild does not reach is relayed to every neighbour src
  // does not reach directly. Data frames have no duplicate check, so for them (false) such a
  // source gets no relaying until the next rebuild, or frames could circle. Gossip uses
  // gossip_children instead, which relays less.
  std::vector<PeerName> broadcast_children(PeerName src, bool without_tree = true);

  // The neighbours to pass gossip from src on to, received from neighbour `from` (src itself
  // for a message straight from its source). Gossip is relayed once per version at most, so
  // unlike data frames it may leave the tree without looping. Leaves out:
  //  - the neighbours src's current record lists: src sends its own broadcasts to every peer it
  //    is connected to, and its record lists exactly those (an edge the other end has not
  //    confirmed yet included, which a tree does not know about);
  //  - when flooding, the neighbours `from`'s record lists, since `from` floods as well. This is
  //    a heuristic: when `from` relayed along a tree instead, a peer can miss the message and be
  //    left to anti-entropy.
  // Nothing at all when every neighbour of ours is src or listed by src (a dense mesh).
  std::vector<PeerName> gossip_children(PeerName src, PeerName from, GossipRelay how);
  // Removes records of peers that were unreachable at the last rebuild and have not been updated
  // for grace_ms (a record can arrive a moment before the edge that makes it reachable), and
  // remembers what it removed for tombstone_ms (see kBuried).
  std::vector<PeerName> collect_garbage(int64_t now_ms, int64_t grace_ms,
                                        int64_t tombstone_ms = 60'000);
  size_t tombstones() const { return tombstones_.size(); }

 private:
  struct Tree {
    std::vector<int> dist;
    std::vector<int> parent;
  };
  void digest_add(const PeerRecord& r);
  void digest_remove(const PeerRecord& r);
  void replace(PeerRecord r, int64_t now_ms);
  // Applies a delta's edge changes to the record in place (a delta's copy of a 200-edge record
  // was most of what a heal cost the simulator).
  void edit(PeerRecord& r, const PeerUpdate& u, int64_t now_ms);
  // Keeps neighbors_ true after `p`'s record changed, appeared or went.
  void note_changed(PeerName p);
  const Tree& tree_from(int src);
  // src's tree from the last rebuild, or nullptr when it does not reach us (or src is new).
  const Tree* tree_through_us(PeerName src);
  // Our neighbours (edges both ends list, in the current records) but for src and `from`, and
  // but for those `listed_by` lists (when given).
  std::vector<PeerName> current_neighbors_but(PeerName src, PeerName from,
                                              const PeerRecord* listed_by = nullptr) const;
  PeerUpdate change_own(const std::function<void(PeerRecord&)>& edit);
  bool buried(const PeerUpdate& u) const;

  struct Tombstone {
    uint64_t incarnation = 0, version = 0;
    int64_t collected_ms = 0;
  };

  PeerName self_;
  std::map<PeerName, PeerRecord> records_;
  std::unordered_map<PeerName, int64_t> updated_at_;
  std::unordered_map<PeerName, Tombstone> tombstones_;
  // Our current neighbours (see current_neighbors_but) in name order, kept up to date as records
  // change: every relayed message asks for them.
  std::vector<PeerName> neighbors_;
  uint64_t digest_ = 0;
  std::array<uint64_t, kDigestBuckets> buckets_{};
  bool dirty_ = true;

  // What rebuild must redo: everything when a record came or went, else the changed rows.
  bool members_changed_ = true;
  std::vector<PeerName> changed_;
  void fill_row(size_t i, const PeerRecord& r);

  // Derived at rebuild.
  std::vector<PeerName> names_;
  std::vector<std::vector<int>> out_;  // per record, the indices of the peers it lists
  std::unordered_map<PeerName, int> index_;
  std::vector<std::vector<int>> adj_;
  std::vector<int> next_hop_;
  std::vector<int> dist_;
  std::unordered_map<int, Tree> trees_;
};

}  // namespace weft
