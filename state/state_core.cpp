#include "state/state_core.h"

#include <algorithm>
#include <set>

namespace weft::state {

StateCore::StateCore(StateConfig cfg, GossipSender& gossip, Membership& members, StateStore& store,
                     StateEvents& events, SavedState saved)
    : cfg_(cfg), gossip_(gossip), members_(members), store_(store), events_(events) {
  for (const Entry& e : saved.entries) table_.put(e);
  clock_.restore(saved.hlc);
  revision_ = saved.revision;
}

// --- local writes

std::vector<Change> StateCore::write(const std::vector<Write>& writes, int64_t now_ms) {
  std::set<std::pair<Kind, std::string>> seen;
  for (const Write& w : writes) {
    if (w.key.empty() || w.key.size() > kMaxKeyLen)
      throw std::invalid_argument("state key empty or longer than " + std::to_string(kMaxKeyLen) +
                                  " bytes");
    if (w.value && (w.value->empty() || w.value->size() > kMaxValueLen))
      throw std::invalid_argument("object empty or larger than " + std::to_string(kMaxValueLen) +
                                  " bytes: " + w.key);
    if (w.kind == Kind::kWorkload && workload_owner(w.key) != cfg_.self)
      throw std::invalid_argument("workload " + w.key + " belongs to another host");
    if (!seen.insert({w.kind, w.key}).second)
      throw std::invalid_argument("the same object twice in one change: " + w.key);
  }
  std::vector<Entry> before;  // what the keys held, to put back if the save fails
  std::vector<std::pair<Kind, std::string>> fresh;
  std::vector<Entry> applied;
  const uint64_t clock_before = clock_.last();
  for (const Write& w : writes) {
    const Entry* cur = table_.find(w.kind, w.key);
    bool live = cur && !cur->deleted;
    if (!w.value && !live) continue;
    if (w.value && live && cur->value == *w.value) continue;
    Entry e{w.kind, w.key, {clock_.tick(wall(now_ms)), cfg_.self}, !w.value, w.value.value_or("")};
    if (cur)
      before.push_back(*cur);
    else
      fresh.emplace_back(w.kind, w.key);
    table_.put(e);
    applied.push_back(std::move(e));
  }
  if (applied.empty()) return {};
  try {
    store_.save(table_, clock_.last(), revision_ + applied.size());
  } catch (const std::exception& ex) {
    for (const Entry& b : before) table_.put(b);
    for (const auto& [k, key] : fresh) table_.erase(k, key);
    clock_.restore(clock_before);
    throw StoreError(ex.what());
  }
  dirty_ = false;  // the save took every remote change along too
  save_due_ms_ = kNoGossipDeadline;
  counters_.local_writes += applied.size();
  std::vector<Change> changes;
  std::vector<const Entry*> sent;
  for (const Entry& e : applied) {
    record_change(e);
    changes.push_back(log_.back());
    sent.push_back(table_.find(e.kind, e.key));
  }
  for (const Bytes& m : encode_entries_chunked(sent)) gossip_.broadcast(kChannel, m);
  return changes;
}

void StateCore::forget_host(PeerName host, int64_t now_ms, bool announce) {
  if (host == cfg_.self) return;
  std::vector<Entry> tombs;
  for (const Entry* e : table_.live(Kind::kWorkload))
    if (workload_owner(e->key) == host)
      // The same tombstone on every peer (version one past the owner's last write, written in
      // the owner's name), so peers that forget the host independently agree at once.
      tombs.push_back({e->kind, e->key, {e->version.hlc + 1, host}, true, ""});
  if (tombs.empty()) return;
  ++counters_.hosts_gone;
  events_.log(LogLevel::kInfo, "peer " + format_peer_name(host) + " is gone: its " +
                                   std::to_string(tombs.size()) + " workload(s) are removed");
  for (const Entry& t : tombs) {
    clock_.observe(t.version.hlc, wall(now_ms));
    if (table_.merge(t)) record_change(t);
  }
  dirty_ = true;
  save_due_ms_ = std::min(save_due_ms_, now_ms + cfg_.save_delay_ms);
  if (announce) {
    std::vector<const Entry*> ptrs;
    for (const Entry& t : tombs) ptrs.push_back(table_.find(t.kind, t.key));
    for (const Bytes& m : encode_entries_chunked(ptrs)) gossip_.broadcast(kChannel, m);
  }
}

void StateCore::record_change(const Entry& e) {
  Change c{++revision_, e.kind, e.key, e.deleted, e.deleted ? std::string() : e.value};
  log_.push_back(c);
  while (log_.size() > cfg_.change_log_capacity) log_.pop_front();
  events_.on_change(c);
}

std::optional<std::vector<Change>> StateCore::changes_since(uint64_t revision) const {
  std::vector<Change> out;
  if (revision >= revision_) return out;
  if (log_.empty() || log_.front().revision > revision + 1) return std::nullopt;
  for (const Change& c : log_)
    if (c.revision > revision) out.push_back(c);
  return out;
}

// --- remote entries

bool StateCore::merge_remote(const std::vector<Entry>& entries, int64_t now_ms) {
  bool news = false;
  std::vector<Entry> reassert;
  for (const Entry& e : entries) {
    if (clock_.observe(e.version.hlc, wall(now_ms)) && !warned_skew_) {
      warned_skew_ = true;
      events_.log(LogLevel::kWarn, "peer " + format_peer_name(e.version.writer) +
                                       " wrote a change stamped more than a minute ahead of "
                                       "this host's clock; check the clocks (NTP)");
    }
    const Entry* cur = table_.find(e.kind, e.key);
    if (e.kind == Kind::kWorkload) {
      std::optional<PeerName> owner = workload_owner(e.key);
      if (!owner || e.version.writer != *owner) {
        ++counters_.entries_refused;
        continue;
      }
      if (*owner == cfg_.self) {
        // This host is the truth for its own workloads: another version of one of them (an
        // old copy, a tombstone written while it was away) is answered with what it holds.
        if (cur ? ObjectTable::newer(e, *cur) : !e.deleted) {
          Entry mine = cur ? *cur : Entry{e.kind, e.key, {}, true, ""};
          mine.version = {clock_.tick(wall(now_ms)), cfg_.self};
          table_.put(mine);
          reassert.push_back(mine);
          ++counters_.owner_reasserts;
        }
        continue;
      }
    }
    bool was_live = cur && !cur->deleted;
    std::string old_value = was_live ? cur->value : std::string();
    if (!table_.merge(e)) continue;
    news = true;
    ++counters_.remote_entries_taken;
    if (was_live != !e.deleted || (!e.deleted && old_value != e.value)) record_change(e);
  }
  if (news || !reassert.empty()) {
    dirty_ = true;
    save_due_ms_ = std::min(save_due_ms_, now_ms + cfg_.save_delay_ms);
  }
  if (!reassert.empty()) {
    std::vector<const Entry*> ptrs;
    for (const Entry& e : reassert) ptrs.push_back(table_.find(e.kind, e.key));
    for (const Bytes& m : encode_entries_chunked(ptrs)) gossip_.broadcast(kChannel, m);
  }
  return news;
}

void StateCore::save_now() {
  try {
    store_.save(table_, clock_.last(), revision_);
    dirty_ = false;
    save_due_ms_ = kNoGossipDeadline;
  } catch (const std::exception& e) {
    // Remote changes come back by anti-entropy after a restart; retry later.
    events_.log(LogLevel::kError, std::string("cannot save the cluster state: ") + e.what());
  }
}

// --- gossip

void StateCore::send_entries(PeerName to, const std::vector<const Entry*>& entries) {
  counters_.repairs_sent += entries.size();
  for (const Bytes& m : encode_entries_chunked(entries)) gossip_.send_neighbor(kChannel, to, m);
}

void StateCore::send_buckets(PeerName to, bool reply) {
  gossip_.send_neighbor(kChannel, to, encode_state_message(BucketsMsg{table_.digest(), reply}));
}

std::vector<size_t> StateCore::differing(const ObjectTable::Digest& theirs) const {
  std::vector<size_t> out;
  for (size_t b = 0; b < ObjectTable::kBuckets; ++b)
    if (theirs[b] != table_.digest()[b]) out.push_back(b);
  return out;
}

void StateCore::handle(PeerName from, const StateMessage& m, int64_t now_ms) {
  if (const auto* s = std::get_if<SummaryMsg>(&m)) {
    if (s->root != table_.root()) send_buckets(from, /*reply=*/true);
  } else if (const auto* b = std::get_if<BucketsMsg>(&m)) {
    std::vector<size_t> diff = differing(b->digest);
    if (!diff.empty()) send_entries(from, table_.in_buckets(diff));
    if (b->reply && !diff.empty()) send_buckets(from, /*reply=*/false);
  } else {
    merge_remote(std::get<EntriesMsg>(m).entries, now_ms);
  }
}

void StateCore::on_neighbor(PeerName from, ByteView payload, int64_t now_ms) {
  StateMessage m;
  try {
    m = decode_state_message(payload);
  } catch (const DecodeError&) {
    ++counters_.malformed_messages;
    throw;
  }
  handle(from, m, now_ms);
}

void StateCore::on_unicast(PeerName src, ByteView payload, int64_t now_ms) {
  // Nothing is sent by unicast; take entries if a future version does.
  StateMessage m = decode_state_message(payload);
  if (const auto* e = std::get_if<EntriesMsg>(&m)) merge_remote(e->entries, now_ms);
  (void)src;
}

bool StateCore::on_broadcast(PeerName /*src*/, PeerName /*from*/, ByteView payload,
                             int64_t now_ms) {
  StateMessage m;
  try {
    m = decode_state_message(payload);
  } catch (const DecodeError&) {
    ++counters_.malformed_messages;
    throw;
  }
  const auto* e = std::get_if<EntriesMsg>(&m);
  if (!e) throw DecodeError("state: only entries are broadcast");
  return merge_remote(e->entries, now_ms);
}

void StateCore::on_neighbor_up(PeerName peer, int64_t /*now_ms*/) {
  gossip_.send_neighbor(kChannel, peer, encode_state_message(SummaryMsg{table_.root()}));
}

void StateCore::on_gossip_tick(PeerName neighbor, int64_t /*now_ms*/) {
  gossip_.send_neighbor(kChannel, neighbor, encode_state_message(SummaryMsg{table_.root()}));
}

void StateCore::on_peer_gone(PeerName peer, int64_t now_ms) {
  if (peer == cfg_.self) return;
  gone_due_.emplace(peer, now_ms + cfg_.gone_grace_ms);
}

int64_t StateCore::next_deadline() const {
  int64_t d = save_due_ms_;
  for (const auto& [p, due] : gone_due_) d = std::min(d, due);
  return d;
}

void StateCore::on_timer(int64_t now_ms) {
  for (auto it = gone_due_.begin(); it != gone_due_.end();) {
    if (it->second > now_ms) {
      ++it;
      continue;
    }
    PeerName p = it->first;
    it = gone_due_.erase(it);
    if (!members_.reachable(p)) forget_host(p, now_ms);
  }
  if (dirty_ && now_ms >= save_due_ms_) save_now();
}

}  // namespace weft::state
