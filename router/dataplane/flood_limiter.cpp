#include "router/dataplane/flood_limiter.h"

#include <algorithm>

namespace weft {

size_t FloodLimiter::index(const Mac& m) const {
  // splitmix64's finaliser over the keyed MAC.
  uint64_t z = m.to_u64() ^ seed_;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return size_t(z ^ (z >> 31)) % kBuckets;
}

bool FloodLimiter::allow(const Mac& src, int64_t now_ms) {
  Bucket& b = buckets_[index(src)];
  const uint64_t full = uint64_t(limits_.burst) * 1000;
  if (b.last_ms == INT64_MIN) {
    b.milli_tokens = full;
  } else if (now_ms > b.last_ms) {
    // per_second tokens per 1000 ms = per_second milli-tokens per ms.
    uint64_t elapsed = uint64_t(now_ms - b.last_ms);
    b.milli_tokens =
        elapsed >= full ? full : std::min(full, b.milli_tokens + elapsed * limits_.per_second);
  }
  b.last_ms = std::max(b.last_ms, now_ms);
  if (b.milli_tokens < 1000) return false;
  b.milli_tokens -= 1000;
  return true;
}

}  // namespace weft
