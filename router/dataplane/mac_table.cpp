#include "router/dataplane/mac_table.h"

#include <algorithm>
#include <stdexcept>

namespace weft {

namespace {

__extension__ typedef unsigned __int128 U128;

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Both 64-bit halves of a 128-bit product folded together (wyhash's "mum"): every input bit
// reaches every output bit in one multiplication.
uint64_t fold_mul(uint64_t a, uint64_t b) {
  const U128 p = static_cast<U128>(a) * b;
  return static_cast<uint64_t>(p) ^ static_cast<uint64_t>(p >> 64);
}

constexpr size_t kInitialSlots = 64;
// Far beyond any real bridge; keeps the slot arithmetic below from overflowing.
constexpr size_t kMaxEntriesLimit = size_t{1} << 28;

}  // namespace

template <typename Key>
AddressTable<Key>::AddressTable(MacTableConfig config) : config_(config) {
  if (config_.expiry_ms <= 0) throw std::invalid_argument("AddressTable: expiry must be positive");
  if (config_.max_entries > kMaxEntriesLimit) {
    throw std::invalid_argument("AddressTable: max_entries too large");
  }
  // At most 3/4 full, so a probe run always ends at an empty slot and stays short.
  max_slots_ = 2;
  while (max_slots_ * 3 < config_.max_entries * 4) max_slots_ *= 2;
  slots_.resize(std::min(kInitialSlots, max_slots_));
  mask_ = slots_.size() - 1;
  uint64_t state = config_.hash_seed;
  key0_ = splitmix64(state);
  key1_ = splitmix64(state) | 1;
}

template <typename Key>
size_t AddressTable<Key>::home(const Key& key) const {
  const auto [w0, w1] = key.words();
  return static_cast<size_t>(fold_mul(fold_mul(w0 ^ key0_, key1_) ^ w1, key1_)) & mask_;
}

template <typename Key>
size_t AddressTable<Key>::find(const Key& key) const {
  size_t i = home(key);
  while (slots_[i].used && !(slots_[i].key == key)) i = (i + 1) & mask_;
  return i;
}

template <typename Key>
LearnResult AddressTable<Key>::learn(const Key& key, PeerName owner, int64_t now_ms) {
  if (!key.is_unicast_source()) return {LearnStatus::kInvalid};
  size_t i = find(key);
  Slot& s = slots_[i];
  if (held(s, owner, now_ms)) return {LearnStatus::kConflict, s.owner};
  if (s.used) {
    // A binding past its expiry is as good as gone: whether expire() already ran must not
    // change the answer, so re-learning it is kNew, never kMoved.
    LearnResult r{LearnStatus::kRefreshed};
    if (expired(s, now_ms)) {
      r.status = LearnStatus::kNew;
    } else if (s.owner != owner) {
      r = {LearnStatus::kMoved, s.owner};
    }
    s.owner = owner;
    s.last_seen_ms = std::max(s.last_seen_ms, now_ms);
    return r;
  }
  if (size_ >= config_.max_entries) return {LearnStatus::kTableFull};
  if ((size_ + 1) * 4 > slots_.size() * 3) {
    grow();
    i = find(key);
  }
  slots_[i] = Slot{key, true, owner, now_ms};
  ++size_;
  return {LearnStatus::kNew};
}

template <typename Key>
std::optional<PeerName> AddressTable<Key>::lookup(const Key& key, int64_t now_ms) const {
  const Slot& s = slots_[find(key)];
  if (!s.used || expired(s, now_ms)) return std::nullopt;
  return s.owner;
}

template <typename Key>
bool AddressTable<Key>::held_by_other(const Key& key, PeerName owner, int64_t now_ms) const {
  return held(slots_[find(key)], owner, now_ms);
}

// Backward-shift deletion: each later member of the probe run moves into the hole when the hole
// lies on its own probe path (between its home and where it sits), so lookups never meet a gap
// inside a run and no tombstones are needed.
template <typename Key>
void AddressTable<Key>::erase_at(size_t hole) {
  for (size_t j = (hole + 1) & mask_; slots_[j].used; j = (j + 1) & mask_) {
    const size_t h = home(slots_[j].key);
    if (((j - h) & mask_) >= ((j - hole) & mask_)) {
      slots_[hole] = slots_[j];
      hole = j;
    }
  }
  slots_[hole] = Slot{};
  --size_;
}

// One pass in slot order. Erasing at i only moves members from later in the run into i..,
// or (a run wrapping past the end) already visited members, so nothing is skipped: i is
// examined again after an erase.
template <typename Key>
template <typename Pred>
size_t AddressTable<Key>::erase_if(Pred pred) {
  size_t n = 0;
  for (size_t i = 0; i < slots_.size();) {
    if (slots_[i].used && pred(slots_[i])) {
      erase_at(i);
      ++n;
    } else {
      ++i;
    }
  }
  return n;
}

template <typename Key>
size_t AddressTable<Key>::expire(int64_t now_ms) {
  return erase_if([&](const Slot& s) { return expired(s, now_ms); });
}

template <typename Key>
size_t AddressTable<Key>::forget_peer(PeerName owner) {
  return erase_if([&](const Slot& s) { return s.owner == owner; });
}

template <typename Key>
void AddressTable<Key>::clear() {
  std::fill(slots_.begin(), slots_.end(), Slot{});
  size_ = 0;
}

template <typename Key>
void AddressTable<Key>::grow() {
  std::vector<Slot> old(slots_.size() * 2);
  old.swap(slots_);
  mask_ = slots_.size() - 1;
  for (const Slot& s : old) {
    if (s.used) slots_[find(s.key)] = s;
  }
}

template <typename Key>
std::vector<typename AddressTable<Key>::Entry> AddressTable<Key>::entries() const {
  std::vector<Entry> out;
  out.reserve(size_);
  for (const Slot& s : slots_) {
    if (s.used) out.push_back({s.key, s.owner, s.last_seen_ms});
  }
  std::sort(out.begin(), out.end(), [](const Entry& a, const Entry& b) { return a.key < b.key; });
  return out;
}

template class AddressTable<Mac>;
template class AddressTable<InnerIp>;

}  // namespace weft
