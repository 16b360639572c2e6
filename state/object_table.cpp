#include "state/object_table.h"

#include <sodium.h>

#include <tuple>

namespace weft::state {

namespace {

// A keyed 64-bit hash (SipHash-2-4 via libsodium) with a fixed key: digests must agree across
// peers, and the inputs come from authenticated peers, so a public key is enough.
uint64_t hash64(const std::string& data) {
  static const unsigned char kKey[crypto_shorthash_KEYBYTES] = {'w', 'e', 'f', 't', '-',
                                                                's', 't', 'a', 't', 'e'};
  unsigned char out[crypto_shorthash_BYTES];
  crypto_shorthash(out, reinterpret_cast<const unsigned char*>(data.data()), data.size(), kKey);
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | out[i];
  return v;
}

std::string key_bytes(Kind kind, const std::string& key) {
  std::string s(1, static_cast<char>(kind));
  s += key;
  return s;
}

}  // namespace

size_t ObjectTable::bucket_of(Kind kind, const std::string& key) {
  return hash64(key_bytes(kind, key)) % kBuckets;
}

uint64_t ObjectTable::entry_hash(const Entry& e) {
  // The version identifies the write (the value cannot differ under the same version), so the
  // value need not be hashed: O(key) per entry.
  std::string s = key_bytes(e.kind, e.key);
  s.push_back('\0');
  for (int i = 0; i < 8; ++i) s.push_back(static_cast<char>(e.version.hlc >> (8 * i)));
  for (int i = 0; i < 8; ++i) s.push_back(static_cast<char>(e.version.writer >> (8 * i)));
  s.push_back(e.deleted ? 1 : 0);
  return hash64(s);
}

bool ObjectTable::newer(const Entry& a, const Entry& b) {
  // A tombstone wins a tie: the deterministic tombstones of a departed host's workloads (see
  // StateCore::forget_host) may share a version with nothing else but a live entry.
  return std::tie(a.version, a.deleted) > std::tie(b.version, b.deleted);
}

bool ObjectTable::merge(const Entry& e) {
  auto [it, inserted] = entries_.try_emplace({e.kind, e.key}, e);
  if (inserted) {
    account(e);
    return true;
  }
  if (!newer(e, it->second)) return false;
  account(it->second);  // XOR out the old
  it->second = e;
  account(e);
  return true;
}

void ObjectTable::put(const Entry& e) {
  erase(e.kind, e.key);
  entries_.emplace(std::make_pair(e.kind, e.key), e);
  account(e);
}

void ObjectTable::erase(Kind kind, const std::string& key) {
  auto it = entries_.find({kind, key});
  if (it == entries_.end()) return;
  account(it->second);
  entries_.erase(it);
}

const Entry* ObjectTable::find(Kind kind, const std::string& key) const {
  auto it = entries_.find({kind, key});
  return it == entries_.end() ? nullptr : &it->second;
}

std::vector<const Entry*> ObjectTable::live(Kind kind) const {
  std::vector<const Entry*> out;
  for (auto it = entries_.lower_bound({kind, std::string()});
       it != entries_.end() && it->first.first == kind; ++it)
    if (!it->second.deleted) out.push_back(&it->second);
  return out;
}

void ObjectTable::for_each(const std::function<void(const Entry&)>& f) const {
  for (const auto& [k, e] : entries_) f(e);
}

uint64_t ObjectTable::root() const {
  std::string s(reinterpret_cast<const char*>(digest_.data()), sizeof digest_);
  return hash64(s);
}

std::vector<const Entry*> ObjectTable::in_buckets(const std::vector<size_t>& buckets) const {
  std::vector<bool> want(kBuckets, false);
  for (size_t b : buckets)
    if (b < kBuckets) want[b] = true;
  std::vector<const Entry*> out;
  for (const auto& [k, e] : entries_)
    if (want[bucket_of(e.kind, e.key)]) out.push_back(&e);
  return out;
}

}  // namespace weft::state
