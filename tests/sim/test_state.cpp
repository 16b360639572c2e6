// The cluster state on the in-process mesh: real StateCores on real MeshCores. Policies and
// namespace labels are written concurrently from random peers while partitions cut the mesh and
// peers crash and restart from what they saved; in the end every peer holds the identical state,
// and every key holds the newest acknowledged write (so no deleted object came back).
// Rerun a failure with WEFT_SIM_SEED=<seed>; WEFT_SIM_PEERS=<n> shrinks the run.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <random>

#include "state/state_core.h"
#include "tests/sim/lib/sim_network.h"

using namespace weft;
using namespace weft::state;
using namespace weft::sim;

namespace {

uint64_t state_seed(uint64_t fallback) {
  if (const char* s = std::getenv("WEFT_SIM_SEED")) return std::strtoull(s, nullptr, 10);
  return fallback;
}

int state_scale(int dflt) {
  if (const char* s = std::getenv("WEFT_SIM_PEERS")) return std::min(dflt, std::max(8, std::atoi(s)));
  return dflt;
}

// What a peer saved last: a restart starts from it, as from DATADIR/state.json.
struct MemStore : StateStore {
  SavedState saved;
  void save(const ObjectTable& t, uint64_t hlc, uint64_t rev) override {
    saved = {};
    t.for_each([&](const Entry& e) { saved.entries.push_back(e); });
    saved.hlc = hlc;
    saved.revision = rev;
  }
};

struct QuietEvents : StateEvents {
  void on_change(const Change&) override {}
  void log(LogLevel, const std::string&) override {}
};

struct StateCluster {
  SimNetwork net;
  std::vector<std::unique_ptr<MemStore>> stores;
  std::vector<std::unique_ptr<StateCore>> cores;
  QuietEvents events;
  // Per key, the newest acknowledged write (by the merge order): what every peer must end with.
  std::map<std::pair<Kind, std::string>, Entry> newest;

  explicit StateCluster(SimOptions o) : net(o) {}

  void attach(int i) {
    if (static_cast<int>(cores.size()) <= i) {
      cores.resize(i + 1);
      stores.resize(i + 1);
    }
    if (!stores[i]) stores[i] = std::make_unique<MemStore>();
    StateConfig c;
    c.self = net.name(i);
    c.started_unix_ms = 1'700'000'000'000 + (i % 7) * 13;  // clocks a little apart
    c.gone_grace_ms = 600'000;  // nobody is gone for good in this run
    cores[i] = std::make_unique<StateCore>(c, net.core(i), net.core(i), *stores[i], events,
                                           stores[i]->saved);
    net.core(i).register_channel(StateCore::kChannel, cores[i].get());
  }
  int add(const std::vector<int>& targets) {
    int i = net.add_peer(targets);
    attach(i);
    return i;
  }
  void crash(int i) {
    net.crash_peer(i);
    cores[i].reset();
  }
  void restart(int i, const std::vector<int>& targets) {
    net.restart_peer(i, targets);
    attach(i);
  }
  void write(int i, Kind k, const std::string& key, std::optional<std::string> value) {
    auto changes = cores[i]->write({{k, key, std::move(value)}}, net.now());
    if (changes.empty()) return;
    const Entry* e = cores[i]->table().find(k, key);
    REQUIRE(e);
    auto [it, inserted] = newest.try_emplace({k, key}, *e);
    if (!inserted && ObjectTable::newer(*e, it->second)) it->second = *e;
  }
  bool converged() const {
    std::optional<uint64_t> root;
    for (size_t i = 0; i < cores.size(); ++i) {
      if (!cores[i]) continue;
      if (root && cores[i]->table().root() != *root) return false;
      root = cores[i]->table().root();
    }
    return true;
  }
};

}  // namespace

TEST_CASE("state: routers edit policies and namespace labels through partitions and crashes") {
  // The 200 routers (3.5 min on this 2-core machine after the mesh speed-ups; most of
  // it is the reconnection of 10,000 connections ~7 s after each of the four partitions).
  // WEFT_SIM_PEERS (CI's sanitizer run) or WEFT_SIM_STATE_PEERS changes the count.
  const uint64_t seed = state_seed(4242);
  const char* big = std::getenv("WEFT_SIM_STATE_PEERS");
  const int n = big ? std::max(8, std::atoi(big)) : state_scale(200);
  MESSAGE("seed " << seed << ", " << n << " peers (set WEFT_SIM_SEED to reproduce)");
  SimOptions o;
  o.seed = seed;
  StateCluster c(o);
  std::mt19937_64 rng(seed);
  auto targets_for = [&](int i) {
    std::vector<int> t;
    for (int k = 0; k < std::min(i, 3); ++k) t.push_back(static_cast<int>(rng() % i));
    return t;
  };
  for (int i = 0; i < n; ++i) c.add(targets_for(i));
  REQUIRE(c.net.run_until([&] { return c.net.views_agree_on_members(); }, 60'000, 200));

  std::vector<int> crashed;
  for (int round = 0; round < 24; ++round) {
    // Writes from random live peers: policies set and deleted, namespace labels changed.
    for (int w = 0; w < 25; ++w) {
      int i = static_cast<int>(rng() % n);
      if (!c.cores[i]) continue;
      std::string ns = "ns" + std::to_string(rng() % 4);
      if (rng() % 3 == 0) {
        c.write(i, Kind::kNamespace, ns, "{\"labels\":{\"round\":\"" + std::to_string(round) + "\"}}");
      } else {
        std::string key = ns + "/p" + std::to_string(rng() % 30);
        if (rng() % 3 == 0)
          c.write(i, Kind::kPolicy, key, std::nullopt);
        else
          c.write(i, Kind::kPolicy, key, "{\"spec\":{\"v\":" + std::to_string(rng() % 1000) + "}}");
      }
      c.net.run_for(static_cast<int64_t>(rng() % 40));
    }
    // Every few rounds: a partition into two halves, healed two rounds later; a crash and,
    // two rounds later, a restart from what the peer saved.
    if (round % 6 == 1) {
      std::vector<int> a, b;
      for (int i = 0; i < n; ++i) (rng() % 2 ? a : b).push_back(i);
      c.net.partition(a, b);
    }
    if (round % 6 == 3) c.net.heal_all();
    if (round % 4 == 0) {
      int i = 1 + static_cast<int>(rng() % (n - 1));
      if (c.cores[i]) {
        c.crash(i);
        crashed.push_back(i);
      }
    } else if (round % 4 == 2 && !crashed.empty()) {
      int i = crashed.back();
      crashed.pop_back();
      c.restart(i, {0, static_cast<int>(rng() % n)});
    }
    c.net.run_for(500);
  }
  c.net.heal_all();
  for (int i : crashed) c.restart(i, {0});
  bool ok = c.net.run_until([&] { return c.converged(); }, 120'000, 250);
  CHECK_MESSAGE(ok, "the peers' states did not converge (seed " << seed << ")");
  // Every peer holds, for every key, exactly the newest acknowledged write: a delete that won
  // stays deleted everywhere.
  size_t deleted = 0;
  for (const auto& [k, want] : c.newest) {
    deleted += want.deleted;
    for (size_t i = 0; i < c.cores.size(); ++i) {
      const Entry* got = c.cores[i]->table().find(k.first, k.second);
      REQUIRE_MESSAGE(got, "peer " << i << " lacks " << k.second);
      CHECK_MESSAGE(*got == want, "peer " << i << " holds another version of " << k.second);
    }
  }
  MESSAGE(c.newest.size() << " keys, " << deleted << " deleted, converged at " << c.net.now() << " ms");
  CHECK(deleted > 0);
}
