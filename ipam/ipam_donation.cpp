// IpamCore's donation of address space between peers: asking for space when running low or
// out (a donor drawn at random, weighted by published free space), asking an address's owner
// for that one address (claims), and answering such requests with a grant or a refusal.
#include <algorithm>

#include "ipam/ipam_core.h"
#include "ipam/name_list.h"

namespace weft::ipam {

void IpamCore::top_up(int64_t now_ms) {
  // Running low (not out): ask for more now, so the next allocations need not wait for a
  // round trip. Only a peer that allocates does this, so idle peers do not carve up the ring.
  uint64_t own_free = 0;
  for (const Span& s : state_.ring.owned_by(cfg_.self))
    own_free += state_.allocations.free_in(s, cfg_.range);
  if (own_free >= cfg_.low_water) return;
  if (std::any_of(requests_.begin(), requests_.end(),
                  [](const auto& q) { return !q.second.address; }))
    return;
  uint64_t others = 0;
  for (const auto& [owner, free] : state_.ring.free_by_owner())
    if (owner != cfg_.self) others += free;
  if (others >= 4 * cfg_.low_water) ask_for_space(now_ms);
}

bool IpamCore::ask_for_space(int64_t now_ms) {
  auto v = view();
  PeerName best = 0;
  // A donor drawn at random, weighted by published free space: many peers running low at once
  // spread their requests instead of all draining the same one.
  std::vector<std::pair<PeerName, uint64_t>> candidates;
  uint64_t total = 0;
  for (const auto& [owner, free] : state_.ring.free_by_owner()) {
    auto t = tried_.find(owner);
    if (owner == cfg_.self || free == 0 || (t != tried_.end() && now_ms < t->second)) continue;
    auto it = v.find(owner);
    if (it == v.end() || !it->second.reachable) continue;
    candidates.emplace_back(owner, free);
    total += free;
  }
  if (candidates.empty()) return false;
  rng_ = rng_ * 6364136223846793005ull + 1442695040888963407ull;
  uint64_t pick = (rng_ >> 11) % total;
  for (const auto& [owner, free] : candidates) {
    best = owner;
    if (pick < free) break;
    pick -= free;
  }
  uint32_t id = next_request_id_++;
  requests_[id] = {best, std::nullopt, now_ms + cfg_.request_timeout_ms};
  ++counters_.requests_sent;
  log(Severity::kDebug, "asking " + describe(best) + " for address space");
  send(best, RequestMsg{id, std::nullopt}, false);
  return true;
}

void IpamCore::ask_for_address(uint32_t addr, PeerName owner, int64_t now_ms, bool held) {
  for (const auto& [id, q] : requests_)
    if (q.address == addr) return;  // already asked
  auto r = claim_retry_.find(addr);
  if (r != claim_retry_.end() && now_ms < r->second) return;
  uint32_t id = next_request_id_++;
  requests_[id] = {owner, addr, now_ms + cfg_.request_timeout_ms};
  claim_retry_[addr] = now_ms + cfg_.request_timeout_ms / 6;
  ++counters_.requests_sent;
  send(owner, RequestMsg{id, addr, held}, false);
}

void IpamCore::handle_request(PeerName src, const RequestMsg& q, int64_t now_ms) {
  auto refuse = [&](RefuseReason why) {
    std::optional<Ring> ring;
    if (why == RefuseReason::kNoSpace || why == RefuseReason::kNotOwner) ring = state_.ring;
    send(src, RefuseMsg{q.request_id, why, ring}, false);
  };
  Ring& ring = state_.ring;
  if (ring.empty()) return refuse(RefuseReason::kNoRing);
  Span give;
  if (q.address) {
    uint32_t a = *q.address;
    if (!cfg_.range.contains(a) || ring.owner_of(a) != cfg_.self)
      return refuse(RefuseReason::kNotOwner);
    if (const std::string* h = state_.allocations.holder_of(a); h && q.held)
      report_conflict(a, format_ipv4(a) + " (" + *h + ") is in use twice: peer " + describe(src) +
                             " still holds it from before its space was taken over (`weft "
                             "rmpeer` while it was away, or two bootstraps met). Give one of "
                             "them a new address, here: " +
                             renumber_hint(*h));
    if (state_.allocations.holder_of(a) || reserved_address(cfg_.range, a))
      return refuse(RefuseReason::kInUse);
    give = {a, uint64_t{a} + 1};
  } else {
    auto run = state_.allocations.largest_free_run(ring.owned_by(cfg_.self), cfg_.range);
    if (!run) return refuse(RefuseReason::kNoSpace);
    // Half of the largest free run: both sides keep room to grow. A run that ends just before
    // the range's broadcast address takes that (unusable) address along, so that no one-address
    // span is left behind.
    give = {uint32_t(run->start + run->size() / 2), run->end};
    if (give.end == cfg_.range.broadcast() && ring.owner_of(cfg_.range.broadcast()) == cfg_.self)
      give.end += 1;
  }
  Ring before = ring;
  ring.give(cfg_.self, give, src);
  refresh_free();
  if (!save()) {
    ring = before;
    return refuse(RefuseReason::kNoSpace);
  }
  ++counters_.grants_given;
  log(Severity::kInfo, "gave " + std::to_string(give.size()) + " address(es) from " +
                           format_ipv4(give.start) + " to " + describe(src));
  send(src, GrantMsg{q.request_id, ring}, false);
  schedule_publish(now_ms, true);
}

void IpamCore::handle_refuse(PeerName src, const RefuseMsg& f, int64_t now_ms) {
  auto it = requests_.find(f.request_id);
  if (it == requests_.end()) return;
  Request q = it->second;
  requests_.erase(it);
  ++counters_.refusals_received;
  if (!q.address) tried_[src] = now_ms + cfg_.request_timeout_ms;
  if (f.ring) absorb(*f.ring, src, now_ms);
  if (q.address && f.reason == RefuseReason::kInUse) {
    std::vector<std::pair<AllocDone, AllocResult>> failed;
    for (size_t i = 0; i < pending_.size();) {
      if (pending_[i].address == q.address) {
        AllocResult r{AllocError::kInUse, *q.address,
                      format_ipv4(*q.address) + " is already in use on peer " + describe(src)};
        if (pending_[i].reclaim)
          report_conflict(*q.address,
                          format_ipv4(*q.address) + " (" + pending_[i].holder +
                              ") is in use twice: peer " + describe(src) +
                              " allocated it too, after taking over this host's space (`weft "
                              "rmpeer` while it was away, or two bootstraps met). Give one of "
                              "them a new address, here: " +
                              renumber_hint(pending_[i].holder));
        failed.emplace_back(std::move(pending_[i].done), r);
        pending_.erase(pending_.begin() + long(i));
      } else {
        ++i;
      }
    }
    for (auto& [done, r] : failed)
      if (done) done(r);
    return;
  }
  if (!q.address) tried_[src] = now_ms + cfg_.request_timeout_ms;
  serve_pending(now_ms);
}

}  // namespace weft::ipam
