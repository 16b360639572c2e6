#pragma once
// Which peer owns which address, learned from the source addresses of frames. MacTable (Ethernet
// MACs): the forwarder sends a frame for a known MAC to its owner and floods the rest. IpTable
// (inner IPv4/IPv6 source addresses): only for checking that a peer speaks for its own addresses.
//
// lookup() and learn() run for every frame, so the table is open addressing (linear probing,
// backward-shift deletion: no tombstones to sweep) in one flat array that only grows when a new
// MAC needs room. Re-learning a present MAC, lookups, expiry and forgetting never allocate.
//
// Bounded: when max_entries MACs are stored, a new MAC is refused (kTableFull), not swapped for
// the oldest. Whoever can send frames can invent source MACs; evicting would let a flood of them
// push out every established entry and turn all unicast into flooding (the CAM-overflow attack on
// switches). Refusing keeps known flows unicast while only the newcomers flood, and expire()
// makes room again. Hardware switches and Linux bridges (fdb_max_learned) do the same.
//
// The bucket hash is keyed by a seed the caller passes in (random in the router, fixed in tests),
// so that nobody can choose MACs that pile into one probe run.
//
// Moves: with move_hold_ms > 0 a binding its owner refreshed less than move_hold_ms ago does not
// move to another owner (kConflict): the forwarder drops such a frame as spoofed. A workload
// that really moved is accepted at its new place once its old place has been quiet that long.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "common/peer_name.h"
#include "router/dataplane/inner_source.h"
#include "router/dataplane/mac.h"

namespace weft {

// The owner of MACs behind this router's own bridge. Outside the 48-bit peer name space
// (kPeerNameMask), so it can never be a remote peer's name.
constexpr PeerName kLocalPeer = ~PeerName{0};

struct MacTableConfig {
  // An address not seen for this long is forgotten: lookup() stops returning it at once,
  // expire() frees its slot.
  int64_t expiry_ms = 5 * 60 * 1000;
  size_t max_entries = 65536;
  uint64_t hash_seed = 0;
  // 0: a binding moves to whoever claims it last (see the header comment).
  int64_t move_hold_ms = 0;
};

enum class LearnStatus : uint8_t {
  kNew,        // not known (or known only past its expiry)
  kRefreshed,  // known behind the same owner; its timestamp moved
  kMoved,      // known behind previous_owner until now: a workload moved, or somebody spoofs
  kTableFull,  // a new address, refused: max_entries are stored
  kInvalid,    // a group or all-zero address, which no frame can come from; not learned
  kConflict,   // held by previous_owner, seen there less than move_hold_ms ago; not moved
};

struct LearnResult {
  LearnStatus status;
  PeerName previous_owner = 0;  // set for kMoved and kConflict
};

// Key: Mac or InnerIp (anything with is_unicast_source(), words(), == and <).
template <typename Key>
class AddressTable {
 public:
  struct Entry {
    Key key;
    PeerName owner;
    int64_t last_seen_ms;
  };

  explicit AddressTable(MacTableConfig config = {});

  // Records that `key` was seen behind `owner` at now_ms. Time must not go backwards (a
  // monotonic clock); an entry stamped in the future counts as fresh.
  LearnResult learn(const Key& key, PeerName owner, int64_t now_ms);
  // The owner of `key`, unless unknown or expired at now_ms.
  std::optional<PeerName> lookup(const Key& key, int64_t now_ms) const;
  // Whether learn(key, owner, now_ms) would answer kConflict, without changing anything.
  bool held_by_other(const Key& key, PeerName owner, int64_t now_ms) const;
  // Removes the entries expired at now_ms; returns how many.
  size_t expire(int64_t now_ms);
  // Removes every entry owned by `owner` (a peer that left); returns how many.
  size_t forget_peer(PeerName owner);
  void clear();

  // Stored entries, including expired ones expire() has not removed yet.
  size_t size() const { return size_; }
  // A snapshot for status output, sorted by MAC. Allocates; not for the packet path.
  std::vector<Entry> entries() const;

  const MacTableConfig& config() const { return config_; }
  // Slots allocated; grows (by doubling) only when a new MAC needs room.
  size_t capacity() const { return slots_.size(); }

 private:
  struct Slot {
    Key key;
    bool used = false;
    PeerName owner = 0;
    int64_t last_seen_ms = 0;
  };

  bool expired(const Slot& s, int64_t now_ms) const {
    return now_ms - s.last_seen_ms >= config_.expiry_ms;
  }
  bool held(const Slot& s, PeerName owner, int64_t now_ms) const {
    return s.used && s.owner != owner && !expired(s, now_ms) &&
           now_ms - s.last_seen_ms < config_.move_hold_ms;
  }
  size_t home(const Key& key) const;
  // The slot holding `key`, or the empty slot ending its probe run.
  size_t find(const Key& key) const;
  void erase_at(size_t i);
  void grow();
  template <typename Pred>
  size_t erase_if(Pred pred);

  MacTableConfig config_;
  std::vector<Slot> slots_;  // size is a power of two
  size_t mask_ = 0;
  size_t size_ = 0;
  size_t max_slots_ = 0;
  uint64_t key0_ = 0, key1_ = 0;  // derived from config_.hash_seed
};

using MacTable = AddressTable<Mac>;
using IpTable = AddressTable<InnerIp>;

}  // namespace weft
