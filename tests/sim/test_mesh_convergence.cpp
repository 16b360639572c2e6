// The mesh in one process: convergence, partitions, churn and peer GC on a virtual clock.
// Every test prints its seed; rerun with WEFT_SIM_SEED=<seed> to reproduce a failure.
#include <doctest/doctest.h>

#include <cstdlib>
#include <iostream>

#include "tests/sim/lib/sim_network.h"

using namespace weft;
using namespace weft::sim;

namespace {

uint64_t seed_for(uint64_t fallback) {
  if (const char* s = std::getenv("WEFT_SIM_SEED")) return std::strtoull(s, nullptr, 10);
  return fallback;
}

SimOptions options(uint64_t seed) {
  SimOptions o;
  o.seed = seed_for(seed);
  MESSAGE("seed " << o.seed << " (set WEFT_SIM_SEED to reproduce)");
  return o;
}

// Every new peer knows one existing peer (like `weft launch <one address>`); discovery does the rest.
void grow(SimNetwork& net, int n, std::mt19937_64& rng) {
  for (int i = 0; i < n; ++i) {
    int existing = static_cast<int>(net.size());
    if (existing == 0) {
      net.add_peer({});
    } else {
      std::uniform_int_distribution<int> pick(0, existing - 1);
      net.add_peer({pick(rng)});
    }
  }
}

}  // namespace

TEST_CASE("a handful of peers form a full mesh and agree on the topology") {
  SimNetwork net(options(7));
  std::mt19937_64 rng(1);
  grow(net, 5, rng);
  REQUIRE(net.run_until([&] { return net.full_mesh_converged(); }, 20'000));
  for (int i = 0; i < 5; ++i) {
    CHECK(net.core(i).neighbors().size() == 4);
    for (int j = 0; j < 5; ++j)
      if (i != j) CHECK(net.core(i).topology().hops(net.name(j)) == 1);
  }
}

TEST_CASE("200 peers converge to a full mesh") {
  SimNetwork net(options(200));
  std::mt19937_64 rng(net.now() + 200);
  grow(net, 200, rng);
  REQUIRE(net.run_until([&] { return net.full_mesh_converged(); }, 120'000, 500));
  MESSAGE("converged at t=" << net.now() << " ms after " << net.messages_delivered()
                            << " messages");
}
