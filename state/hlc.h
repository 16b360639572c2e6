#pragma once
// A hybrid logical clock (Kulkarni et al., "Logical Physical Clocks", 2014): readings follow
// wall time where clocks agree and never go backwards or fall behind anything already seen,
// so "last writer wins" orders a change made after seeing another after it, even when the
// writer's wall clock is behind.
//
// A reading packs milliseconds since the Unix epoch (upper 48 bits) and a counter for events
// within one millisecond (lower 16 bits). Pure: the caller passes the wall time.
#include <cstdint>

namespace weft::state {

class HybridClock {
 public:
  static constexpr int kCounterBits = 16;

  // A reading for a local event at wall time `wall_ms`: greater than every reading returned or
  // observed so far.
  uint64_t tick(int64_t wall_ms);
  // Takes a reading seen on a remote entry into account, so later ticks exceed it. A reading
  // more than kMaxSkewMs ahead of `wall_ms` is still honoured (refusing it would let a wrong
  // clock freeze writes), but reported so the caller can log it.
  bool observe(uint64_t reading, int64_t wall_ms);
  uint64_t last() const { return last_; }
  void restore(uint64_t last) { last_ = last; }

  static constexpr int64_t kMaxSkewMs = 60'000;
  static uint64_t pack(int64_t wall_ms, uint16_t counter) {
    return (static_cast<uint64_t>(wall_ms) << kCounterBits) | counter;
  }
  static int64_t wall_of(uint64_t reading) { return static_cast<int64_t>(reading >> kCounterBits); }

 private:
  uint64_t last_ = 0;
};

}  // namespace weft::state
