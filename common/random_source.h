#pragma once
// Where randomness enters a core. Production draws from the operating system through libsodium
// (system_random()); the simulator passes a SeededRandom so that one printed seed replays a run
// bit for bit, ephemeral keys included (ARCHITECTURE.md §2: randomness is passed in).
//
// Cores that only need non-secret randomness (jitter, shuffles, session ids) take a 64-bit seed
// for their own std::mt19937_64 instead; the caller draws that seed from a RandomSource.
#include <cstddef>
#include <cstdint>
#include <random>

namespace weft {

class RandomSource {
 public:
  virtual ~RandomSource() = default;
  // Fills out[0, n) with random bytes. Never fails.
  virtual void fill(uint8_t* out, size_t n) = 0;
  // Eight bytes of fill(), for seeding a core's own generator.
  uint64_t next_u64();
};

// libsodium's randombytes_buf (getrandom(2)): for keys and anything secret. Thread-safe.
RandomSource& system_random();

// A deterministic stream from a 64-bit seed, for simulations and tests only: its output is
// predictable by anyone who knows the seed, so it must never key real traffic.
class SeededRandom final : public RandomSource {
 public:
  explicit SeededRandom(uint64_t seed) : gen_(seed) {}
  void fill(uint8_t* out, size_t n) override;

 private:
  std::mt19937_64 gen_;
};

}  // namespace weft
