// ReplayWindow: WireGuard's replay-counter self-test vectors, edge cases of the ring, and a seeded
// randomized comparison against a naive model (a set of seen counters and the highest one).
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <set>
#include <vector>

#include "router/dataplane/replay_window.h"

using weft::ReplayWindow;

namespace {

constexpr uint64_t W = ReplayWindow::kWindowSize;
constexpr uint64_t kReject = ReplayWindow::kRejectAfter;

// One step of the kernel self-test: counter_validate() there is check-and-update in one, so here
// check() must predict the answer and update() must give it.
void T(ReplayWindow& w, uint64_t n, bool expected) {
  CAPTURE(n);
  CHECK(w.check(n) == expected);
  CHECK(w.update(n) == expected);
}

// What a replay window must answer, written the obvious way.
struct Model {
  std::set<uint64_t> seen;
  bool any = false;
  uint64_t hi = 0;

  bool accepts(uint64_t n) const {
    if (n >= kReject) return false;
    if (!any || n > hi) return true;
    return hi - n <= W && !seen.contains(n);
  }
  void update(uint64_t n) {
    if (!accepts(n)) return;
    seen.insert(n);
    if (!any || n > hi) hi = n;
    any = true;
    if (hi > W) seen.erase(seen.begin(), seen.lower_bound(hi - W));  // keep the set small
  }
};

}  // namespace

TEST_CASE("ReplayWindow constants follow WireGuard's conventions") {
  CHECK(W >= 2048);
  CHECK(W == (ReplayWindow::kBlocks - 1) * ReplayWindow::kBlockBits);
  CHECK(kReject == UINT64_MAX - W - 1);
}

// The sequence of drivers/net/wireguard/selftest/counter.c (Linux), with its T_LIM =
// COUNTER_WINDOW_SIZE + 1 and REJECT_AFTER_MESSAGES = U64_MAX - COUNTER_WINDOW_SIZE - 1 expressed
// in our kWindowSize. The expectations are written relative to the window size, so they transfer.
TEST_CASE("ReplayWindow passes WireGuard's counter self-test vectors") {
  constexpr uint64_t T_LIM = W + 1;
  ReplayWindow w;
  SUBCASE("mixed sequence, 34 steps") {
    T(w, 0, true);                         //  1
    T(w, 1, true);                         //  2
    T(w, 1, false);                        //  3
    T(w, 9, true);                         //  4
    T(w, 8, true);                         //  5
    T(w, 7, true);                         //  6
    T(w, 7, false);                        //  7
    T(w, T_LIM, true);                     //  8
    T(w, T_LIM - 1, true);                 //  9
    T(w, T_LIM - 1, false);                // 10
    T(w, T_LIM - 2, true);                 // 11
    T(w, 2, true);                         // 12
    T(w, 2, false);                        // 13
    T(w, T_LIM + 16, true);                // 14
    T(w, 3, false);                        // 15
    T(w, T_LIM + 16, false);               // 16
    T(w, T_LIM * 4, true);                 // 17
    T(w, T_LIM * 4 - (T_LIM - 1), true);   // 18
    T(w, 10, false);                       // 19
    T(w, T_LIM * 4 - T_LIM, false);        // 20
    T(w, T_LIM * 4 - (T_LIM + 1), false);  // 21
    T(w, T_LIM * 4 - (T_LIM - 2), true);   // 22
    T(w, T_LIM * 4 + 1 - T_LIM, false);    // 23
    T(w, 0, false);                        // 24
    T(w, kReject, false);                  // 25
    T(w, kReject - 1, true);               // 26
    T(w, kReject, false);                  // 27
    T(w, kReject - 1, false);              // 28
    T(w, kReject - 2, true);               // 29
    T(w, kReject + 1, false);              // 30
    T(w, kReject + 2, false);              // 31
    T(w, kReject - 2, false);              // 32
    T(w, kReject - 3, true);               // 33
    T(w, 0, false);                        // 34
  }
  SUBCASE("a full window, then the oldest counter still fits") {
    for (uint64_t i = 1; i <= W; ++i) T(w, i, true);
    T(w, 0, true);
    T(w, 0, false);
  }
  SUBCASE("a full window one further, then 0 has fallen out") {
    for (uint64_t i = 2; i <= W + 1; ++i) T(w, i, true);
    T(w, 1, true);
    T(w, 0, false);
  }
  SUBCASE("descending from the window's top down to 0") {
    for (uint64_t i = W + 1; i-- > 0;) T(w, i, true);
  }
  SUBCASE("descending from one beyond, then 0 is too old") {
    for (uint64_t i = W + 2; i-- > 1;) T(w, i, true);
    T(w, 0, false);
  }
  SUBCASE("descending to 1, then a newer counter pushes 0 out") {
    for (uint64_t i = W + 1; i-- > 1;) T(w, i, true);
    T(w, W + 1, true);
    T(w, 0, false);
  }
  SUBCASE("descending to 1, then 0 still fits before the newer counter") {
    for (uint64_t i = W + 1; i-- > 1;) T(w, i, true);
    T(w, 0, true);
    T(w, W + 1, true);
  }
}

TEST_CASE("ReplayWindow check() never changes the window") {
  ReplayWindow w;
  CHECK(w.empty());
  CHECK(w.check(0));
  CHECK(w.check(1'000'000'000));  // a forged far-future counter, not authenticated
  CHECK(w.empty());
  CHECK(w.update(0));  // so counter 0 is still usable
  CHECK_FALSE(w.empty());
  CHECK(w.highest() == 0);
  CHECK(w.check(5));
  CHECK(w.check(5));
  CHECK(w.update(5));
  CHECK_FALSE(w.check(5));
  CHECK_FALSE(w.update(5));
  CHECK(w.highest() == 5);
}

TEST_CASE("ReplayWindow accepts exactly kWindowSize below the highest") {
  ReplayWindow w;
  const uint64_t top = 100'000;
  REQUIRE(w.update(top));
  CHECK(w.check(top - W));
  CHECK_FALSE(w.check(top - W - 1));
  CHECK_FALSE(w.update(top - W - 1));
  CHECK(w.update(top - W));
  CHECK_FALSE(w.update(top - W));
  CHECK(w.highest() == top);
}

TEST_CASE("ReplayWindow zeroes recycled ring blocks") {
  constexpr uint64_t lap = ReplayWindow::kBlocks * ReplayWindow::kBlockBits;
  for (uint64_t jump : {lap - 64, lap, lap + 1, lap * 3 + 7, W, W + 1, uint64_t{64}}) {
    CAPTURE(jump);
    ReplayWindow w;
    // Fill the first two blocks entirely, then jump: counters in the blocks the window moved
    // into must not see those bits again.
    for (uint64_t i = 0; i < 128; ++i) REQUIRE(w.update(i));
    const uint64_t top = 127 + jump;
    REQUIRE(w.update(top));
    for (uint64_t i = 0; i < 128; ++i) {
      const uint64_t n = i + jump;
      if (n < 128 || n >= top) continue;  // seen already, or the top itself
      CAPTURE(n);
      CHECK(w.check(n) == (top - n <= W));
    }
    for (uint64_t i = 0; i < 128; ++i) {
      CAPTURE(i);
      CHECK_FALSE(w.check(i));  // seen, or too old: never again
    }
  }
}

TEST_CASE("ReplayWindow reset forgets everything") {
  ReplayWindow w;
  for (uint64_t i = 0; i < 5000; i += 3) REQUIRE(w.update(i));
  w.reset();
  CHECK(w.empty());
  CHECK(w.highest() == 0);
  for (uint64_t i = 0; i < 5000; i += 3) CHECK(w.update(i));
}

TEST_CASE("ReplayWindow agrees with a naive model under reordering, replays and jumps") {
  for (uint64_t seed = 1; seed <= 24; ++seed) {
    CAPTURE(seed);
    std::mt19937_64 rng(seed);
    // How far back a datagram may arrive late: well inside, around, and beyond the window.
    const uint64_t spreads[] = {8, W / 2, W, W + 64, 3 * W};
    const uint64_t spread = spreads[seed % 5];
    // Some runs start next to the reject limit, to cover the top of the counter space.
    uint64_t pos = seed % 6 == 0 ? kReject - 4 * W : rng() % 1000;
    ReplayWindow w;
    Model m;
    std::vector<uint64_t> delivered;
    auto pick = [&](uint64_t n) { return rng() % n; };
    bool ok = true;
    for (int step = 0; step < 20000 && ok; ++step) {
      uint64_t n;
      bool authentic = pick(10) != 0;  // one in ten fails authentication: check() only
      const uint64_t op = pick(100);
      if (op < 70) {  // the next counters, each possibly late
        pos += pick(3);
        n = pos - std::min(pos, pick(spread + 1));
      } else if (op < 80 && !delivered.empty()) {  // a replay of something accepted
        n = delivered[pick(delivered.size())];
      } else if (op < 84) {  // a gap: a burst lost, or the sender skipped ahead
        pos += pick(4 * W);
        n = pos;
      } else if (op < 90) {  // around the oldest counter still in the window
        const uint64_t oldest = m.hi > W ? m.hi - W : 0;
        n = oldest + pick(5);
        if (n >= 2) n -= 2;
      } else if (op < 93) {  // forged: anything at all, never authentic
        n = pick(2) ? rng() : kReject - 2 + pick(4);
        authentic = false;
      } else {
        n = pos;
      }
      if (pos >= kReject) pos = kReject - 1;
      const bool want = m.accepts(n);
      if (w.check(n) != want) {
        FAIL_CHECK("check() disagrees at step " << step << " counter " << n << " want " << want);
        ok = false;
      }
      if (authentic) {
        if (w.update(n) != want) {
          FAIL_CHECK("update() disagrees at step " << step << " counter " << n);
          ok = false;
        }
        m.update(n);
        if (want) {
          delivered.push_back(n);
          if (delivered.size() > 4096) delivered.erase(delivered.begin(), delivered.begin() + 2048);
        }
      }
      if (w.highest() != m.hi || w.empty() == m.any) {
        FAIL_CHECK("highest() disagrees at step " << step);
        ok = false;
      }
    }
  }
}
