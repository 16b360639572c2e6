#include "router/mesh/topology.h"

#include <algorithm>
#include <deque>
#include <functional>

namespace weft {

namespace {
// A well-mixed 64-bit hash of a record's identity and version.
uint64_t record_hash(const PeerRecord& r) {
  return mix64(r.name ^ mix64(r.incarnation ^ mix64(r.version)));
}
}  // namespace

Topology::Topology(PeerRecord self) : self_(self.name) {
  if (self.version == 0) self.version = 1;
  digest_add(self);
  records_.emplace(self_, std::move(self));
}

void Topology::digest_add(const PeerRecord& r) {
  uint64_t h = record_hash(r);
  digest_ += h;
  buckets_[digest_bucket(r.name)] += h;
}
void Topology::digest_remove(const PeerRecord& r) {
  uint64_t h = record_hash(r);
  digest_ -= h;
  buckets_[digest_bucket(r.name)] -= h;
}

const PeerRecord* Topology::find(PeerName p) const {
  auto it = records_.find(p);
  return it == records_.end() ? nullptr : &it->second;
}

bool Topology::connected(PeerName a, PeerName b) const {
  const PeerRecord* ra = find(a);
  const PeerRecord* rb = find(b);
  return ra && rb && ra->edges.count(b) && rb->edges.count(a);
}

void Topology::replace(PeerRecord r, int64_t now_ms) {
  auto it = records_.find(r.name);
  if (it != records_.end()) digest_remove(it->second);
  digest_add(r);
  updated_at_[r.name] = now_ms;
  PeerName n = r.name;
  if (it == records_.end())
    members_changed_ = true;
  else
    changed_.push_back(n);
  records_[n] = std::move(r);
  dirty_ = true;
  note_changed(n);
}

void Topology::edit(PeerRecord& r, const PeerUpdate& u, int64_t now_ms) {
  digest_remove(r);
  for (const auto& [p, e] : u.upserts) r.edges[p] = e;
  for (PeerName p : u.removals) r.edges.erase(p);
  r.nickname = u.nickname;
  r.version = u.version;
  r.port = u.port;
  digest_add(r);
  updated_at_[r.name] = now_ms;
  dirty_ = true;
  changed_.push_back(r.name);
  note_changed(r.name);
}

void Topology::note_changed(PeerName p) {
  const PeerRecord& me = own();
  if (p == self_) {
    neighbors_.clear();
    for (const auto& [peer, e] : me.edges) {
      const PeerRecord* r = find(peer);
      if (r && r->edges.count(self_)) neighbors_.push_back(peer);
    }
    return;
  }
  const PeerRecord* r = find(p);
  bool now = r && me.edges.count(p) && r->edges.count(self_);
  auto at = std::lower_bound(neighbors_.begin(), neighbors_.end(), p);
  bool was = at != neighbors_.end() && *at == p;
  if (now && !was) neighbors_.insert(at, p);
  if (!now && was) neighbors_.erase(at);
}

Topology::Applied Topology::apply(const PeerUpdate& u, int64_t now_ms) {
  if (u.name == self_) return Applied::kRejected;
  const PeerRecord* cur = find(u.name);
  if (cur && !newer(u.incarnation, u.version, cur->incarnation, cur->version))
    return Applied::kStale;
  if (!cur && buried(u)) return Applied::kBuried;
  if (u.is_full()) {
    PeerRecord next;
    next.edges.insert(u.upserts.begin(), u.upserts.end());
    next.name = u.name;
    next.nickname = u.nickname;
    next.incarnation = u.incarnation;
    next.version = u.version;
    next.port = u.port;
    replace(std::move(next), now_ms);
  } else {
    if (!cur || cur->incarnation != u.incarnation || cur->version != u.base_version)
      return Applied::kGap;
    edit(records_.at(u.name), u, now_ms);
  }
  tombstones_.erase(u.name);
  return Applied::kApplied;
}

bool Topology::buried(const PeerUpdate& u) const {
  auto t = tombstones_.find(u.name);
  if (t == tombstones_.end() ||
      newer(u.incarnation, u.version, t->second.incarnation, t->second.version))
    return false;
  // Someone connected to it again (perhaps what made it unreachable for us was elsewhere).
  for (const auto& [name, r] : records_)
    if (r.edges.count(u.name)) return false;
  return true;
}

PeerUpdate Topology::change_own(const std::function<void(PeerRecord&)>& edit) {
  PeerRecord before = own();
  PeerRecord after = before;
  edit(after);
  after.version = before.version + 1;
  PeerUpdate delta = delta_update(before, after);
  replace(std::move(after), 0);
  return delta;
}

PeerUpdate Topology::add_own_edge(PeerName peer, Edge e) {
  return change_own([&](PeerRecord& r) { r.edges[peer] = std::move(e); });
}

PeerUpdate Topology::remove_own_edge(PeerName peer) {
  return change_own([&](PeerRecord& r) { r.edges.erase(peer); });
}

std::vector<SummaryEntry> Topology::summary(uint64_t buckets) const {
  std::vector<SummaryEntry> s;
  for (const auto& [n, r] : records_)
    if (in_buckets(n, buckets)) s.push_back({n, r.incarnation, r.version});
  return s;
}

uint64_t Topology::differing_buckets(const std::vector<uint64_t>& theirs) const {
  uint64_t mask = 0;
  for (int b = 0; b < kDigestBuckets; ++b)
    if (static_cast<size_t>(b) >= theirs.size() || theirs[b] != buckets_[b]) mask |= 1ull << b;
  return mask;
}

void Topology::fill_row(size_t i, const PeerRecord& r) {
  // A search in the sorted names_, resumed where the last one ended: cheaper than hashing
  // every edge, which a 200-peer full mesh's 40,000 edges made most of a rebuild's cost.
  std::vector<int>& row = out_[i];
  row.clear();
  row.reserve(r.edges.size());
  auto from = names_.begin();
  for (const auto& [peer, e] : r.edges) {
    from = std::lower_bound(from, names_.end(), peer);
    if (from == names_.end()) break;
    if (*from == peer) row.push_back(static_cast<int>(from - names_.begin()));
  }
}

void Topology::rebuild() {
  // Directed edges first, as index lists (out_). records_ and edges are both maps ordered by
  // name and indices follow name order, so each list comes out sorted, and every derived choice
  // (parents, next hops) is deterministic. While the set of records stays the same, indices do
  // too, and only the rows of records that changed are redone.
  if (members_changed_) {
    names_.clear();
    index_.clear();
    for (const auto& [n, r] : records_) {
      index_[n] = static_cast<int>(names_.size());
      names_.push_back(n);
    }
    out_.assign(names_.size(), {});
    size_t i = 0;
    for (const auto& [n, r] : records_) fill_row(i++, r);
  } else {
    std::sort(changed_.begin(), changed_.end());
    changed_.erase(std::unique(changed_.begin(), changed_.end()), changed_.end());
    for (PeerName p : changed_) fill_row(index_.at(p), records_.at(p));
  }
  members_changed_ = false;
  changed_.clear();
  const std::vector<std::vector<int>>& out = out_;
  // An edge counts only when both ends list it: each pair is looked at once, from its lower
  // end. adj_[v] comes out sorted: its lower neighbours are added first, in order, while their
  // rows are scanned, then its higher ones from its own row. (Cleared, not reallocated.)
  adj_.resize(names_.size());
  for (auto& a : adj_) a.clear();
  for (size_t v = 0; v < names_.size(); ++v)
    for (int w : out[v])
      if (w >= static_cast<int>(v) &&
          std::binary_search(out[w].begin(), out[w].end(), static_cast<int>(v))) {
        adj_[v].push_back(w);
        if (w != static_cast<int>(v)) adj_[w].push_back(static_cast<int>(v));
      }
  trees_.clear();
  const Tree& t = tree_from(index_.at(self_));
  dist_ = t.dist;
  // next hop = the child of self on the path: walk parents up to self.
  next_hop_.assign(names_.size(), -1);
  std::vector<int> order(names_.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
  std::sort(order.begin(), order.end(), [&](int a, int b) { return dist_[a] < dist_[b]; });
  for (int v : order) {
    if (dist_[v] <= 0) continue;
    next_hop_[v] = dist_[v] == 1 ? v : next_hop_[t.parent[v]];
  }
  dirty_ = false;
}

const Topology::Tree& Topology::tree_from(int src) {
  auto it = trees_.find(src);
  if (it != trees_.end()) return it->second;
  Tree t;
  size_t n = names_.size();
  t.dist.assign(n, -1);
  t.parent.assign(n, -1);
  std::deque<int> q;
  t.dist[src] = 0;
  q.push_back(src);
  while (!q.empty()) {
    int v = q.front();
    q.pop_front();
    for (int w : adj_[v])
      if (t.dist[w] < 0) {
        t.dist[w] = t.dist[v] + 1;
        q.push_back(w);
      }
  }
  // Canonical parent: the lowest-named neighbour one hop closer to the source. Every peer with
  // the same view picks the same tree, so each broadcast reaches each peer once.
  for (size_t v = 0; v < n; ++v) {
    if (t.dist[v] <= 0) continue;
    for (int w : adj_[v])
      if (t.dist[w] == t.dist[v] - 1) {
        t.parent[v] = w;
        break;
      }
  }
  return trees_.emplace(src, std::move(t)).first->second;
}

std::optional<PeerName> Topology::next_hop(PeerName dst) const {
  auto it = index_.find(dst);
  if (it == index_.end() || it->second >= static_cast<int>(next_hop_.size()) ||
      next_hop_[it->second] < 0)
    return std::nullopt;
  return names_[next_hop_[it->second]];
}

std::optional<int> Topology::hops(PeerName dst) const {
  auto it = index_.find(dst);
  if (it == index_.end() || it->second >= static_cast<int>(dist_.size()) || dist_[it->second] < 0)
    return std::nullopt;
  return dist_[it->second];
}

bool Topology::reachable(PeerName p) const {
  return hops(p).has_value();
}

std::vector<PeerName> Topology::broadcast_children(PeerName src, bool without_tree) {
  std::vector<PeerName> out;
  const PeerRecord& me = own();
  if (src == self_) {
    // The root's children are all its neighbours (each is one hop from it).
    for (const auto& [peer, e] : me.edges)
      if (connected(self_, peer)) out.push_back(peer);
    return out;
  }
  // Answer from the last rebuild even if the view changed since (see the header).
  auto si = index_.find(src);
  auto mi = index_.find(self_);
  // A source too new to have a tree in the last rebuild (typically a peer that just joined,
  // whose own first update this is): relay to the neighbours its record does not reach
  // directly. Each peer relays a given update once at most (only when it was news), so this
  // cannot loop.
  auto relay_without_tree = [&] {
    if (!without_tree) return out;
    for (const auto& [peer, e] : me.edges)
      if (peer != src && connected(self_, peer) && !connected(src, peer)) out.push_back(peer);
    return out;
  };
  if (si == index_.end() || mi == index_.end()) return relay_without_tree();
  // Fast path for dense meshes: when every neighbour of ours is the source or one of its
  // neighbours, nobody needs us to relay, and no tree has to be computed.
  const std::vector<int>& src_adj = adj_[si->second];
  bool all_covered = true;
  for (int w : adj_[mi->second]) {
    if (w == si->second) continue;
    if (!std::binary_search(src_adj.begin(), src_adj.end(), w)) {
      all_covered = false;
      break;
    }
  }
  if (all_covered) return out;
  const Tree& t = tree_from(si->second);
  if (t.dist[mi->second] < 0) return relay_without_tree();
  for (int w : adj_[mi->second])
    if (t.parent[w] == mi->second) out.push_back(names_[w]);
  return out;
}

const Topology::Tree* Topology::tree_through_us(PeerName src) {
  auto si = index_.find(src);
  auto mi = index_.find(self_);
  if (si == index_.end() || mi == index_.end()) return nullptr;
  const Tree& t = tree_from(si->second);
  return t.dist[mi->second] < 0 ? nullptr : &t;
}

std::vector<PeerName> Topology::current_neighbors_but(PeerName src, PeerName from,
                                                      const PeerRecord* listed_by) const {
  // neighbors_ and listed_by's edges are both in name order: one merged walk.
  std::vector<PeerName> out;
  auto listed = listed_by ? listed_by->edges.begin() : std::map<PeerName, Edge>::const_iterator();
  for (PeerName peer : neighbors_) {
    if (peer == src || peer == from) continue;
    if (listed_by) {
      while (listed != listed_by->edges.end() && listed->first < peer) ++listed;
      if (listed != listed_by->edges.end() && listed->first == peer) continue;
    }
    out.push_back(peer);
  }
  return out;
}

std::vector<PeerName> Topology::gossip_children(PeerName src, PeerName from, GossipRelay how) {
  if (src == self_) return current_neighbors_but(self_, from);
  const PeerRecord* src_rec = find(src);
  auto lists = [](const PeerRecord* r, PeerName p) { return r && r->edges.count(p) > 0; };
  std::vector<PeerName> out = current_neighbors_but(src, from, src_rec);
  if (out.empty()) return out;  // src reaches every neighbour of ours itself
  if (how == GossipRelay::kAlongTree) {
    // Answer from the last rebuild even if the view changed since (see the header).
    if (const Tree* t = tree_through_us(src)) {
      int me = index_.at(self_);
      std::vector<PeerName> children;
      for (int w : adj_[me])
        if (t->parent[w] == me && names_[w] != from && !lists(src_rec, names_[w]))
          children.push_back(names_[w]);
      return children;
    }
  }
  const PeerRecord* from_rec = from == src ? nullptr : find(from);
  std::erase_if(out, [&](PeerName p) { return lists(from_rec, p); });
  return out;
}

std::vector<PeerName> Topology::collect_garbage(int64_t now_ms, int64_t grace_ms,
                                                int64_t tombstone_ms) {
  std::erase_if(tombstones_,
                [&](const auto& t) { return now_ms - t.second.collected_ms >= tombstone_ms; });
  std::vector<PeerName> removed;
  for (auto it = records_.begin(); it != records_.end();) {
    PeerName n = it->first;
    auto ix = index_.find(n);
    bool known_unreachable =
        ix != index_.end() && ix->second < static_cast<int>(dist_.size()) && dist_[ix->second] < 0;
    bool unindexed = ix == index_.end();
    auto up = updated_at_.find(n);
    bool old = up == updated_at_.end() || now_ms - up->second >= grace_ms;
    if (n != self_ && (known_unreachable || unindexed) && old) {
      digest_remove(it->second);
      updated_at_.erase(n);
      tombstones_[n] = {it->second.incarnation, it->second.version, now_ms};
      removed.push_back(n);
      it = records_.erase(it);
      dirty_ = true;
      members_changed_ = true;
      note_changed(n);
    } else {
      ++it;
    }
  }
  return removed;
}

}  // namespace weft
