// decode_topology_message on arbitrary bytes, then everything a peer does with a decoded message:
// apply the updates to a Topology (self 0x0a, which starts connected to 0x0b and 0x0c), connect to
// some of the peers named, rebuild, and query routes, broadcast trees and GC, checking the
// invariants the mesh core relies on (gossip relays included). Summary entries become bare
// records so that they reach the topology too.
#include <cstddef>
#include <cstdint>
#include <set>
#include <vector>

#include "common/bytes.h"
#include "fuzz_common.h"
#include "router/mesh/peer_record.h"
#include "router/mesh/topology.h"
#include "router/wire/topology_message.h"

using namespace weft;
using weft::fuzz::require;

namespace {

constexpr PeerName kSelf = 0x0a;

// The incremental digest must equal that of a fresh view holding the same records.
void check_digest(const Topology& t) {
  Topology fresh(t.own());
  for (const auto& [name, r] : t.records())
    if (name != t.self()) require(fresh.apply(full_update(r), 0) == Topology::Applied::kApplied);
  require(fresh.digest() == t.digest());
  require(fresh.size() == t.size());
}

// Bucket digests add up to the digest; a summary of some buckets lists exactly their records.
void check_buckets(const Topology& t, uint64_t buckets) {
  uint64_t sum = 0;
  for (uint64_t d : t.bucket_digests()) sum += d;
  require(sum == t.digest());
  size_t in = 0;
  for (const auto& [name, r] : t.records()) in += Topology::in_buckets(name, buckets);
  auto s = t.summary(buckets);
  require(s.size() == in);
  for (const SummaryEntry& e : s) require(Topology::in_buckets(e.name, buckets));
}

void check_routes(Topology& t) {
  require(t.hops(kSelf) == 0);
  require(!t.next_hop(kSelf).has_value());
  size_t queried = 0;
  for (const auto& [name, r] : t.records()) {
    auto hop = t.next_hop(name);
    auto h = t.hops(name);
    require(hop.has_value() == (h.has_value() && *h > 0));
    if (hop) {
      require(t.connected(kSelf, *hop));
      require(t.hops(*hop) == 1);
      require(*h >= 1);
    }
    if (queried++ < 32) {
      auto children = t.broadcast_children(name);
      std::set<PeerName> unique(children.begin(), children.end());
      require(unique.size() == children.size());
      for (PeerName c : children) {
        require(c != name && c != kSelf);
        require(t.connected(kSelf, c));
      }
      // Gossip relays: only to current neighbours, never back to src or the sender, never to a
      // neighbour src lists (src sends there itself).
      const PeerRecord* src_rec = t.find(name);
      for (PeerName from : {name, PeerName(0x0b)}) {
        auto along = t.gossip_children(name, from, GossipRelay::kAlongTree);
        auto flood = t.gossip_children(name, from, GossipRelay::kFlood);
        for (const auto* relay : {&along, &flood}) {
          require(std::set<PeerName>(relay->begin(), relay->end()).size() == relay->size());
          for (PeerName c : *relay) {
            require(c != name && c != from && c != kSelf);
            require(t.connected(kSelf, c));
            require(name == kSelf || !src_rec->edges.count(c));  // the root: all neighbours
          }
        }
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteView in(data, size);
  TopologyMessage m;
  try {
    m = decode_topology_message(in);
  } catch (const DecodeError&) {
    return 0;
  }
  require(encode_topology_message(m) == Bytes(in.begin(), in.end()));

  PeerRecord self;
  self.name = kSelf;
  self.nickname = "self";
  self.incarnation = 1;
  self.version = 1;
  self.edges[0x0b] = Edge{"10.0.0.11", true};
  self.edges[0x0c] = Edge{"10.0.0.12", false};
  Topology t(self);

  std::vector<PeerUpdate> updates = m.updates;
  for (const SummaryEntry& s : m.summary) {
    if (s.version == 0) continue;
    PeerUpdate u;
    u.name = s.name;
    u.incarnation = s.incarnation;
    u.version = s.version;
    u.upserts.emplace_back(kSelf, Edge{});
    updates.push_back(u);
  }
  int64_t now = 0;
  size_t n = 0;
  for (const PeerUpdate& u : updates) {
    now += 100;
    Topology::Applied a = t.apply(u, now);
    if (u.name == kSelf) require(a == Topology::Applied::kRejected);
    if (a == Topology::Applied::kApplied) {
      const PeerRecord* r = t.find(u.name);
      require(r && r->version == u.version && r->incarnation == u.incarnation);
    }
    // Connect to every third peer named, so that routes go somewhere.
    if (u.name != kSelf && n++ % 3 == 0) t.add_own_edge(u.name, Edge{"10.0.0.1", true});
  }
  for (PeerName p : m.request) (void)t.find(p);
  check_digest(t);
  check_buckets(
      t, m.kind == TopologyMessage::kBuckets ? t.differing_buckets(m.bucket_digests) : m.buckets);

  t.rebuild();
  check_routes(t);

  // GC removes only peers that were unreachable at the rebuild, never ourselves.
  Topology fresh_copy = t;  // what collect_garbage is about to remove
  std::set<PeerName> unreachable;
  for (const auto& [name, r] : t.records())
    if (!t.reachable(name)) unreachable.insert(name);
  std::vector<PeerRecord> collected;
  for (int64_t grace : {int64_t(250), int64_t(0)}) {
    for (PeerName gone : t.collect_garbage(now, grace)) {
      require(gone != kSelf);
      require(unreachable.count(gone) == 1);
      require(t.find(gone) == nullptr);
      collected.push_back(*fresh_copy.find(gone));
    }
  }
  check_digest(t);
  // Queries between GC and the next rebuild still answer from the last rebuild without harm.
  check_routes(t);
  t.rebuild();
  for (const auto& [name, r] : t.records()) require(t.reachable(name));
  check_routes(t);

  // A collected record is refused at the version collected, unless a record we hold lists it.
  for (const PeerRecord& r : collected) {
    bool listed = false;
    for (const auto& [name, other] : t.records()) listed = listed || other.edges.count(r.name);
    Topology::Applied a = t.apply(full_update(r), now);
    require(a == (listed ? Topology::Applied::kApplied : Topology::Applied::kBuried));
  }
  return 0;
}
