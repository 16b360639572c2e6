#include "state/hlc.h"

#include <algorithm>

namespace weft::state {

uint64_t HybridClock::tick(int64_t wall_ms) {
  last_ = std::max(pack(std::max<int64_t>(wall_ms, 0), 0), last_ + 1);
  return last_;
}

bool HybridClock::observe(uint64_t reading, int64_t wall_ms) {
  last_ = std::max(last_, reading);
  return wall_of(reading) > wall_ms + kMaxSkewMs;
}

}  // namespace weft::state
