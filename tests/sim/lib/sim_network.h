#pragma once
// An in-process mesh: N MeshCores joined by virtual TCP connections on a virtual clock. Links
// have a fixed delay (so each connection stays FIFO, like TCP) and can be cut; peers can crash
// (connections go silent, as with a dead host) or stop (connections close, as after kill -9 of a
// process, whose kernel still closes the sockets). Everything is driven by one seeded RNG, so a
// run is reproducible from its seed. Control-channel crypto is not simulated: the mesh
// messages themselves (encoded bytes) travel the links.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "router/mesh/mesh_core.h"
#include "tests/sim/lib/virtual_clock.h"

namespace weft::sim {

struct SimOptions {
  uint64_t seed = 1;
  int64_t link_delay_ms = 2;
  bool discovery = true;
  MeshConfig mesh;  // template for every peer (self and seed are filled in)
};

class SimNetwork {
 public:
  explicit SimNetwork(SimOptions opts);
  ~SimNetwork();

  // Adds and starts a peer that dials `targets` (indices of other peers). Returns its index.
  int add_peer(const std::vector<int>& targets);
  // Process gone, kernel closes its sockets: peers see the connections close.
  void stop_peer(int i);
  // Host gone: its connections go silent; peers notice by missing heartbeats.
  void crash_peer(int i);
  // Restarts a stopped or crashed peer with the same name and a new incarnation.
  void restart_peer(int i, const std::vector<int>& targets);
  bool alive(int i) const;

  void cut(int a, int b);
  void heal(int a, int b);
  // Cuts every link between the two groups.
  void partition(const std::vector<int>& a, const std::vector<int>& b);
  void heal_all();

  int64_t now() const { return clock_.now(); }
  void run_for(int64_t ms) { clock_.run_for(ms); }
  // Runs until pred() holds (checked every check_every_ms) or the deadline; returns whether it
  // held.
  bool run_until(const std::function<bool()>& pred, int64_t max_ms, int64_t check_every_ms = 50) {
    return clock_.run_until(pred, max_ms, check_every_ms);
  }

  size_t size() const { return peers_.size(); }
  MeshCore& core(int i);
  PeerName name(int i) const;
  std::vector<int> alive_peers() const;

  // Every live peer is connected to every other live peer it can reach and all views agree.
  bool full_mesh_converged() const;
  // All live peers hold the same set of records (the live peers) with the same versions.
  bool views_agree() const;
  // A weaker check: every live peer's view lists exactly the live peers, all reachable.
  bool views_agree_on_members() const;

  // Totals across peers, for benchmarks.
  uint64_t messages_delivered() const { return messages_; }
  uint64_t bytes_delivered() const { return bytes_; }
  uint64_t events_processed() const { return clock_.events_processed(); }
  // Per peer (by index), since the peer was added (restarts keep counting): messages and bytes
  // delivered to it, and heartbeats among those. Counted where the totals above are counted.
  uint64_t messages_received(int i) const;
  uint64_t bytes_received(int i) const;
  uint64_t heartbeats_received(int i) const;
  // Messages and bytes peer i sent that were delivered.
  uint64_t messages_sent(int i) const;
  uint64_t bytes_sent(int i) const;
  // Called for every delivered message just before the receiving core sees it (for benchmarks
  // that classify traffic). It must not touch the network; it cannot change the run.
  using DeliveryObserver = std::function<void(int from, int to, ByteView message)>;
  void set_delivery_observer(DeliveryObserver f) { observer_ = std::move(f); }
  // A hash of the run's observable history, to check determinism.
  uint64_t trace_hash() const { return trace_; }

 private:
  struct Peer;
  struct Io;
  struct Link {  // one side of a virtual TCP connection
    int peer;
    ConnId id;
  };

  void touch(int i);  // (re)arm peer i's timer after it was called
  void dial(int from, ConnId id, const std::string& address);
  void send(int from, ConnId id, Bytes msg);
  void close(int from, ConnId id);
  bool link_up(int a, int b) const;
  std::string address_of(int i) const;
  void start_peer(int i, const std::vector<int>& targets);
  void drop_all_connections(int i, bool notify);
  void record(uint64_t v);
  std::vector<const MeshCore*> live_cores() const;

  SimOptions opts_;
  std::mt19937_64 rng_;
  VirtualClock clock_;
  std::vector<std::unique_ptr<Peer>> peers_;
  std::map<std::string, int> by_address_;
  std::map<std::pair<int, ConnId>, Link> wires_;  // each side -> the other side
  std::set<std::pair<int, int>> cut_;
  uint64_t messages_ = 0, bytes_ = 0, trace_ = 0;
  DeliveryObserver observer_;
};

}  // namespace weft::sim
