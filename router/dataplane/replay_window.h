#pragma once
// Sliding anti-replay window over a session's 64-bit datagram counters: RFC 6479's ring of 64-bit
// blocks, as WireGuard uses it. Moving the window forward zeroes whole blocks instead of shifting
// the bitmap, so an in-order datagram costs at most one block store and a jump costs at most
// kBlocks. One spare block beyond the window means the oldest counter still accepted always lies
// in a block that has not been recycled yet.
//
// The receiver calls check() before authenticating a datagram (cheap rejection, no state change:
// a forged datagram must not move the window) and update() only once it authenticated.
#include <array>
#include <cstddef>
#include <cstdint>

namespace weft {

class ReplayWindow {
 public:
  static constexpr size_t kBlockBits = 64;
  // A power of two so that the ring index is a mask. 4096 bits, 512 bytes per window: more than
  // the 2048 asked for, because several threads per direction and batched sends reorder more than
  // one queue does (WireGuard's kernel module likewise grew its ring from 2048 to 8192 bits).
  static constexpr size_t kBlocks = 64;
  // A counter up to kWindowSize below the highest one seen is still accepted (if not yet seen):
  // kWindowSize + 1 counters are tracked, the same convention as WireGuard's COUNTER_WINDOW_SIZE.
  static constexpr uint64_t kWindowSize = (kBlocks - 1) * kBlockBits;
  // Counters at or beyond this are rejected outright, as WireGuard's REJECT_AFTER_MESSAGES
  // (2^64 - 1 - window - 1): the sender rekeys long before, and it keeps every addition below
  // overflow-free.
  static constexpr uint64_t kRejectAfter = UINT64_MAX - kWindowSize - 1;

  static_assert((kBlocks & (kBlocks - 1)) == 0, "the ring index is a mask");

  // True when `counter` would be accepted now: below kRejectAfter, not older than the window,
  // not seen. Changes nothing.
  bool check(uint64_t counter) const;
  // Marks `counter` as seen and moves the window forward when it is the newest. Returns false
  // (changing nothing) exactly when check() would have.
  bool update(uint64_t counter);
  // Forgets every counter, as for a fresh key.
  void reset();
  // The highest counter accepted so far; 0 when none was (see empty()).
  uint64_t highest() const { return top_ == 0 ? 0 : top_ - 1; }
  bool empty() const { return top_ == 0; }

 private:
  // Counters are stored plus one, so that 0 means "nothing seen" and counter 0 needs no flag.
  static size_t block_of(uint64_t c) { return static_cast<size_t>(c / kBlockBits) % kBlocks; }
  static uint64_t bit_of(uint64_t c) { return uint64_t{1} << (c % kBlockBits); }

  uint64_t top_ = 0;  // highest accepted counter + 1
  std::array<uint64_t, kBlocks> blocks_{};
};

}  // namespace weft
