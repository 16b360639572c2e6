#include "router/dataplane/replay_window.h"

#include <algorithm>

namespace weft {

bool ReplayWindow::check(uint64_t counter) const {
  if (counter >= kRejectAfter) return false;
  const uint64_t c = counter + 1;
  // No overflow: c <= kRejectAfter, so c + kWindowSize < UINT64_MAX.
  if (c + kWindowSize < top_) return false;  // older than the window
  if (c > top_) return true;                 // newer than anything seen
  return (blocks_[block_of(c)] & bit_of(c)) == 0;
}

bool ReplayWindow::update(uint64_t counter) {
  if (counter >= kRejectAfter) return false;
  const uint64_t c = counter + 1;
  if (c + kWindowSize < top_) return false;
  if (c > top_) {
    // Zero the blocks the window moves into. The block of top_ keeps its bits (they are still
    // inside the window); a jump of kBlocks or more zeroes the whole ring once.
    const uint64_t cur = top_ / kBlockBits;
    const uint64_t steps = std::min<uint64_t>(c / kBlockBits - cur, kBlocks);
    for (uint64_t i = 1; i <= steps; ++i) blocks_[static_cast<size_t>((cur + i) % kBlocks)] = 0;
    top_ = c;
  }
  uint64_t& block = blocks_[block_of(c)];
  if (block & bit_of(c)) return false;
  block |= bit_of(c);
  return true;
}

void ReplayWindow::reset() {
  top_ = 0;
  blocks_.fill(0);
}

}  // namespace weft
