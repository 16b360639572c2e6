#pragma once
// Every entry of the cluster state this peer holds, merged last-writer-wins (entry.h), with a
// digest per bucket of keys so two peers find what differs between them by comparing 256
// hashes instead of their whole state (anti-entropy in O(difference)).
#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "state/entry.h"

namespace weft::state {

class ObjectTable {
 public:
  static constexpr size_t kBuckets = 256;
  using Digest = std::array<uint64_t, kBuckets>;

  // Whether `a` wins over `b` for the same key: the greater version, a tombstone on a tie.
  static bool newer(const Entry& a, const Entry& b);
  // Takes `e` if it is newer than what the table holds under (kind, key). Returns true when
  // it was taken (the state changed); an older or equal entry changes nothing.
  bool merge(const Entry& e);
  // Puts `e` in place whatever it holds (restoring a saved state, rolling back).
  void put(const Entry& e);
  void erase(Kind kind, const std::string& key);

  const Entry* find(Kind kind, const std::string& key) const;
  // Live (not deleted) entries of one kind, in key order.
  std::vector<const Entry*> live(Kind kind) const;
  // Every entry, tombstones included.
  void for_each(const std::function<void(const Entry&)>& f) const;
  size_t size() const { return entries_.size(); }

  static size_t bucket_of(Kind kind, const std::string& key);
  const Digest& digest() const { return digest_; }
  // One hash of the whole digest: equal tables have equal roots.
  uint64_t root() const;
  // Every entry (tombstones included) in the given buckets.
  std::vector<const Entry*> in_buckets(const std::vector<size_t>& buckets) const;

 private:
  static uint64_t entry_hash(const Entry& e);
  void account(const Entry& e) { digest_[bucket_of(e.kind, e.key)] ^= entry_hash(e); }

  std::map<std::pair<Kind, std::string>, Entry> entries_;
  Digest digest_{};
};

}  // namespace weft::state
