#pragma once
// The whole router in one process: N peers, each a real MeshCore and a real DataplaneCore wired
// the way RouterDaemon wires them, whose control connections run the real ControlChannel
// (preamble, Noise handshake, sealed transport frames) and whose data sessions carry real sealed
// datagrams. Simulated workloads put Ethernet frames into their peer's DataplaneCore and record
// what comes out of the others'. Everything runs on a virtual clock and draws from one seeded
// generator (ephemeral keys included, through SeededRandom), so a seed replays a run bit for bit.
//
// Links (LinkFaults) misbehave the way real ones do, separately for the two paths:
//   control (TCP): a byte stream per direction. Bytes arrive in order, cut into segments of
//     random size (so message boundaries never line up with reads); a "lost" segment arrives
//     late (a retransmission) and holds back everything after it; different connections are
//     delayed independently, so messages on different connections reorder.
//   data (UDP): each datagram is lost, duplicated, delayed past later ones, or dropped for
//     exceeding the link MTU, independently.
// A cut (partition) silences both paths: connections across it never deliver again (the cores
// notice by missing heartbeats), datagrams across it are lost. cut_udp() silences only UDP.
//
// Not simulated: the bridge (a frame a peer injects is recorded for that peer, whichever of its
// workloads it is for), TAP offloads, the API, IPAM.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "router/dataplane/dataplane_core.h"
#include "router/mesh/mesh_core.h"
#include "tests/sim/lib/virtual_clock.h"

namespace weft::sim {

struct LinkFaults {
  int64_t delay_ms = 2;   // one way, both paths
  int64_t jitter_ms = 0;  // uniform extra delay per stream segment / datagram
  // Control path.
  double stream_retransmit = 0;  // chance a segment is lost once and resent after rto_ms
  int64_t rto_ms = 200;
  size_t max_segment = 1448;  // stream bytes arrive in segments of 1..max_segment bytes
  // Data path.
  double udp_loss = 0;
  double udp_duplicate = 0;
  double udp_reorder = 0;  // chance a datagram is held back 1..reorder_ms more
  int64_t reorder_ms = 10;
  size_t mtu = 1500;  // IP packet size; a larger UDP datagram (+28 bytes of headers) is dropped
};

struct RouterSimOptions {
  uint64_t seed = 1;
  bool discovery = true;
  bool encrypted = true;
  LinkFaults faults;
  MeshConfig mesh;  // template for every peer (self and seed are filled in)
};

// What the network did to traffic, for positive controls (a fault that never happened proves
// nothing).
struct LinkCounters {
  uint64_t udp_sent = 0, udp_lost = 0, udp_duplicated = 0, udp_reordered = 0, udp_too_big = 0;
  uint64_t udp_cut = 0, segments = 0, retransmits = 0, handshakes = 0, handshake_failures = 0;
};

class RouterSim {
 public:
  explicit RouterSim(RouterSimOptions opts);
  ~RouterSim();
  RouterSim(const RouterSim&) = delete;
  RouterSim& operator=(const RouterSim&) = delete;

  // Adds and starts a peer that dials `targets` (indices of other peers). Returns its index.
  int add_peer(const std::vector<int>& targets);
  // Process gone, kernel closes its sockets / host gone, its connections go silent.
  void stop_peer(int i);
  void crash_peer(int i);
  // Restarts a stopped or crashed peer with the same name and a new incarnation. Its workloads
  // stay attached (their frames go to the new cores).
  void restart_peer(int i, const std::vector<int>& targets);
  bool alive(int i) const;

  void partition(const std::vector<int>& a, const std::vector<int>& b);
  void heal_all();
  // Only UDP between a and b is lost (a firewall), the control connection stays up.
  void cut_udp(int a, int b);
  void heal_udp(int a, int b);
  void set_faults(const LinkFaults& f) { opts_.faults = f; }
  const LinkFaults& faults() const { return opts_.faults; }

  // --- Workloads: a MAC and an IPv4 address behind one peer's bridge.
  int add_workload(int peer);
  // The workload is now behind `peer`'s bridge (a migration).
  void move_workload(int w, int peer);
  int workload_peer(int w) const { return workloads_.at(w).peer; }
  // A frame from workload `from` to workload `to` (-1: Ethernet broadcast), IPv4 with a
  // `payload`-byte body that carries its id; `spoof_ip` replaces the source IP. Enters the
  // sending peer's DataplaneCore now. Returns the frame's id.
  uint64_t send_frame(int from, int to, size_t payload = 64,
                      std::optional<uint32_t> spoof_ip = std::nullopt);
  uint32_t workload_ip(int w) const { return workloads_.at(w).ip; }
  // The peers (indices) that injected frame `id` into their bridge, in order, repeats kept.
  const std::vector<int>& deliveries(uint64_t id) const;
  // Frames peer i injected, in order of arrival (ids).
  const std::vector<uint64_t>& injected_at(int i) const;

  int64_t now() const { return clock_.now(); }
  void run_for(int64_t ms) { clock_.run_for(ms); }
  bool run_until(const std::function<bool()>& pred, int64_t max_ms, int64_t check_every_ms = 50) {
    return clock_.run_until(pred, max_ms, check_every_ms);
  }

  size_t size() const { return peers_.size(); }
  PeerName name(int i) const;
  MeshCore& mesh(int i);
  DataplaneCore& dataplane(int i);
  std::vector<int> alive_peers() const;

  // Every live peer's view lists exactly the live peers, all reachable.
  bool views_agree_on_members() const;
  // ... and all views are the same (same records, same versions, routes computed), so every
  // peer computes the same broadcast trees.
  bool views_agree() const;
  // Every live peer has a data session with each of its mesh neighbours and has had UDP from
  // it lately (the UDP path is proven both ways).
  bool sessions_ready() const;
  bool full_mesh_connected() const;

  const LinkCounters& link_counters() const { return links_; }
  // Sum of all live peers' data-plane and forwarding counters.
  DataplaneCounters total_dataplane() const;
  ForwarderCounters total_forwarding() const;
  // A hash of the run's observable history (every delivery, in order), to check determinism.
  uint64_t trace_hash() const { return trace_; }

 private:
  struct Peer;
  struct Io;
  struct Conn;
  struct Workload {
    int peer;
    Mac mac;
    uint32_t ip;
  };
  using ConnKey = std::pair<int, ConnId>;

  void touch(int i);
  void start_peer(int i, const std::vector<int>& targets);
  void end_peer(int i, bool close_sockets);
  std::string address_of(int i) const;
  std::string ip_of(int i) const;
  bool cut(int a, int b) const;
  bool chance(double p);
  std::vector<const MeshCore*> live_cores() const;

  // MeshIo / DataplaneIo of peer i.
  void dial(int i, ConnId id, const std::string& address);
  void mesh_send(int i, ConnId id, Bytes message);
  void mesh_close(int i, ConnId id);
  void send_udp(int i, const UdpEndpoint& to, ByteView datagram);
  void inject(int i, ByteView frame);

  // Control connections, the way ControlConnection and RouterDaemon drive them.
  ControlChannel::Config channel_config(int i, bool initiator);
  void flush(const ConnKey& k);
  void after_input(const ConnKey& k);
  void connection_failed(const ConnKey& k, ChannelFailure f, const std::string& why);
  void send_fin(Conn& c);

  RouterSimOptions opts_;
  std::mt19937_64 rng_;
  VirtualClock clock_;
  std::vector<std::unique_ptr<Peer>> peers_;
  std::map<std::string, int> by_address_, by_ip_;
  std::map<ConnKey, Conn> conns_;
  uint64_t next_serial_ = 0;
  std::set<std::pair<int, int>> cut_, udp_cut_;
  std::vector<Workload> workloads_;
  uint64_t next_frame_ = 1;
  std::map<uint64_t, std::vector<int>> deliveries_;
  LinkCounters links_;
  uint64_t trace_ = 0;
};

}  // namespace weft::sim
