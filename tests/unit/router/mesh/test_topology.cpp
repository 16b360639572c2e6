// Topology (router/mesh/topology.h): merging gossiped records and deltas, the order-independent
// digest anti-entropy relies on, unicast routes, per-source broadcast trees and peer GC. Graphs
// are small hand-made ones (line, ring, star, asymmetric edge) plus seeded random connected
// graphs checked against the property that matters: a broadcast reaches every peer exactly once.
#include <doctest/doctest.h>

#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <vector>

#include "router/mesh/peer_record.h"
#include "router/mesh/topology.h"
#include "router/mesh/topology_gossip.h"
#include "router/wire/topology_message.h"

using weft::Edge;
using weft::PeerName;
using weft::PeerRecord;
using weft::PeerUpdate;
using weft::Topology;
using Applied = weft::Topology::Applied;

namespace {

PeerRecord rec(PeerName n, uint64_t version, std::vector<PeerName> edges = {},
               uint64_t incarnation = 1) {
  PeerRecord r;
  r.name = n;
  r.nickname = "peer-" + std::to_string(n);
  r.incarnation = incarnation;
  r.version = version;
  r.port = 6783;
  for (PeerName e : edges) r.edges[e] = Edge{"10.0.0." + std::to_string(e % 250), e < n};
  return r;
}

std::vector<PeerName> sorted(std::vector<PeerName> v) {
  std::sort(v.begin(), v.end());
  return v;
}

// An undirected graph (plus optional one-way listings) and each peer's view of all of it.
struct Graph {
  std::map<PeerName, std::set<PeerName>> lists;  // who lists whom in its record

  void add(PeerName a, PeerName b) {
    lists[a].insert(b);
    lists[b].insert(a);
  }
  void one_way(PeerName a, PeerName b) {
    lists[a].insert(b);
    lists[b];
  }
  bool edge(PeerName a, PeerName b) const {
    auto ia = lists.find(a), ib = lists.find(b);
    return ia != lists.end() && ib != lists.end() && ia->second.count(b) && ib->second.count(a);
  }
  PeerRecord record(PeerName n) const {
    auto it = lists.find(n);
    return rec(n, 1, std::vector<PeerName>(it->second.begin(), it->second.end()));
  }
  std::unique_ptr<Topology> view(PeerName self) const {
    auto t = std::make_unique<Topology>(record(self));
    for (const auto& [n, _] : lists)
      if (n != self) REQUIRE(t->apply(weft::full_update(record(n)), 0) == Applied::kApplied);
    t->rebuild();
    return t;
  }
};

Graph with_edges(std::vector<std::pair<PeerName, PeerName>> edges) {
  Graph g;
  for (auto [a, b] : edges) g.add(a, b);
  return g;
}

// A random connected graph: a random spanning tree plus extra_per_peer * n random edges. Its
// peers get random 48-bit names (returned in `names`), so name order is unrelated to how the
// graph was grown.
Graph random_connected(size_t n, size_t extra_per_peer, std::mt19937_64& rng,
                       std::vector<PeerName>& names) {
  std::set<PeerName> used;
  while (names.size() < n) {
    PeerName p = rng() & weft::kPeerNameMask;
    if (p != 0 && used.insert(p).second) names.push_back(p);
  }
  Graph g;
  for (size_t i = 1; i < n; ++i) g.add(names[i], names[rng() % i]);
  for (size_t k = 0; k < extra_per_peer * n; ++k) {
    PeerName a = names[rng() % n], b = names[rng() % n];
    if (a != b) g.add(a, b);
  }
  return g;
}

// Calls check(graph, names, rng) on random connected graphs of every size and density given,
// for seeds 1..seeds.
void for_random_graphs(
    std::vector<size_t> sizes, std::vector<size_t> extras_per_peer, uint32_t seeds,
    const std::function<void(Graph&, const std::vector<PeerName>&, std::mt19937_64&)>& check) {
  for (uint32_t seed = 1; seed <= seeds; ++seed)
    for (size_t n : sizes)
      for (size_t extra_per_peer : extras_per_peer) {
        CAPTURE(seed);
        CAPTURE(n);
        CAPTURE(extra_per_peer);
        std::mt19937_64 rng(seed * 1000 + n * 10 + extra_per_peer);
        std::vector<PeerName> names;
        Graph g = random_connected(n, extra_per_peer, rng, names);
        check(g, names, rng);
      }
}

Graph line(std::vector<PeerName> names) {
  Graph g;
  for (size_t i = 0; i + 1 < names.size(); ++i) g.add(names[i], names[i + 1]);
  return g;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// apply

TEST_CASE("apply: full records, stale versions and restarts (newer incarnations)") {
  Topology t(rec(1, 1));
  CHECK(t.size() == 1);
  CHECK(t.apply(weft::full_update(rec(2, 3, {1, 3})), 100) == Applied::kApplied);
  REQUIRE(t.find(2) != nullptr);
  CHECK(t.find(2)->version == 3);
  CHECK(t.find(2)->nickname == "peer-2");
  CHECK(t.find(2)->edges.size() == 2);
  CHECK(t.dirty());
  CHECK(t.size() == 2);

  CHECK(t.apply(weft::full_update(rec(2, 3, {})), 101) == Applied::kStale);  // same version
  CHECK(t.apply(weft::full_update(rec(2, 2, {})), 102) == Applied::kStale);  // older
  CHECK(t.find(2)->edges.size() == 2);                                       // untouched

  // A restart: a newer incarnation wins even with a lower version and replaces everything.
  CHECK(t.apply(weft::full_update(rec(2, 1, {4}, 2)), 103) == Applied::kApplied);
  CHECK(t.find(2)->incarnation == 2);
  CHECK(t.find(2)->version == 1);
  CHECK(t.find(2)->edges.size() == 1);
  CHECK(t.find(2)->edges.count(4) == 1);
  // The old incarnation, whatever its version, is stale now.
  CHECK(t.apply(weft::full_update(rec(2, 99, {}, 1)), 104) == Applied::kStale);
}

TEST_CASE("apply: deltas against the version we hold; gaps are reported, not guessed") {
  Topology t(rec(1, 1));
  PeerRecord v3 = rec(2, 3, {1, 3});
  REQUIRE(t.apply(weft::full_update(v3), 0) == Applied::kApplied);

  PeerRecord v4 = v3;
  v4.version = 4;
  v4.nickname = "renamed";
  v4.port = 7000;
  v4.edges.erase(3);
  v4.edges[4] = Edge{"10.0.0.4", true};
  v4.edges[1] = Edge{"192.168.1.1", false};  // an edge whose details changed
  PeerUpdate d34 = weft::delta_update(v3, v4);
  CHECK(d34.base_version == 3);
  CHECK(t.apply(d34, 10) == Applied::kApplied);
  const PeerRecord* got = t.find(2);
  REQUIRE(got != nullptr);
  CHECK(got->version == 4);
  CHECK(got->nickname == "renamed");
  CHECK(got->port == 7000);
  CHECK(got->edges == v4.edges);

  // The same delta again is stale, not a gap.
  CHECK(t.apply(d34, 11) == Applied::kStale);

  // A delta from 5 to 6 while we hold 4: a gap; the record is unchanged.
  PeerRecord v5 = v4, v6 = v4;
  v5.version = 5;
  v6.version = 6;
  v6.edges.clear();
  CHECK(t.apply(weft::delta_update(v5, v6), 12) == Applied::kGap);
  CHECK(t.find(2)->version == 4);
  CHECK(t.find(2)->edges == v4.edges);

  // A delta about a peer we have never heard of: a gap, nothing invented.
  CHECK(t.apply(weft::delta_update(rec(9, 1), rec(9, 2, {1})), 13) == Applied::kGap);
  CHECK(t.find(9) == nullptr);

  // A delta whose base matches our version number but from another incarnation: a gap.
  PeerRecord other_inc_4 = v4, other_inc_5 = v4;
  other_inc_4.incarnation = other_inc_5.incarnation = 2;
  other_inc_5.version = 5;
  CHECK(t.apply(weft::delta_update(other_inc_4, other_inc_5), 14) == Applied::kGap);
  CHECK(t.find(2)->incarnation == 1);
}

TEST_CASE("apply: updates about ourselves are rejected, whatever they claim") {
  PeerRecord self = rec(1, 5, {2});
  Topology t(self);
  CHECK(t.apply(weft::full_update(rec(1, 100, {3}, 9)), 0) == Applied::kRejected);
  PeerRecord next = self;
  next.version = 6;
  next.edges.clear();
  CHECK(t.apply(weft::delta_update(self, next), 0) == Applied::kRejected);
  CHECK(t.own().version == 5);
  CHECK(t.own().incarnation == 1);
  CHECK(t.own().edges.count(2) == 1);
}

TEST_CASE("own edge changes return deltas that other views can apply in order") {
  Topology a(rec(1, 1)), b(rec(2, 1));
  REQUIRE(b.apply(weft::full_update(a.own()), 0) == Applied::kApplied);

  PeerUpdate d1 = a.add_own_edge(2, Edge{"10.0.0.2", true});
  CHECK(d1.name == 1);
  CHECK(d1.base_version == 1);
  CHECK(d1.version == 2);
  CHECK(a.own().version == 2);
  CHECK(a.own().edges.at(2) == Edge{"10.0.0.2", true});
  CHECK(b.apply(d1, 1) == Applied::kApplied);
  CHECK(b.find(1)->edges.count(2) == 1);

  PeerUpdate d2 = a.add_own_edge(3, Edge{"10.0.0.3", false});
  PeerUpdate d3 = a.remove_own_edge(2);
  CHECK(d3.removals == std::vector<PeerName>{2});
  CHECK(d3.upserts.empty());
  CHECK(a.own().version == 4);
  // Out of order: d3 before d2 is a gap, then both apply in order.
  CHECK(b.apply(d3, 2) == Applied::kGap);
  CHECK(b.apply(d2, 3) == Applied::kApplied);
  CHECK(b.apply(d3, 4) == Applied::kApplied);
  CHECK(b.find(1)->edges == a.own().edges);
  CHECK(b.find(1)->version == a.own().version);
}

// ---------------------------------------------------------------------------------------------
// digest and summary

TEST_CASE("digest: equal views have equal digests, whatever the order and whoever holds them") {
  std::vector<PeerRecord> recs;
  for (PeerName n = 1; n <= 8; ++n) recs.push_back(rec(n * 1000 + 7, n, {}, n % 3 + 1));

  auto view_of = [&](size_t self_idx, std::vector<size_t> order) {
    auto t = std::make_unique<Topology>(recs[self_idx]);
    for (size_t i : order)
      if (i != self_idx) REQUIRE(t->apply(weft::full_update(recs[i]), 0) == Applied::kApplied);
    return t;
  };
  std::vector<size_t> order(recs.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  auto base = view_of(0, order);
  std::mt19937 rng(11);
  for (int trial = 0; trial < 20; ++trial) {
    std::shuffle(order.begin(), order.end(), rng);
    size_t self_idx = static_cast<size_t>(rng() % recs.size());
    CAPTURE(trial);
    CHECK(view_of(self_idx, order)->digest() == base->digest());
  }

  // Any difference in (name, incarnation, version) shows.
  auto fewer = view_of(0, {1, 2, 3, 4, 5, 6});
  CHECK(fewer->digest() != base->digest());
  auto newer = view_of(0, order);
  PeerRecord bumped = recs[3];
  bumped.version += 1;
  REQUIRE(newer->apply(weft::full_update(bumped), 0) == Applied::kApplied);
  CHECK(newer->digest() != base->digest());
  // Reaching the same records through deltas gives the same digest as learning them whole.
  auto via_delta = view_of(0, order);
  REQUIRE(via_delta->apply(weft::delta_update(recs[3], bumped), 0) == Applied::kApplied);
  CHECK(via_delta->digest() == newer->digest());
}

TEST_CASE("bucket digests add up to the digest and show which buckets differ") {
  std::vector<PeerRecord> recs;
  for (PeerName n = 1; n <= 1000; ++n) recs.push_back(rec(n * 7919, n % 5 + 1));
  Topology a(recs[0]), b(recs[0]);
  for (size_t i = 1; i < recs.size(); ++i) {
    REQUIRE(a.apply(weft::full_update(recs[i]), 0) == Applied::kApplied);
    REQUIRE(b.apply(weft::full_update(recs[recs.size() - i]), 0) == Applied::kApplied);
  }
  uint64_t sum = 0;
  std::set<int> used;
  for (int k = 0; k < weft::kDigestBuckets; ++k) sum += a.bucket_digests()[k];
  for (const PeerRecord& r : recs) used.insert(weft::digest_bucket(r.name));
  CHECK(sum == a.digest());
  CHECK(used.size() == size_t(weft::kDigestBuckets));  // 1000 names fill every bucket
  auto theirs = [](const Topology& t) {
    return std::vector<uint64_t>(t.bucket_digests().begin(), t.bucket_digests().end());
  };
  CHECK(a.differing_buckets(theirs(b)) == 0);

  // One newer record and one missing: exactly their buckets differ, and a summary of those
  // buckets lists just the records hashed there.
  PeerRecord bumped = recs[10];
  bumped.version += 1;
  REQUIRE(b.apply(weft::full_update(bumped), 0) == Applied::kApplied);
  Topology c(recs[0]);
  for (size_t i = 1; i < recs.size(); ++i)
    if (i != 20) REQUIRE(c.apply(weft::full_update(recs[i]), 0) == Applied::kApplied);
  uint64_t ab = 1ull << weft::digest_bucket(recs[10].name);
  uint64_t ac = 1ull << weft::digest_bucket(recs[20].name);
  CHECK(a.differing_buckets(theirs(b)) == ab);
  CHECK(b.differing_buckets(theirs(a)) == ab);
  CHECK(a.differing_buckets(theirs(c)) == ac);
  CHECK(a.differing_buckets({}) == weft::kAllBuckets);  // nothing to compare: all
  auto part = a.summary(ab | ac);
  CHECK(part.size() < recs.size() / 8);
  std::set<PeerName> listed;
  for (const auto& e : part) {
    CHECK(Topology::in_buckets(e.name, ab | ac));
    listed.insert(e.name);
  }
  for (const PeerRecord& r : recs)
    CHECK(listed.count(r.name) == size_t(Topology::in_buckets(r.name, ab | ac)));
  CHECK(a.summary().size() == recs.size());
}

TEST_CASE("summary lists every record's name, incarnation and version") {
  Topology t(rec(5, 2));
  REQUIRE(t.apply(weft::full_update(rec(3, 7, {}, 4)), 0) == Applied::kApplied);
  REQUIRE(t.apply(weft::full_update(rec(9, 1)), 0) == Applied::kApplied);
  auto s = t.summary();
  REQUIRE(s.size() == 3);
  std::map<PeerName, std::pair<uint64_t, uint64_t>> m;
  for (const auto& e : s) m[e.name] = {e.incarnation, e.version};
  CHECK(m[3] == std::pair<uint64_t, uint64_t>{4, 7});
  CHECK(m[5] == std::pair<uint64_t, uint64_t>{1, 2});
  CHECK(m[9] == std::pair<uint64_t, uint64_t>{1, 1});
}

// ---------------------------------------------------------------------------------------------
// routes

TEST_CASE("routes on a line") {
  Graph g = line({1, 2, 3, 4});
  auto v1 = g.view(1);
  CHECK(v1->hops(1) == 0);
  CHECK_FALSE(v1->next_hop(1).has_value());
  CHECK(v1->hops(2) == 1);
  CHECK(v1->next_hop(2) == PeerName{2});
  CHECK(v1->hops(4) == 3);
  CHECK(v1->next_hop(4) == PeerName{2});
  CHECK(v1->reachable(4));
  auto v3 = g.view(3);
  CHECK(v3->next_hop(1) == PeerName{2});
  CHECK(v3->hops(1) == 2);
  CHECK(v3->next_hop(4) == PeerName{4});
  CHECK_FALSE(v3->next_hop(99).has_value());  // unknown peer
  CHECK_FALSE(v3->hops(99).has_value());
  CHECK(v3->connected(2, 3));
  CHECK_FALSE(v3->connected(1, 3));
}

TEST_CASE("routes on a ring: shortest path, ties broken towards the lower name") {
  Graph g;
  for (PeerName n = 1; n <= 6; ++n) g.add(n, n % 6 + 1);
  auto v1 = g.view(1);
  CHECK(v1->hops(4) == 3);
  CHECK(v1->next_hop(4) == PeerName{2});  // 1-2-3-4 and 1-6-5-4 tie; via 3 (< 5), hence 2
  CHECK(v1->next_hop(3) == PeerName{2});
  CHECK(v1->next_hop(5) == PeerName{6});
  CHECK(v1->hops(5) == 2);
  // Every peer agrees on hop counts both ways.
  for (PeerName a = 1; a <= 6; ++a)
    for (PeerName b = 1; b <= 6; ++b) CHECK(g.view(a)->hops(b) == g.view(b)->hops(a));
}

TEST_CASE("routes on a star") {
  Graph g;
  for (PeerName leaf = 1; leaf <= 5; ++leaf) g.add(100, leaf);
  auto v1 = g.view(1);
  for (PeerName leaf = 2; leaf <= 5; ++leaf) {
    CHECK(v1->next_hop(leaf) == PeerName{100});
    CHECK(v1->hops(leaf) == 2);
  }
  auto hub = g.view(100);
  for (PeerName leaf = 1; leaf <= 5; ++leaf) CHECK(hub->next_hop(leaf) == leaf);
}

TEST_CASE("an edge only one side lists is not used") {
  SUBCASE("the only way there") {
    Graph g;
    g.one_way(1, 2);
    auto v1 = g.view(1);
    CHECK_FALSE(v1->connected(1, 2));
    CHECK_FALSE(v1->reachable(2));
    CHECK_FALSE(v1->next_hop(2).has_value());
    CHECK(v1->broadcast_children(1).empty());
    auto v2 = g.view(2);
    CHECK_FALSE(v2->reachable(1));
  }
  SUBCASE("a shortcut") {
    Graph g = line({1, 2, 3});
    g.one_way(1, 3);  // 1 claims 3, 3 does not confirm
    auto v1 = g.view(1);
    CHECK(v1->hops(3) == 2);
    CHECK(v1->next_hop(3) == PeerName{2});
    CHECK(v1->broadcast_children(1) == std::vector<PeerName>{2});
    CHECK(g.view(2)->broadcast_children(1) == std::vector<PeerName>{3});
  }
}

TEST_CASE("routes change only at rebuild()") {
  Graph g = line({1, 2, 3});
  auto v1 = g.view(1);
  CHECK_FALSE(v1->dirty());
  // 1 and 3 connect directly.
  REQUIRE(v1->apply(weft::full_update(rec(3, 2, {2, 1})), 0) == Applied::kApplied);
  v1->add_own_edge(3, Edge{"10.0.0.3", true});
  CHECK(v1->dirty());
  CHECK(v1->next_hop(3) == PeerName{2});  // still the last rebuild's answer
  v1->rebuild();
  CHECK_FALSE(v1->dirty());
  CHECK(v1->next_hop(3) == PeerName{3});
  CHECK(v1->hops(3) == 1);
}

// ---------------------------------------------------------------------------------------------
// broadcast trees

TEST_CASE("broadcast children on a line") {
  Graph g = line({1, 2, 3});
  auto v1 = g.view(1), v2 = g.view(2), v3 = g.view(3);
  CHECK(v1->broadcast_children(1) == std::vector<PeerName>{2});
  CHECK(v2->broadcast_children(1) == std::vector<PeerName>{3});
  CHECK(v3->broadcast_children(1).empty());
  CHECK(v3->broadcast_children(3) == std::vector<PeerName>{2});
  CHECK(v2->broadcast_children(3) == std::vector<PeerName>{1});
  CHECK(v1->broadcast_children(3).empty());
  CHECK(sorted(v2->broadcast_children(2)) == std::vector<PeerName>{1, 3});
  CHECK(v1->broadcast_children(2).empty());
  CHECK(v3->broadcast_children(2).empty());
  // A source with no tree yet (just joined): relay to the neighbours it does not reach itself.
  CHECK(v1->broadcast_children(99) == std::vector<PeerName>{2});
}

TEST_CASE("broadcast children on a star") {
  Graph g;
  for (PeerName leaf = 1; leaf <= 4; ++leaf) g.add(100, leaf);
  CHECK(sorted(g.view(100)->broadcast_children(100)) == std::vector<PeerName>{1, 2, 3, 4});
  CHECK(sorted(g.view(100)->broadcast_children(1)) == std::vector<PeerName>{2, 3, 4});
  for (PeerName leaf = 1; leaf <= 4; ++leaf) {
    CHECK(g.view(leaf)->broadcast_children(leaf) == std::vector<PeerName>{100});
    CHECK(g.view(leaf)->broadcast_children(100).empty());
    CHECK(g.view(leaf)->broadcast_children(leaf % 4 + 1).empty());
  }
}

TEST_CASE("broadcast trees on random connected graphs reach every peer exactly once") {
  auto check = [](Graph& g, const std::vector<PeerName>& names, std::mt19937_64&) {
    size_t n = names.size();
    std::map<PeerName, std::unique_ptr<Topology>> views;
    for (PeerName p : names) views[p] = g.view(p);

    for (PeerName src : names) {
      CAPTURE(src);
      std::map<PeerName, int> received;
      std::vector<PeerName> frontier{src};
      size_t deliveries = 0;
      while (!frontier.empty()) {
        PeerName at = frontier.back();
        frontier.pop_back();
        for (PeerName child : views[at]->broadcast_children(src)) {
          CHECK(g.edge(at, child));  // only along real connections
          ++deliveries;
          if (++received[child] == 1) frontier.push_back(child);
        }
      }
      CHECK(received.count(src) == 0);  // never echoed back to the source
      CHECK(deliveries == n - 1);       // a tree: no duplicates
      for (PeerName p : names)
        if (p != src) CHECK(received[p] == 1);
    }
  };
  for_random_graphs({2, 12, 40}, {0, 1, 4}, 6, check);
}

// ---------------------------------------------------------------------------------------------
// garbage collection

TEST_CASE("collect_garbage removes unreachable peers only after the grace period") {
  const int64_t grace = 5000;
  Topology t(rec(1, 1, {2}));
  REQUIRE(t.apply(weft::full_update(rec(2, 1, {1})), 1000) == Applied::kApplied);  // reachable
  REQUIRE(t.apply(weft::full_update(rec(3, 1, {1})), 1000) == Applied::kApplied);  // one-way
  REQUIRE(t.apply(weft::full_update(rec(4, 1, {})), 3000) == Applied::kApplied);   // isolated
  t.rebuild();
  CHECK(t.reachable(2));
  CHECK_FALSE(t.reachable(3));
  CHECK_FALSE(t.reachable(4));

  Topology without3(rec(1, 1, {2}));
  REQUIRE(without3.apply(weft::full_update(rec(2, 1, {1})), 0) == Applied::kApplied);
  REQUIRE(without3.apply(weft::full_update(rec(4, 1, {})), 0) == Applied::kApplied);

  CHECK(t.collect_garbage(1000 + grace - 1, grace).empty());
  CHECK(t.size() == 4);
  CHECK(t.collect_garbage(1000 + grace, grace) == std::vector<PeerName>{3});
  CHECK(t.find(3) == nullptr);
  CHECK(t.dirty());
  CHECK(t.digest() == without3.digest());
  CHECK(t.collect_garbage(3000 + grace - 1, grace).empty());  // 4 was heard from later
  CHECK(t.collect_garbage(3000 + grace, grace) == std::vector<PeerName>{4});

  // Reachable peers and ourselves stay, however old.
  CHECK(t.collect_garbage(1'000'000'000, grace).empty());
  CHECK(t.find(1) != nullptr);
  CHECK(t.find(2) != nullptr);

  // A collected peer can be learned again.
  CHECK(t.apply(weft::full_update(rec(3, 1, {1})), 2'000'000'000) == Applied::kApplied);
}

TEST_CASE("collect_garbage spares a record that arrived after the last rebuild until its grace") {
  const int64_t grace = 5000;
  Topology t(rec(1, 1, {2}));
  t.rebuild();
  // Peer 2's record arrives; the edge making it reachable is already ours. No rebuild yet.
  REQUIRE(t.apply(weft::full_update(rec(2, 1, {1})), 10'000) == Applied::kApplied);
  CHECK(t.collect_garbage(10'000 + grace - 1, grace).empty());
  t.rebuild();
  CHECK(t.reachable(2));
  CHECK(t.collect_garbage(10'000 + 10 * grace, grace).empty());
}

// ---------------------------------------------------------------------------------------------
// gossip relays (gossip_children): fewer copies than a tree, and floods where trees are stale

TEST_CASE("gossip_children leaves out the neighbours src's record lists, confirmed or not") {
  // 1 lists 3, but 3's record does not list 1 yet: the tree reaches 3 through 2, yet 1 sends
  // its broadcasts to every connection it has, 3 included.
  Graph g = line({1, 2, 3});
  g.one_way(1, 3);
  auto v2 = g.view(2);
  CHECK(v2->broadcast_children(1) == std::vector<PeerName>{3});
  CHECK(v2->gossip_children(1, 1, weft::GossipRelay::kAlongTree).empty());
  CHECK(v2->gossip_children(1, 1, weft::GossipRelay::kFlood).empty());
  // A source that lists nobody we know: the tree as usual.
  CHECK(v2->gossip_children(3, 3, weft::GossipRelay::kAlongTree) == std::vector<PeerName>{1});
}

TEST_CASE("gossip_children: nothing when src reaches every neighbour of ours itself") {
  Graph g;
  for (PeerName a = 1; a <= 5; ++a)
    for (PeerName b = a + 1; b <= 5; ++b) g.add(a, b);
  auto v3 = g.view(3);
  for (PeerName src : {1, 2, 4, 5}) {
    CHECK(v3->gossip_children(src, src, weft::GossipRelay::kAlongTree).empty());
    CHECK(v3->gossip_children(src, src, weft::GossipRelay::kFlood).empty());
  }
  CHECK(sorted(v3->gossip_children(3, 0, weft::GossipRelay::kAlongTree)) ==
        std::vector<PeerName>{1, 2, 4, 5});
}

TEST_CASE("gossip_children floods past the tree, but not to the sender's own neighbours") {
  // A square 1-2-3-4-1. In 2's tree, 4 hangs below 1 (the lower name), so 3 has no children
  // along the tree; flooding, 3 passes 2's news to 4 as well.
  Graph g = with_edges({{1, 2}, {2, 3}, {3, 4}, {4, 1}});
  auto v3 = g.view(3);
  CHECK(v3->gossip_children(2, 2, weft::GossipRelay::kAlongTree).empty());
  CHECK(v3->gossip_children(2, 2, weft::GossipRelay::kFlood) == std::vector<PeerName>{4});
  // From 4 (say the news reached 4 first): 4 floods too and reaches its own neighbours, so 3
  // leaves them out: nobody left.
  CHECK(v3->gossip_children(2, 4, weft::GossipRelay::kFlood).empty());

  // A source the last rebuild does not know (a newcomer, 9, connected to 1): flooded whatever
  // the mode, minus the neighbours of the peer it came from.
  Graph h = with_edges({{1, 2}, {2, 3}, {1, 3}, {2, 4}});
  auto v2 = h.view(2);
  REQUIRE(v2->apply(weft::full_update(rec(9, 2, {1})), 0) == Applied::kApplied);
  CHECK(v2->gossip_children(9, 1, weft::GossipRelay::kAlongTree) == std::vector<PeerName>{4});
  CHECK(sorted(v2->gossip_children(9, 9, weft::GossipRelay::kAlongTree)) ==
        std::vector<PeerName>{3, 4});
}

TEST_CASE(
    "a flooded removal reaches every peer while every tree still runs through the gone peer") {
  // Random connected graphs; a peer `gone` stops and one of its neighbours, src, publishes a
  // record without it. Every view still has the routes of before (no rebuild yet) and has
  // applied src's new record when relaying. Everyone but `gone` must get the news.
  auto check = [](Graph& g, const std::vector<PeerName>& names, std::mt19937_64& rng) {
    size_t n = names.size();
    PeerName gone = names[rng() % n];
    std::vector<PeerName> srcs(g.lists[gone].begin(), g.lists[gone].end());
    PeerName src = srcs[rng() % srcs.size()];
    // Without `gone`, is the rest still connected? (Otherwise some peers cannot
    // be reached.)
    std::set<PeerName> reach{src};
    std::vector<PeerName> todo{src};
    while (!todo.empty()) {
      PeerName p = todo.back();
      todo.pop_back();
      for (PeerName q : g.lists[p])
        if (q != gone && reach.insert(q).second) todo.push_back(q);
    }
    if (reach.size() != n - 1) return;

    std::map<PeerName, std::unique_ptr<Topology>> views;
    for (PeerName p : names) views[p] = g.view(p);
    PeerRecord before = g.record(src);
    PeerRecord after = before;
    after.version = 2;
    after.edges.erase(gone);
    PeerUpdate removal = weft::delta_update(before, after);
    std::set<PeerName> got{src};
    std::vector<std::pair<PeerName, PeerName>> wire;  // (from, to)
    for (const auto& [peer, e] : after.edges) wire.emplace_back(src, peer);
    while (!wire.empty()) {
      auto [from, to] = wire.back();
      wire.pop_back();
      if (to == gone || !got.insert(to).second) continue;  // relayed once, when news
      Topology& v = *views[to];
      REQUIRE(v.apply(removal, 1) == Applied::kApplied);
      for (PeerName c : v.gossip_children(src, from, weft::GossipRelay::kFlood)) {
        CHECK(g.edge(to, c));
        wire.emplace_back(to, c);
      }
    }
    CHECK(got.size() == n - 1);
  };
  for_random_graphs({12, 40}, {0, 1, 2}, 8, check);
}

TEST_CASE("a collected record is buried: refused at the version collected, for a while") {
  const int64_t grace = 1000, tomb = 60'000;
  // 1 - 2, and 3 which 2 no longer lists (3 left): 3 is unreachable and gets collected.
  Topology t(rec(1, 1, {2}));
  REQUIRE(t.apply(weft::full_update(rec(2, 5, {1})), 0) == Applied::kApplied);
  REQUIRE(t.apply(weft::full_update(rec(3, 4, {2})), 0) == Applied::kApplied);
  t.rebuild();
  REQUIRE(t.collect_garbage(grace, grace, tomb) == std::vector<PeerName>{3});
  uint64_t digest = t.digest();
  CHECK(t.tombstones() == 1);

  // Copies of what was collected, or older, from peers that have not collected it yet.
  CHECK(t.apply(weft::full_update(rec(3, 4, {2})), 2000) == Applied::kBuried);
  CHECK(t.apply(weft::full_update(rec(3, 2, {2})), 2000) == Applied::kBuried);
  CHECK(t.apply(weft::full_update(rec(3, 9, {2}, 0)), 2000) == Applied::kBuried);  // older inc.
  CHECK(t.find(3) == nullptr);
  CHECK(t.digest() == digest);

  SUBCASE("a newer version is news") {
    CHECK(t.apply(weft::full_update(rec(3, 5, {2})), 2000) == Applied::kApplied);
    CHECK(t.tombstones() == 0);
  }
  SUBCASE("so is a new incarnation (a restart)") {
    CHECK(t.apply(weft::full_update(rec(3, 1, {2}, 2)), 2000) == Applied::kApplied);
  }
  SUBCASE("and the same version once a record we hold lists the peer again") {
    // Say 3 never left, but 2 lost its link to it for a while: 2's new record lists 3 again.
    REQUIRE(t.apply(weft::full_update(rec(2, 6, {1, 3})), 2000) == Applied::kApplied);
    CHECK(t.apply(weft::full_update(rec(3, 4, {2})), 2000) == Applied::kApplied);
  }
  SUBCASE("tombstones expire") {
    CHECK(t.collect_garbage(grace + tomb - 1, grace, tomb).empty());
    CHECK(t.tombstones() == 1);
    CHECK(t.collect_garbage(grace + tomb, grace, tomb).empty());
    CHECK(t.tombstones() == 0);
    CHECK(t.apply(weft::full_update(rec(3, 4, {2})), grace + tomb) == Applied::kApplied);
  }
}

namespace {
// Records what TopologyGossip sends; no routing.
struct CapturingSender : weft::GossipSender {
  std::vector<PeerName> relayed;  // src of each relay_broadcast or relay_targets
  int neighbor_messages = 0;
  void send_neighbor(std::string_view, PeerName, weft::ByteView) override { ++neighbor_messages; }
  void send_unicast(std::string_view, PeerName, weft::ByteView) override {}
  void broadcast(std::string_view, weft::ByteView) override {}
  void relay_broadcast(std::string_view, PeerName src, PeerName, weft::ByteView,
                       weft::GossipRelay) override {
    relayed.push_back(src);
  }
  std::vector<PeerName> targets;  // what relay_targets answers
  std::vector<PeerName> relay_targets(PeerName src, PeerName, weft::GossipRelay) override {
    relayed.push_back(src);
    return targets;
  }
};

weft::Bytes updates_of(std::vector<PeerRecord> recs) {
  weft::TopologyMessage m;
  m.kind = weft::TopologyMessage::kUpdates;
  for (const PeerRecord& r : recs) m.updates.push_back(weft::full_update(r));
  return weft::encode_topology_message(m);
}
}  // namespace

TEST_CASE("gossip: a reply does not bring back a buried peer, unless it lists it again") {
  Topology t(rec(1, 1, {2}));
  REQUIRE(t.apply(weft::full_update(rec(2, 5, {1})), 0) == Applied::kApplied);
  REQUIRE(t.apply(weft::full_update(rec(3, 4, {2})), 0) == Applied::kApplied);
  t.rebuild();
  REQUIRE(t.collect_garbage(5000, 1000) == std::vector<PeerName>{3});
  CapturingSender out;
  weft::TopologyGossip g(t, out);

  // A neighbour that has not collected 3 yet answers a repair with its record.
  g.on_neighbor(2, updates_of({rec(3, 4, {2})}), 6000);
  CHECK(t.find(3) == nullptr);
  CHECK(out.relayed.empty());  // and it is not passed on either
  CHECK(g.buried() == 1);

  // A reply in name order: 3's record first, then 4's, which lists 3 (3 is back, via 4).
  g.on_neighbor(2, updates_of({rec(3, 4, {4}), rec(4, 1, {1, 3})}), 7000);
  CHECK(t.find(3) != nullptr);
  CHECK(t.find(4) != nullptr);
  CHECK(sorted(out.relayed) == std::vector<PeerName>{3, 4});
  CHECK(g.buried() == 1);
}

namespace {
// Two TopologyGossip ends joined back to back: neighbour messages queue until pumped.
struct Pair {
  struct End : weft::GossipSender {
    std::deque<weft::Bytes>* out;
    size_t* summary_entries;
    End(std::deque<weft::Bytes>* o, size_t* s) : out(o), summary_entries(s) {}
    void send_neighbor(std::string_view, PeerName, weft::ByteView b) override {
      weft::TopologyMessage m = weft::decode_topology_message(b);
      if (m.kind == weft::TopologyMessage::kSummary) *summary_entries += m.summary.size();
      out->emplace_back(b.begin(), b.end());
    }
    void send_unicast(std::string_view, PeerName, weft::ByteView) override {}
    void broadcast(std::string_view, weft::ByteView) override {}
  };
  std::deque<weft::Bytes> to_a, to_b;
  size_t summary_entries = 0;
  End from_a{&to_b, &summary_entries}, from_b{&to_a, &summary_entries};
  int messages = 0;

  void pump(weft::TopologyGossip& a, PeerName a_name, weft::TopologyGossip& b, PeerName b_name) {
    while (!to_a.empty() || !to_b.empty()) {
      for (auto* q : {&to_a, &to_b}) {
        if (q->empty()) continue;
        weft::Bytes m = q->front();
        q->pop_front();
        ++messages;
        if (q == &to_a)
          a.on_neighbor(b_name, m, 10'000);
        else
          b.on_neighbor(a_name, m, 10'000);
      }
    }
  }
};
}  // namespace

TEST_CASE("gossip repair: bucket digests, then summaries of the differing buckets only") {
  // 1 and 2 are neighbours; both know 400 more peers (all connected to 1), but 2 holds an
  // older version of one of them and 1 lacks another.
  std::vector<PeerName> edges_of_1{2};
  std::vector<PeerRecord> others;
  for (PeerName n = 10; n < 410; ++n) {
    others.push_back(rec(n, 3, {1}));
    edges_of_1.push_back(n);
  }
  PeerRecord r1 = rec(1, 2, edges_of_1), r2 = rec(2, 2, {1});
  Topology t1(r1), t2(r2);
  REQUIRE(t1.apply(weft::full_update(r2), 0) == Applied::kApplied);
  REQUIRE(t2.apply(weft::full_update(r1), 0) == Applied::kApplied);
  for (size_t i = 0; i < others.size(); ++i) {
    PeerRecord r = others[i];
    if (i != 7) REQUIRE(t1.apply(weft::full_update(r), 0) == Applied::kApplied);
    if (i == 5) r.version = 2;
    REQUIRE(t2.apply(weft::full_update(r), 0) == Applied::kApplied);
  }
  t1.rebuild();
  t2.rebuild();
  REQUIRE(t1.digest() != t2.digest());

  Pair wire;
  weft::TopologyGossip g1(t1, wire.from_a), g2(t2, wire.from_b);
  g2.on_gossip_tick(1, 10'000);  // 2 sends 1 its digest
  wire.pump(g1, 1, g2, 2);
  CHECK(t1.digest() == t2.digest());
  CHECK(t2.find(others[5].name)->version == 3);
  CHECK(t1.find(others[7].name) != nullptr);
  // digest, bucket digests, summary, records + summary, records: 6 messages. The summaries list
  // the two differing buckets (about 2 x 402 / 64 records each way), not all 402 records.
  CHECK(wire.messages == 6);
  CHECK(wire.summary_entries < 2 * 402 / 8);
  CHECK(wire.summary_entries > 0);
}

TEST_CASE("gossip: records learned in a reply are relayed in one message per neighbour") {
  Topology t(rec(1, 1, {2}));
  CapturingSender out;
  out.targets = {5, 6};
  weft::TopologyGossip g(t, out);
  std::vector<PeerRecord> news;
  for (PeerName n = 10; n < 60; ++n) news.push_back(rec(n, 1, {2}));
  g.on_neighbor(2, updates_of(news), 0);
  CHECK(out.relayed.size() == news.size());  // each record asked where to go
  CHECK(out.neighbor_messages == 2);         // but one message for each of 5 and 6
}
