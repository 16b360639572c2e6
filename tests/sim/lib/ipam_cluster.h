#pragma once
// IpamCores on the in-process mesh (sim_network.h): one IpamCore per simulated peer, registered
// as the "ipam" gossip channel of its MeshCore, with an in-memory store that survives a crash
// and an env that reads the peer's topology. Shared by the sim tests (tests/sim/test_ipam.cpp)
// and the IPAM benchmark (bench/ipam_bench.cpp).
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ipam/ipam_core.h"
#include "tests/sim/lib/sim_network.h"

namespace weft::sim {

// Durable storage that survives a crash: the last state saved, as the file would hold it.
// (A copy, not JSON: the file format has its own round-trip tests, and 200 peers saving JSON
// on every change would dominate the run.)
struct MemStore : ipam::IpamStore {
  std::optional<ipam::IpamState> saved;
  bool fail = false;
  void save(const ipam::IpamState& s) override {
    if (fail) throw std::runtime_error("disk full");
    saved = s;
  }
  ipam::IpamState load() const { return saved ? *saved : ipam::IpamState{}; }
  const ipam::Allocations& allocations() const;
};

// The peer's view of the mesh, from its topology. Logs go to stderr when WEFT_SIM_IPAM_LOG is
// set; errors are collected in `errors`.
struct SimIpamEnv : ipam::IpamEnv {
  SimNetwork* net = nullptr;
  int index = 0;
  std::vector<std::string>* errors = nullptr;
  std::vector<ipam::PeerInfo> peers() override;
  void log(ipam::Severity s, const std::string& m) override;
};

// Registered as peer i's "ipam" channel in place of its IpamCore: forwards every gossip call to
// the core, then tells the cluster that the core has handled one (IpamCluster::stepped).
struct SteppedChannel : GossipChannel {
  ipam::IpamCore* core = nullptr;
  std::function<void()> after;
  void on_neighbor(PeerName from, ByteView payload, int64_t now_ms) override;
  void on_unicast(PeerName src, ByteView payload, int64_t now_ms) override;
  bool on_broadcast(PeerName src, PeerName from, ByteView payload, int64_t now_ms) override;
  void on_neighbor_up(PeerName peer, int64_t now_ms) override;
  void on_gossip_tick(PeerName neighbor, int64_t now_ms) override;
};

class IpamCluster {
 public:
  IpamCluster(SimOptions o, Ipv4Cidr r, ipam::InitMode m)
      : net(std::move(o)), range(r), init(std::move(m)) {}

  // Creates (or re-creates, from its store) peer i's IpamCore and starts it.
  void attach_ipam(int i, uint64_t started_unix_ms);
  // Adds a mesh peer dialling `targets` and attaches IPAM to it (started at 1000 + i).
  int add(const std::vector<int>& targets);
  // Host gone: its IpamCore is dropped; what it saved stays in its store.
  void crash(int i);
  void restart(int i, const std::vector<int>& targets);

  // Advances virtual time, firing IPAM timers every 10 ms (the mesh fires its own).
  void run(int64_t ms);
  // Runs until pred() holds, checked every `check_ms`; returns whether it held.
  bool run_until(const std::function<bool()>& pred, int64_t max_ms, int64_t check_ms = 50);

  std::vector<int> live() const;
  // Every live peer has a ring and all hold the same digest.
  bool rings_agree() const;

  SimNetwork net;
  Ipv4Cidr range;
  ipam::InitMode init;
  // Overrides for every IpamCore's config (self, range, init and started_unix_ms are set per peer).
  ipam::IpamConfig config_template;
  std::vector<std::unique_ptr<MemStore>> stores;
  std::vector<std::unique_ptr<SimIpamEnv>> envs;
  std::vector<std::unique_ptr<ipam::IpamCore>> ipam;  // null while the peer is down
  std::vector<std::unique_ptr<SteppedChannel>> channels;
  std::vector<std::string> errors;
  // Called after peer i's IpamCore handled a timer (benchmarks track which rings may have moved).
  std::function<void(int)> timer_fired;
  // Called after peer i's IpamCore changed or may have changed: it started, handled a gossip
  // message (even one it rejected) or a timer, or went down (ipam[i] is null then). Tests check
  // invariants here, where they can break.
  std::function<void(int)> stepped;
};

}  // namespace weft::sim
