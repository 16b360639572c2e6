#include "router/mesh/topology_gossip.h"

#include <algorithm>
#include <map>
#include <unordered_set>

namespace weft {

void TopologyGossip::send(PeerName to, const TopologyMessage& m) {
  Bytes b = encode_topology_message(m);
  send_.send_neighbor(kChannel, to, b);
}

void TopologyGossip::send_digest(PeerName to) {
  TopologyMessage m;
  m.kind = TopologyMessage::kDigest;
  m.digest = topo_.digest();
  m.peer_count = static_cast<uint32_t>(topo_.size());
  send(to, m);
}

void TopologyGossip::send_summary(PeerName to, TopologyMessage::Mode mode, uint64_t buckets) {
  TopologyMessage s;
  s.kind = TopologyMessage::kSummary;
  s.summary = topo_.summary(buckets);
  s.mode = mode;
  s.buckets = buckets;
  send(to, s);
}

void TopologyGossip::send_bucket_digests(PeerName to) {
  TopologyMessage m;
  m.kind = TopologyMessage::kBuckets;
  m.bucket_digests.assign(topo_.bucket_digests().begin(), topo_.bucket_digests().end());
  send(to, m);
}

void TopologyGossip::publish(const PeerUpdate& delta) {
  TopologyMessage m;
  m.kind = TopologyMessage::kUpdates;
  m.updates.push_back(delta);
  Bytes b = encode_topology_message(m);
  send_.broadcast(kChannel, b);
}

namespace {
// Would applying u to cur (our record of the same peer, if any) take edges away?
bool drops_edges(const PeerRecord* cur, const PeerUpdate& u) {
  if (!cur) return false;
  if (!u.is_full()) return !u.removals.empty();
  if (cur->edges.size() > u.upserts.size()) return true;
  std::unordered_set<PeerName> kept;
  for (const auto& [peer, e] : u.upserts) kept.insert(peer);
  for (const auto& [peer, e] : cur->edges)
    if (!kept.count(peer)) return true;
  return false;
}
}  // namespace

std::vector<TopologyGossip::Applied> TopologyGossip::apply_all(
    const std::vector<PeerUpdate>& updates, PeerName from, int64_t now_ms) {
  std::vector<Applied> applied;
  TopologyMessage req;
  req.kind = TopologyMessage::kRequest;
  std::vector<const PeerUpdate*> buried;
  for (const PeerUpdate& u : updates) {
    bool drops = drops_edges(topo_.find(u.name), u);
    switch (topo_.apply(u, now_ms)) {
      case Topology::Applied::kApplied:
        applied.push_back({&u, drops});
        break;
      case Topology::Applied::kGap:
        // Not relayed: a peer missing the base would relay every later delta too. Downstream
        // peers see the next delta as a gap themselves, or repair by anti-entropy.
        ++gaps_;
        req.request.push_back(u.name);
        break;
      case Topology::Applied::kBuried:
        buried.push_back(&u);
        break;
      case Topology::Applied::kStale:
      case Topology::Applied::kRejected:
        break;
    }
  }
  // Replies list records in name order, so one that lists a buried peer again (making it news)
  // may come after it in the same message.
  for (const PeerUpdate* u : buried) {
    if (topo_.apply(*u, now_ms) == Topology::Applied::kApplied)
      applied.push_back({u, false});
    else
      ++buried_;
  }
  if (!req.request.empty()) send(from, req);
  if (!applied.empty()) last_news_ms_ = now_ms;
  return applied;
}

void TopologyGossip::relay(PeerName from, const std::vector<Applied>& applied) {
  // Each record goes where a broadcast of it would, but all the records bound for one neighbour
  // travel in one neighbour message (which the neighbour relays the same way): a heal makes
  // hundreds of records news at once, and one message per record and link was most of its cost.
  std::map<PeerName, TopologyMessage> batches;
  for (const Applied& a : applied) {
    GossipRelay how = a.drops_edges ? GossipRelay::kFlood : GossipRelay::kAlongTree;
    for (PeerName to : send_.relay_targets(a.update->name, from, how)) {
      TopologyMessage& m = batches[to];
      m.kind = TopologyMessage::kUpdates;
      m.updates.push_back(*a.update);
    }
  }
  for (const auto& [to, m] : batches) send(to, m);
}

bool TopologyGossip::on_broadcast(PeerName src, PeerName from, ByteView payload, int64_t now_ms) {
  TopologyMessage m = decode_topology_message(payload);
  if (m.kind != TopologyMessage::kUpdates) throw DecodeError("unexpected topology broadcast");
  std::vector<Applied> applied = apply_all(m.updates, from, now_ms);
  // A record that lost edges usually means a peer left, and trees from the last route
  // computation may still run through it, so the peers beyond it would miss the news until
  // anti-entropy finds it, rounds later. Such news is flooded instead (still once per version).
  bool flood = false;
  for (const Applied& a : applied) flood = flood || a.drops_edges;
  if (!flood) return !applied.empty();
  if (applied.size() == 1 && applied[0].update->name == src) {
    send_.relay_broadcast(kChannel, src, from, payload, GossipRelay::kFlood);
  } else {
    relay(from, applied);  // not one peer's own broadcast: each record goes its own way
  }
  return false;
}

void TopologyGossip::on_neighbor(PeerName from, ByteView payload, int64_t now_ms) {
  TopologyMessage m = decode_topology_message(payload);
  switch (m.kind) {
    case TopologyMessage::kUpdates: {
      // Records that reached us in a neighbour's reply (a join or a repair) are news others
      // may lack too, typically a newcomer's own record: pass each on along its owner's tree.
      relay(from, apply_all(m.updates, from, now_ms));
      return;
    }
    case TopologyMessage::kDigest:
      if (m.digest != topo_.digest() && now_ms - last_news_ms_ >= kSettleMs)
        send_bucket_digests(from);
      return;
    case TopologyMessage::kBuckets:
      // Only the buckets that differ are summarised: a repair costs O(difference), not O(peers).
      if (uint64_t differ = topo_.differing_buckets(m.bucket_digests))
        send_summary(from, TopologyMessage::kRepair, differ);
      return;
    case TopologyMessage::kSummary: {
      // Their entries by name (a sorted vector: a hash map of 200 entries per summary was a
      // large share of what a full mesh's joins cost). Duplicate names: the last one counts.
      std::vector<const SummaryEntry*> theirs;
      theirs.reserve(m.summary.size());
      for (const auto& e : m.summary) theirs.push_back(&e);
      auto by_name = [](const SummaryEntry* a, const SummaryEntry* b) { return a->name < b->name; };
      std::stable_sort(theirs.begin(), theirs.end(), by_name);
      TopologyMessage upd;
      upd.kind = TopologyMessage::kUpdates;
      for (const auto& [name, rec] : topo_.records()) {
        if (!Topology::in_buckets(name, m.buckets)) continue;  // not compared this time
        // A peer unreachable in our view is on its way out (garbage collection): passing its
        // record on would resurrect it where it was already forgotten, over and over.
        if (name != topo_.self() && !topo_.reachable(name)) continue;
        auto it = std::upper_bound(theirs.begin(), theirs.end(), name,
                                   [](PeerName n, const SummaryEntry* e) { return n < e->name; });
        const SummaryEntry* t =
            it != theirs.begin() && (*std::prev(it))->name == name ? *std::prev(it) : nullptr;
        bool lacks = !t || t->incarnation < rec.incarnation;
        bool older = t && newer(rec.incarnation, rec.version, t->incarnation, t->version);
        if (lacks || (older && m.mode != TopologyMessage::kJoin))
          upd.updates.push_back(full_update(rec));
      }
      if (!upd.updates.empty()) send(from, upd);
      if (m.mode == TopologyMessage::kRepair)
        send_summary(from, TopologyMessage::kRepairReply, m.buckets);
      return;
    }
    case TopologyMessage::kRequest: {
      TopologyMessage upd;
      upd.kind = TopologyMessage::kUpdates;
      for (PeerName n : m.request)
        if (const PeerRecord* r = topo_.find(n)) upd.updates.push_back(full_update(*r));
      if (!upd.updates.empty()) send(from, upd);
      return;
    }
  }
}

void TopologyGossip::on_neighbor_up(PeerName peer, int64_t) {
  send_summary(peer, TopologyMessage::kJoin, kAllBuckets);
}

void TopologyGossip::on_gossip_tick(PeerName neighbor, int64_t) {
  send_digest(neighbor);
}

}  // namespace weft
