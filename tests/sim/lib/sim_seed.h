#pragma once
// The seed a simulation test runs with: WEFT_SIM_SEED when set (to replay a printed seed),
// else the test's own.
#include <cstdint>
#include <cstdlib>

namespace weft::sim {

inline uint64_t sim_seed(uint64_t fallback) {
  if (const char* s = std::getenv("WEFT_SIM_SEED")) return std::strtoull(s, nullptr, 10);
  return fallback;
}

}  // namespace weft::sim
