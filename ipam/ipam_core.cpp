#include "ipam/ipam_core.h"

#include <algorithm>
#include <stdexcept>

#include "ipam/name_list.h"

namespace weft::ipam {

bool published_free_close(uint64_t published, uint64_t actual) {
  if (published == actual) return true;
  if (published == 0 || actual == 0) return false;
  uint64_t diff = published > actual ? published - actual : actual - published;
  return diff * 8 < published;
}

std::string InitMode::to_string() const {
  switch (kind) {
    case Kind::kConsensus:
      return "consensus=" + std::to_string(quorum);
    case Kind::kObserver:
      return "observer";
    case Kind::kSeed: {
      std::string s = "seed=";
      for (size_t i = 0; i < seeds.size(); ++i) s += (i ? "," : "") + seeds[i];
      return s;
    }
  }
  return "";
}

InitMode parse_init_mode(std::string_view s) {
  InitMode m;
  auto bad = [&](const std::string& why) {
    return std::invalid_argument("--ipalloc-init " + std::string(s) + ": " + why +
                                 " (expected consensus=N, seed=NAME,NAME... or observer)");
  };
  if (s == "observer") {
    m.kind = InitMode::Kind::kObserver;
    return m;
  }
  if (s.starts_with("consensus=")) {
    std::string n(s.substr(10));
    if (n.empty() || n.size() > 4 || !std::all_of(n.begin(), n.end(), ::isdigit) ||
        std::stoi(n) < 1)
      throw bad("the peer count must be a whole number from 1 to 9999");
    m.quorum = std::stoi(n);
    return m;
  }
  if (s.starts_with("seed=")) {
    m.kind = InitMode::Kind::kSeed;
    std::string_view rest = s.substr(5);
    while (!rest.empty()) {
      size_t c = rest.find(',');
      std::string_view one = rest.substr(0, c);
      if (one.empty()) throw bad("empty peer name");
      m.seeds.emplace_back(one);
      rest = c == std::string_view::npos ? std::string_view{} : rest.substr(c + 1);
    }
    if (m.seeds.empty()) throw bad("no seed peers given");
    return m;
  }
  throw bad("unknown mode");
}

IpamCore::IpamCore(IpamConfig cfg, GossipSender& gossip, IpamEnv& env, IpamStore& store,
                   IpamState loaded)
    : cfg_(std::move(cfg)), gossip_(gossip), env_(env), store_(store), rng_(cfg_.self) {
  cfg_.range.addr = cfg_.range.network();
  if (!loaded.ring.empty() && !(loaded.ring.range() == cfg_.range))
    throw std::invalid_argument("the saved IPAM state is for the range " +
                                loaded.ring.range().to_string() + ", not " +
                                cfg_.range.to_string());
  state_ = std::move(loaded);
  if (state_.ring.empty()) state_.ring = Ring(cfg_.range);
  for (const auto& [a, h] : state_.allocations.by_address())
    if (!cfg_.range.contains(a))
      throw std::invalid_argument("the saved IPAM state allocates " + format_ipv4(a) +
                                  ", outside the range " + cfg_.range.to_string());
}

void IpamCore::start(int64_t now_ms) {
  my_proposal_.since = cfg_.started_unix_ms;
  my_proposal_.quorum = uint16_t(cfg_.init.quorum);
  if (state_.ring.empty()) {
    log(Severity::kInfo, "no ring yet; bootstrap: " + cfg_.init.to_string());
    next_proposal_at_ = now_ms;
    on_timer(now_ms);
  } else if (refresh_free()) {
    save();
    schedule_publish(now_ms, false);
  }
}

// --- helpers

std::map<PeerName, PeerInfo> IpamCore::view() {
  std::map<PeerName, PeerInfo> out;
  for (auto& p : env_.peers()) {
    if (!p.nickname.empty()) nicknames_[p.name] = p.nickname;
    out[p.name] = std::move(p);
  }
  return out;
}

std::string IpamCore::describe(PeerName p) {
  auto it = nicknames_.find(p);
  std::string n = format_peer_name(p);
  return it == nicknames_.end() ? n : n + "(" + it->second + ")";
}

void IpamCore::send(PeerName to, const Message& m, bool neighbor) {
  Bytes b = encode(m);
  if (neighbor)
    gossip_.send_neighbor(kChannel, to, b);
  else
    gossip_.send_unicast(kChannel, to, b);
}

void IpamCore::broadcast(const Message& m) {
  gossip_.broadcast(kChannel, encode(m));
}

bool IpamCore::save() {
  save_at_ = -1;
  try {
    store_.save(state_);
    return true;
  } catch (const std::exception& e) {
    ++counters_.store_failures;
    log(Severity::kError, std::string("cannot save the IPAM state: ") + e.what());
    return false;
  }
}

bool IpamCore::refresh_free() {
  bool changed = false;
  const Ring& r = state_.ring;
  std::vector<std::pair<uint32_t, uint32_t>> updates;
  for (const auto& [start, t] : r.tokens()) {
    if (t.owner != cfg_.self) continue;
    auto f = uint32_t(state_.allocations.free_in(r.span_of(start), cfg_.range));
    if (!published_free_close(t.free, f)) updates.emplace_back(start, f);
  }
  for (auto [start, f] : updates) {
    // Running out, or having space again, decides whether others call the range full: that
    // goes out as fast as an ownership change.
    if ((state_.ring.tokens().at(start).free == 0) != (f == 0)) free_crossed_zero_ = true;
    state_.ring.set_free(cfg_.self, start, f);
    changed = true;
  }
  return changed;
}

void IpamCore::schedule_publish(int64_t now_ms, bool ownership) {
  // Ownership changes travel fast; free counts are hints for choosing donors and can wait for
  // a batch (otherwise every allocation anywhere would cost a broadcast to every peer).
  bool fast = ownership || free_crossed_zero_;
  free_crossed_zero_ = false;
  int64_t at = now_ms + (fast ? cfg_.publish_delay_ms : cfg_.free_publish_delay_ms);
  if (publish_at_ < 0 || at < publish_at_) publish_at_ = at;
}

void IpamCore::save_soon(int64_t now_ms) {
  if (save_at_ < 0) save_at_ = now_ms + cfg_.publish_delay_ms;
}

// --- allocation

void IpamCore::allocate(const std::string& holder, int64_t now_ms, AllocDone done) {
  pending_.push_back({holder, std::nullopt, now_ms + cfg_.wait_timeout_ms, std::move(done)});
  serve_pending(now_ms);
}

void IpamCore::claim(const std::string& holder, uint32_t addr, int64_t now_ms, AllocDone done) {
  if (!cfg_.range.contains(addr)) {
    done({AllocError::kOutOfRange, addr,
          format_ipv4(addr) + " is outside the overlay range " + cfg_.range.to_string()});
    return;
  }
  if (reserved_address(cfg_.range, addr)) {
    done({AllocError::kOutOfRange, addr,
          format_ipv4(addr) + " is the " +
              (addr == cfg_.range.network() ? "network" : "broadcast") +
              " address of the overlay range " + cfg_.range.to_string() +
              " and cannot be given to a workload"});
    return;
  }
  pending_.push_back({holder, addr, now_ms + cfg_.wait_timeout_ms, std::move(done)});
  serve_pending(now_ms);
}

std::vector<uint32_t> IpamCore::release(const std::string& holder, int64_t now_ms,
                                        std::optional<uint32_t> only) {
  std::vector<uint32_t> freed;
  if (!only) {
    freed = state_.allocations.remove_holder(holder);
  } else if (const std::string* h = state_.allocations.holder_of(*only); h && *h == holder) {
    state_.allocations.remove(*only);
    freed.push_back(*only);
  }
  if (freed.empty()) return freed;
  counters_.releases += freed.size();
  // An address we held outside our own space (a lost re-claim) is simply forgotten.
  refresh_free();
  save();
  schedule_publish(now_ms, false);
  for (uint32_t a : freed) conflicts_.erase(a);
  return freed;
}

std::vector<std::string> IpamCore::conflicts() const {
  std::vector<std::string> out;
  for (const auto& [a, text] : conflicts_) out.push_back(text);
  return out;
}

void IpamCore::report_conflict(uint32_t addr, const std::string& text) {
  if (!conflicts_.emplace(addr, text).second) return;
  ++counters_.conflicts_found;
  log(Severity::kError, text);
}

bool IpamCore::reclaim_foreign(int64_t now_ms) {
  std::set<uint32_t> asking;
  for (const Pending& p : pending_)
    if (p.reclaim) asking.insert(*p.address);
  std::vector<Pending> found;
  for (const auto& [a, h] : state_.allocations.by_address())
    if (state_.ring.owner_of(a) != cfg_.self && !asking.count(a) && !conflicts_.count(a))
      found.push_back({h, a, now_ms + cfg_.wait_timeout_ms, nullptr, true});
  if (found.empty()) return false;
  counters_.reclaims += found.size();
  log(Severity::kWarn, std::to_string(found.size()) +
                           " address(es) in use here lie in space another peer took over while "
                           "this host was away (`weft rmpeer`, or an earlier bootstrap); asking "
                           "for them back");
  for (Pending& p : found) pending_.push_back(std::move(p));
  return true;
}

bool IpamCore::commit(const std::string& holder, uint32_t addr, AllocResult& result) {
  state_.allocations.add(addr, holder);
  refresh_free();
  if (!save()) {
    state_.allocations.remove(addr);
    refresh_free();
    result = {AllocError::kStore, 0,
              "the router cannot save its IPAM state (see its log); nothing was allocated"};
    return true;
  }
  ++counters_.allocations;
  result = {AllocError::kNone, addr, ""};
  return true;
}

bool IpamCore::try_serve(Pending& p, int64_t now_ms, AllocResult& result, bool& need_space) {
  const Ring& ring = state_.ring;
  if (ring.empty()) return false;  // waiting for bootstrap
  if (!p.address) {
    auto have = state_.allocations.of(p.holder);
    if (!have.empty()) {
      result = {AllocError::kNone, have.front(), ""};
      return true;
    }
    int64_t hold_until = INT64_MAX;
    std::vector<Span> held = held_back(now_ms, &hold_until);
    auto spans = without(ring.owned_by(cfg_.self), held);
    for (bool fussy : {true, false})
      for (const Span& s : spans)
        if (auto a = state_.allocations.first_free(s, cfg_.range, fussy))
          return commit(p.holder, *a, result);
    if (!held.empty()) {
      // Only space a returning peer may still be re-claiming from is free: wait for it.
      for (const Span& s : ring.owned_by(cfg_.self))
        if (state_.allocations.free_in(s, cfg_.range) > 0) {
          if (space_retry_at_ < 0 || hold_until < space_retry_at_) space_retry_at_ = hold_until;
          return false;
        }
    }
    need_space = true;
    return false;
  }
  uint32_t addr = *p.address;
  const std::string* holder = state_.allocations.holder_of(addr);
  auto owner = ring.owner_of(addr);
  if (owner == cfg_.self) {
    if (holder && *holder == p.holder) {
      result = {AllocError::kNone, addr, ""};
      return true;
    }
    if (holder) {
      result = {AllocError::kInUse, addr,
                format_ipv4(addr) + " is already in use by " + *holder + " on this host"};
      return true;
    }
    return commit(p.holder, addr, result);
  }
  if (holder && *holder != p.holder) {
    result = {AllocError::kInUse, addr,
              format_ipv4(addr) + " is already in use by " + *holder + " on this host"};
    return true;
  }
  auto v = view();
  auto it = v.find(*owner);
  if (it == v.end() || !it->second.reachable) {
    if (now_ms < p.deadline - cfg_.wait_timeout_ms + cfg_.request_timeout_ms) {
      space_retry_at_ = now_ms + cfg_.request_timeout_ms / 10;  // maybe no route yet
      return false;
    }
    result = {AllocError::kUnreachable, addr,
              format_ipv4(addr) + " belongs to the address space of peer " + describe(*owner) +
                  ", which is unreachable; if that host is gone for good, `weft rmpeer " +
                  format_peer_name(*owner) + "` gives its space to this host"};
    return true;
  }
  ask_for_address(addr, *owner, now_ms, p.reclaim);
  return false;
}

void IpamCore::serve_pending(int64_t now_ms) {
  bool need_space = false;
  std::vector<std::pair<AllocDone, AllocResult>> finished;
  for (size_t i = 0; i < pending_.size();) {
    AllocResult r;
    if (try_serve(pending_[i], now_ms, r, need_space)) {
      // An owner we cannot reach yet is asked again when a neighbour comes up or the ring
      // changes (reclaim_foreign); only a refusal or an error of this host is a conflict.
      if (pending_[i].reclaim && !r.ok() && r.error != AllocError::kStore &&
          r.error != AllocError::kUnreachable)
        report_conflict(
            *pending_[i].address,
            format_ipv4(*pending_[i].address) + " (" + pending_[i].holder +
                ") could not be re-claimed after another peer took it over: " + r.message +
                ". Give the workload a new address: " + renumber_hint(pending_[i].holder));
      finished.emplace_back(std::move(pending_[i].done), std::move(r));
      pending_.erase(pending_.begin() + long(i));
    } else {
      ++i;
    }
  }
  if (need_space) {
    bool asked = std::any_of(requests_.begin(), requests_.end(),
                             [](const auto& q) { return !q.second.address; });
    if (!asked && !ask_for_space(now_ms)) {
      // Space held by peers we cannot reach (yet: a peer that just joined has no routes for a
      // moment) is worth waiting for briefly; a range that is simply full is not.
      bool maybe_later = unreachable_free() > 0;
      std::string msg = full_message();
      for (size_t i = 0; i < pending_.size();) {
        bool young = now_ms < pending_[i].deadline - cfg_.wait_timeout_ms + cfg_.request_timeout_ms;
        if (maybe_later && young) {
          space_retry_at_ = now_ms + cfg_.request_timeout_ms / 10;
          ++i;
        } else if (!pending_[i].address && !state_.ring.empty()) {
          finished.emplace_back(std::move(pending_[i].done),
                                AllocResult{AllocError::kFull, 0, msg});
          pending_.erase(pending_.begin() + long(i));
        } else {
          ++i;
        }
      }
      tried_.clear();
    }
  }
  if (!finished.empty()) schedule_publish(now_ms, false);
  bool allocated =
      std::any_of(finished.begin(), finished.end(), [](const auto& f) { return f.second.ok(); });
  if (allocated && !need_space) top_up(now_ms);
  for (auto& [done, r] : finished)
    if (done) done(r);
}

uint64_t IpamCore::unreachable_free(std::vector<std::string>* who) {
  auto v = view();
  uint64_t total = 0;
  for (const auto& [owner, free] : state_.ring.free_by_owner()) {
    if (owner == cfg_.self || free == 0) continue;
    auto it = v.find(owner);
    if (it != v.end() && it->second.reachable) continue;
    total += free;
    if (who) who->push_back(describe(owner));
  }
  return total;
}

std::string IpamCore::full_message() {
  std::vector<std::string> gone;
  uint64_t unreachable = unreachable_free(&gone);
  std::string msg = "no free address: the overlay range " + cfg_.range.to_string() +
                    " is full (every reachable peer's space is allocated)";
  if (unreachable > 0)
    msg += "; " + std::to_string(unreachable) + " more are held by unreachable peers (" +
           join_names(gone) + "): if they are gone for good, `weft rmpeer NAME` reclaims them";
  else
    msg += "; release addresses with `weft detach`, or use a larger --ipalloc-range";
  return msg;
}

// --- gossip

bool IpamCore::absorb(const Ring& theirs, PeerName from, int64_t now_ms) {
  Ring& mine = state_.ring;
  bool was_empty = mine.empty();
  auto free_before = mine.free_by_owner();
  switch (mine.merge(theirs)) {
    case MergeResult::kUnchanged:
      return false;
    case MergeResult::kChanged:
      // A donor that refused us but has more space now is worth asking again at once.
      for (const auto& [owner, free] : mine.free_by_owner())
        if (free > free_before[owner]) tried_.erase(owner);
      if (was_empty) {
        ++counters_.rings_adopted;
        next_proposal_at_ = -1;
        std::vector<std::string> seeds;
        for (PeerName s : mine.seeds()) seeds.push_back(describe(s));
        log(Severity::kInfo, "joined the ring seeded by " + join_names(seeds));
      }
      if (refresh_free()) schedule_publish(now_ms, false);
      save_soon(now_ms);        // what others gave us is theirs to keep durable
      reclaim_foreign(now_ms);  // our space was taken over while we were away (rmpeer)
      serve_pending(now_ms);
      return true;
    case MergeResult::kRangeMismatch: {
      std::string w = "peer " + describe(from) + " uses the overlay range " +
                      theirs.range().to_string() + ", this host " + cfg_.range.to_string() +
                      "; their address spaces are kept apart. Relaunch one side with the same "
                      "--ipalloc-range";
      if (warned_.insert(w).second) log(Severity::kError, w);
      return false;
    }
    case MergeResult::kSeedConflict:
      if (theirs.wins_over(mine)) {
        adopt_other_bootstrap(theirs, now_ms);
        return true;
      }
      // Ours wins: make sure the other side hears it.
      send(from, RingMsg{mine}, true);
      return false;
  }
  return false;
}

void IpamCore::adopt_other_bootstrap(const Ring& theirs, int64_t now_ms) {
  ++counters_.bootstrap_conflicts;
  ++counters_.rings_adopted;
  state_.ring = theirs;
  log(Severity::kWarn,
      "this host's ring (bootstrapped separately) met the cluster's earlier one; adopted it");
  refresh_free();
  save();
  reclaim_foreign(now_ms);
  schedule_publish(now_ms, true);
  serve_pending(now_ms);
}

void IpamCore::on_neighbor(PeerName from, ByteView payload, int64_t now_ms) {
  Message m = decode(payload);
  if (auto* r = std::get_if<RingMsg>(&m)) {
    absorb(r->ring, from, now_ms);
    // They lacked something we have: send ours back so both converge.
    if (!state_.ring.empty() && state_.ring.same_bootstrap(r->ring) &&
        state_.ring.digest() != r->ring.digest())
      send(from, RingMsg{state_.ring}, true);
  } else if (auto* d = std::get_if<DigestMsg>(&m)) {
    if (!state_.ring.empty() && d->digest != state_.ring.digest())
      send(from, RingMsg{state_.ring}, true);
    else if (state_.ring.empty() && d->digest != 0)
      send(from, DigestMsg{0}, true);  // "I have nothing": they answer with their ring
  } else if (auto* p = std::get_if<ProposalMsg>(&m)) {
    handle_proposal(from, *p, now_ms);
  } else {
    throw DecodeError("ipam: unexpected message to a neighbour");
  }
}

void IpamCore::on_unicast(PeerName src, ByteView payload, int64_t now_ms) {
  Message m = decode(payload);
  if (auto* q = std::get_if<RequestMsg>(&m)) {
    handle_request(src, *q, now_ms);
  } else if (auto* g = std::get_if<GrantMsg>(&m)) {
    if (requests_.erase(g->request_id)) tried_.clear();
    absorb(g->ring, src, now_ms);
    serve_pending(now_ms);
    schedule_publish(now_ms, true);  // our new space and its free count, soon
  } else if (auto* f = std::get_if<RefuseMsg>(&m)) {
    handle_refuse(src, *f, now_ms);
  } else if (auto* r = std::get_if<RingMsg>(&m)) {
    absorb(r->ring, src, now_ms);
  } else {
    throw DecodeError("ipam: unexpected unicast message");
  }
}

bool IpamCore::on_broadcast(PeerName src, PeerName from, ByteView payload, int64_t now_ms) {
  Message m = decode(payload);
  if (auto* r = std::get_if<RingMsg>(&m)) {
    bool changed = absorb(r->ring, from, now_ms);
    // Rings travel whole, so a peer may already hold what a broadcast carries (from another
    // peer's ring) while the peers below it on this tree do not: relay each ring content once,
    // news or not, unless it lost to ours (a separate bootstrap). Once per content, not per
    // source: the first broadcast of a ring reaches everyone, so the same ring broadcast again by
    // another peer (every seed of a consensus builds it) need not travel a second time.
    if (!r->ring.empty() && !state_.ring.same_bootstrap(r->ring)) return false;
    (void)src;
    uint64_t key = r->ring.digest();
    if (!relayed_.insert(key).second) return changed;
    relayed_order_.push_back(key);
    if (relayed_order_.size() > 4096) {
      relayed_.erase(relayed_order_.front());
      relayed_order_.pop_front();
    }
    return true;
  }
  if (auto* p = std::get_if<ProposalMsg>(&m)) {
    auto it = proposals_.find(src);
    if (it != proposals_.end() && it->second.seq >= p->seq) return false;
    handle_proposal(src, *p, now_ms);
    return true;
  }
  throw DecodeError("ipam: unexpected broadcast message");
}

void IpamCore::on_neighbor_up(PeerName peer, int64_t now_ms) {
  if (!state_.ring.empty()) {
    send(peer, RingMsg{state_.ring}, true);
    if (reclaim_foreign(now_ms)) serve_pending(now_ms);  // owners unreachable before, maybe
  } else if (cfg_.init.kind == InitMode::Kind::kConsensus && my_proposal_.seq > 0)
    send(peer, my_proposal_, true);
}

void IpamCore::on_gossip_tick(PeerName neighbor, int64_t now_ms) {
  note_reachable(view(), now_ms);
  if (!state_.ring.empty()) send(neighbor, DigestMsg{state_.ring.digest()}, true);
}

void IpamCore::note_reachable(const std::map<PeerName, PeerInfo>& v, int64_t now_ms) {
  for (const auto& [name, info] : v)
    if (info.reachable) last_reachable_ms_[name] = now_ms;
  for (auto it = taken_from_.begin(); it != taken_from_.end();) {
    auto p = v.find(it->first);
    if (p == v.end() || !p->second.reachable) {
      back_since_.erase(it->first);  // (still) away
      ++it;
      continue;
    }
    int64_t since = back_since_.try_emplace(it->first, now_ms).first->second;
    if (now_ms - since >= cfg_.returned_hold_ms) {  // back long enough: its re-claims are in
      back_since_.erase(it->first);
      it = taken_from_.erase(it);
    } else {
      ++it;
    }
  }
}

std::vector<Span> IpamCore::held_back(int64_t now_ms, int64_t* until) {
  if (taken_from_.empty()) return {};
  note_reachable(view(), now_ms);
  std::vector<Span> out;
  for (const auto& [peer, spans] : taken_from_) {
    auto since = back_since_.find(peer);
    if (since == back_since_.end()) continue;  // away: its addresses are free to give
    out.insert(out.end(), spans.begin(), spans.end());
    *until = std::min(*until, since->second + cfg_.returned_hold_ms);
  }
  return out;
}

std::vector<Span> IpamCore::without(std::vector<Span> spans, const std::vector<Span>& holes) {
  for (const Span& h : holes) {
    std::vector<Span> out;
    for (const Span& s : spans) {
      if (h.end <= s.start || h.start >= s.end) {
        out.push_back(s);
        continue;
      }
      if (s.start < h.start) out.push_back({s.start, h.start});
      if (h.end < s.end) out.push_back({uint32_t(h.end), s.end});
    }
    spans = std::move(out);
  }
  return spans;
}

// --- rmpeer

RmpeerResult IpamCore::rmpeer(const std::string& peer, int64_t now_ms, bool force) {
  auto v = view();
  note_reachable(v, now_ms);
  PeerName target = 0;
  if (auto n = parse_peer_name(peer)) {
    target = *n;
  } else {
    for (const auto& [name, nick] : nicknames_)
      if (nick == peer) {
        if (target) return {false, 0, 0, "more than one peer is called " + peer + "; use its name"};
        target = name;
      }
  }
  if (!target) return {false, 0, 0, "no peer called " + peer + " is known here"};
  if (target == cfg_.self)
    return {false, target, 0, "that is this host; run `weft rmpeer` on another host"};
  auto it = v.find(target);
  if (it != v.end() && it->second.reachable)
    return {false, target, 0,
            "peer " + describe(target) +
                " is still reachable; stop it first (`weft stop` there), then rmpeer it"};
  if (state_.ring.empty()) return {false, target, 0, "IPAM has no ring yet"};
  std::string at_stake;
  if (auto seen = last_reachable_ms_.find(target);
      seen != last_reachable_ms_.end() && now_ms - seen->second < cfg_.rmpeer_grace_ms) {
    uint64_t owned = 0;
    for (const auto& r : state_.ring.owned_by(target)) owned += r.size();
    std::string ago = std::to_string((now_ms - seen->second) / 1000) + " s ago";
    if (!force)
      return {false, target, 0,
              "peer " + describe(target) + " was reachable " + ago +
                  ": it may be partitioned or restarting, not gone. If it is gone for good, "
                  "`weft rmpeer --force " +
                  peer + "` takes its " + std::to_string(owned) +
                  " addresses; if it comes back, its workloads' addresses can be given out twice"};
    at_stake = "peer " + describe(target) + " was reachable " + ago + ": if it comes back, the " +
               std::to_string(owned) +
               " addresses taken over may be given out while its workloads still hold them";
  }
  Ring before = state_.ring;
  std::vector<Span> taken = state_.ring.owned_by(target);
  uint64_t n = state_.ring.take_over(cfg_.self, target);
  if (n == 0) return {true, target, 0, "peer " + describe(target) + " owns no address space"};
  refresh_free();
  if (!save()) {
    state_.ring = before;
    return {false, target, 0, "cannot save the IPAM state (see the router's log)"};
  }
  log(Severity::kInfo,
      "took over the " + std::to_string(n) + " addresses of removed peer " + describe(target));
  taken_from_[target] = std::move(taken);
  back_since_.erase(target);
  broadcast(RingMsg{state_.ring});
  publish_at_ = -1;
  serve_pending(now_ms);
  if (!at_stake.empty()) log(Severity::kWarn, "rmpeer --force: " + at_stake);
  return {true, target, n, at_stake};
}

// --- timers

int64_t IpamCore::next_deadline() const {
  int64_t d = INT64_MAX;
  auto at = [&](int64_t t) {
    if (t >= 0) d = std::min(d, t);
  };
  at(publish_at_);
  at(next_proposal_at_);
  at(space_retry_at_);
  at(save_at_);
  for (const auto& p : pending_) at(p.deadline);
  for (const auto& [id, q] : requests_) at(q.deadline);
  bool claims = std::any_of(pending_.begin(), pending_.end(),
                            [](const Pending& p) { return p.address.has_value(); });
  if (claims)
    for (const auto& [a, t] : claim_retry_) at(t);
  return d;
}

void IpamCore::on_timer(int64_t now_ms) {
  if (save_at_ >= 0 && now_ms >= save_at_) {
    save_at_ = -1;
    save();
  }
  if (publish_at_ >= 0 && now_ms >= publish_at_) {
    publish_at_ = -1;
    if (!state_.ring.empty()) broadcast(RingMsg{state_.ring});
  }
  if (next_proposal_at_ >= 0 && now_ms >= next_proposal_at_) {
    next_proposal_at_ = now_ms + cfg_.proposal_interval_ms;
    if (cfg_.init.kind == InitMode::Kind::kConsensus) {
      uint32_t seq = my_proposal_.seq;
      consensus_step(now_ms);
      if (state_.ring.empty() && seq == my_proposal_.seq) send_proposal(now_ms);  // keep fresh
    } else if (cfg_.init.kind == InitMode::Kind::kSeed) {
      seed_step(now_ms);
    }
  }
  bool retry = false;
  if (space_retry_at_ >= 0 && now_ms >= space_retry_at_) {
    space_retry_at_ = -1;
    retry = true;
  }
  for (auto it = requests_.begin(); it != requests_.end();) {
    if (now_ms >= it->second.deadline) {
      log(Severity::kDebug, "no answer from " + describe(it->second.donor) + " about space");
      if (!it->second.address) tried_[it->second.donor] = now_ms + cfg_.request_timeout_ms;
      it = requests_.erase(it);
      retry = true;
    } else {
      ++it;
    }
  }
  std::erase_if(claim_retry_, [&](const auto& e) { return e.second <= now_ms && (retry = true); });
  std::vector<std::pair<AllocDone, AllocResult>> expired;
  for (size_t i = 0; i < pending_.size();) {
    if (now_ms >= pending_[i].deadline) {
      std::string why = state_.ring.empty()
                            ? "IPAM is not ready: " + bootstrap_status()
                            : "timed out waiting for address space from other peers";
      expired.emplace_back(std::move(pending_[i].done), AllocResult{AllocError::kTimeout, 0, why});
      pending_.erase(pending_.begin() + long(i));
    } else {
      ++i;
    }
  }
  for (auto& [done, r] : expired)
    if (done) done(r);
  if (retry) serve_pending(now_ms);
}

}  // namespace weft::ipam
