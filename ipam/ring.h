#pragma once
// The IPAM ring: who owns which part of the overlay range. A CRDT gossiped among peers.
//
// The range [start, end) is cut by tokens; a token at address A owned by peer P means P owns
// [A, next token) (the last token runs to the end of the range). Only the current owner of a
// token changes it (to give space away, or to publish its free count), and it bumps the token's
// version when it does; new tokens are inserted only inside space the inserting peer owns.
// Tokens are never deleted. Merging two rings keeps, per token, the entry that is greatest by
// (version, owner, free): a join-semilattice, so merge is commutative, associative and
// idempotent, and every peer that has seen the same updates holds the same ring.
//
// Why this never hands one address to two peers: a peer allocates only inside space its own
// ring says it owns, and ownership moves only by the owner's own edit. Rings travel whole, so a
// ring carrying a token at version v also carries every token its creator knew when it wrote v.
//
// Every ring also names the peers that seeded it (bootstrap). Rings with different seeds come
// from separate bootstraps: they are not merged (see IpamCore for how that heals).
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "common/bytes.h"
#include "common/ipv4_cidr.h"
#include "common/peer_name.h"

namespace weft::ipam {

struct Token {
  PeerName owner = 0;
  uint32_t version = 0;
  uint32_t free = 0;  // the owner's count of free addresses in this token's span (a hint)
  // The merge order: version first (the owner's edits), then owner and free only to break ties
  // deterministically (two rmpeers of the same peer at once).
  auto operator<=>(const Token& o) const {
    return std::tie(version, owner, free) <=> std::tie(o.version, o.owner, o.free);
  }
  bool operator==(const Token&) const = default;
};

// A span of addresses [start, end), end exclusive (uint64 so a range may end at 2^32).
struct Span {
  uint32_t start = 0;
  uint64_t end = 0;
  uint64_t size() const { return end - start; }
  bool contains(uint32_t a) const { return a >= start && a < end; }
  bool operator==(const Span&) const = default;
};

enum class MergeResult {
  kUnchanged,
  kChanged,
  kSeedConflict,   // a different bootstrap: not merged
  kRangeMismatch,  // a different overlay range: not merged
};

class Ring {
 public:
  Ring() = default;
  explicit Ring(Ipv4Cidr range) : range_(range) {}

  // The ring every seed builds identically from the same (sorted, unique) seed list and epoch:
  // the range split into equal consecutive spans, one per seed, in name order, all at version 1.
  static Ring seeded(Ipv4Cidr range, std::vector<PeerName> seeds, uint64_t epoch);

  const Ipv4Cidr& range() const { return range_; }
  Span whole() const;
  bool empty() const { return tokens_.empty(); }  // not bootstrapped yet
  const std::vector<PeerName>& seeds() const { return seeds_; }
  // When the bootstrap happened (unix ms, agreed by the seeds; 0 for explicit seeds). Of two
  // rings from different bootstraps, the one with the earlier (epoch, seeds) wins: an
  // established cluster beats a host that bootstrapped on its own later.
  uint64_t epoch() const { return epoch_; }
  bool same_bootstrap(const Ring& o) const { return epoch_ == o.epoch_ && seeds_ == o.seeds_; }
  bool wins_over(const Ring& o) const {
    return std::tie(epoch_, seeds_) < std::tie(o.epoch_, o.seeds_);
  }
  const std::map<uint32_t, Token>& tokens() const { return tokens_; }

  MergeResult merge(const Ring& other);
  // Replaces this ring with `other` wholesale (adopting a winning bootstrap).
  void adopt(const Ring& other) { *this = other; }

  // The owner of address `a` (which must be inside the range), or nullopt before bootstrap.
  std::optional<PeerName> owner_of(uint32_t a) const;
  // The spans `peer` owns, in address order, adjacent ones joined.
  std::vector<Span> owned_by(PeerName peer) const;
  // Peers with at least one token, and the sum of their published free counts.
  std::map<PeerName, uint64_t> free_by_owner() const;

  // Edits by `self`, who must own all of `span` (checked; throws std::logic_error otherwise):
  // gives `span` to `to`, inserting tokens at its edges as needed.
  void give(PeerName self, Span span, PeerName to);
  // Sets the published free count of the token that starts `span_start` (owned by self).
  void set_free(PeerName self, uint32_t token_start, uint32_t free);
  // Takes every token `gone` owns (rmpeer). Returns the number of addresses taken.
  uint64_t take_over(PeerName self, PeerName gone);

  // The span of the token at `start`.
  Span span_of(uint32_t token_start) const;

  // Order-independent fingerprint of the whole ring, for anti-entropy.
  uint64_t digest() const;

  bool operator==(const Ring&) const = default;

  // Wire form (inside IPAM gossip messages). decode throws DecodeError on anything malformed:
  // a range that is not a network, tokens out of order or outside it, a ring that does not start
  // at the range's first address, zero owners, absurd counts.
  void encode(ByteWriter& w) const;
  static Ring decode(ByteReader& r);

 private:
  void bump(uint32_t token_start, PeerName owner, uint32_t free);
  Ipv4Cidr range_;
  uint64_t epoch_ = 0;
  std::vector<PeerName> seeds_;
  std::map<uint32_t, Token> tokens_;
};

// A user-facing name for the overlay's network and broadcast addresses: never allocated.
inline bool reserved_address(const Ipv4Cidr& range, uint32_t a) {
  return a == range.network() || a == range.broadcast();
}

}  // namespace weft::ipam
