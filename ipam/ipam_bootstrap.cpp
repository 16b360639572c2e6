// IpamCore's bootstrap: how the first ring comes to be, from explicit seed peers
// (--ipalloc-init seed=...) or by consensus among the first N peers (consensus=N), by
// proposals broadcast until enough reachable peers propose the same seeds.
#include <algorithm>

#include "ipam/ipam_core.h"
#include "ipam/name_list.h"

namespace weft::ipam {

void IpamCore::handle_proposal(PeerName src, const ProposalMsg& p, int64_t now_ms) {
  if (!state_.ring.empty()) {
    // It is still waiting while a ring exists: hand it over (once in a while: every peer hears
    // its proposals, and one that cannot take our ring, say for another range, keeps sending).
    auto [it, fresh] = ring_offered_.try_emplace(src, now_ms);
    if (fresh || now_ms - it->second >= 10 * cfg_.proposal_interval_ms) {
      it->second = now_ms;
      send(src, RingMsg{state_.ring}, false);
    }
    return;
  }
  auto& slot = proposals_[src];
  if (slot.seq > p.seq) return;
  slot = p;
  if (cfg_.init.kind == InitMode::Kind::kConsensus && p.quorum != cfg_.init.quorum &&
      warned_quorums_.insert(p.quorum).second)
    log(Severity::kWarn, "peer " + describe(src) + " was launched with --ipalloc-init consensus=" +
                             std::to_string(p.quorum) +
                             ", this host with consensus=" + std::to_string(cfg_.init.quorum) +
                             "; peers only agree with peers that expect the same count");
  consensus_step(now_ms);
}

void IpamCore::send_proposal(int64_t now_ms) {
  ++my_proposal_.seq;
  broadcast(my_proposal_);
  next_proposal_at_ = now_ms + cfg_.proposal_interval_ms;
}

void IpamCore::consensus_step(int64_t now_ms) {
  if (!state_.ring.empty() || cfg_.init.kind != InitMode::Kind::kConsensus) return;
  auto v = view();
  std::vector<PeerName> candidates{cfg_.self};
  for (const auto& [p, msg] : proposals_) {
    auto it = v.find(p);
    if (p != cfg_.self && it != v.end() && it->second.reachable && msg.quorum == cfg_.init.quorum)
      candidates.push_back(p);
  }
  std::sort(candidates.begin(), candidates.end());
  std::vector<PeerName> proposal;
  if (candidates.size() >= size_t(cfg_.init.quorum))
    proposal.assign(candidates.begin(), candidates.begin() + cfg_.init.quorum);
  if (proposal != my_proposal_.seeds || my_proposal_.seq == 0) {
    my_proposal_.seeds = proposal;
    send_proposal(now_ms);
  }
  if (proposal.empty()) return;
  uint64_t epoch = cfg_.started_unix_ms;
  for (PeerName m : proposal) {
    if (m == cfg_.self) continue;
    auto it = proposals_.find(m);
    if (it == proposals_.end() || it->second.seeds != proposal) return;
    epoch = std::max(epoch, it->second.since);
  }
  if (std::find(proposal.begin(), proposal.end(), cfg_.self) == proposal.end()) return;
  bootstrap(proposal, epoch, now_ms);
}

void IpamCore::seed_step(int64_t now_ms) {
  if (!state_.ring.empty() || cfg_.init.kind != InitMode::Kind::kSeed) return;
  auto v = view();
  std::vector<PeerName> seeds;
  std::vector<std::string> missing;
  for (const std::string& s : cfg_.init.seeds) {
    if (auto n = parse_peer_name(s)) {
      seeds.push_back(*n);
      continue;
    }
    auto it =
        std::find_if(v.begin(), v.end(), [&](const auto& e) { return e.second.nickname == s; });
    if (it == v.end())
      missing.push_back(s);
    else
      seeds.push_back(it->first);
  }
  if (!missing.empty()) {
    std::string w = "waiting to learn the seed peers " + join_names(missing);
    if (warned_.insert(w).second) log(Severity::kInfo, w);
    return;
  }
  // Explicit seeds: epoch 0, so every peer given the same list builds the same ring.
  bootstrap(seeds, 0, now_ms);
}

void IpamCore::bootstrap(std::vector<PeerName> seeds, uint64_t epoch, int64_t now_ms) {
  state_.ring = Ring::seeded(cfg_.range, std::move(seeds), epoch);
  next_proposal_at_ = -1;
  proposals_.clear();
  std::vector<std::string> names;
  for (PeerName s : state_.ring.seeds()) names.push_back(describe(s));
  log(Severity::kInfo,
      "bootstrapped the ring for " + cfg_.range.to_string() + " with seeds " + join_names(names));
  refresh_free();
  save();
  broadcast(RingMsg{state_.ring});
  serve_pending(now_ms);
}

std::string IpamCore::bootstrap_status() const {
  if (!state_.ring.empty()) return "ready";
  switch (cfg_.init.kind) {
    case InitMode::Kind::kObserver:
      return "observer: waiting for a peer with a ring";
    case InitMode::Kind::kSeed:
      return "waiting for the seed peers " + join_names(cfg_.init.seeds);
    case InitMode::Kind::kConsensus:
      break;
  }
  size_t known = 1;
  for (const auto& [p, m] : proposals_)
    if (m.quorum == cfg_.init.quorum) ++known;
  return "waiting for consensus: " + std::to_string(known) + " of " +
         std::to_string(cfg_.init.quorum) +
         " peers are taking part; launch the others with the same --ipalloc-init, or relaunch "
         "this one with a smaller consensus=N";
}

}  // namespace weft::ipam
