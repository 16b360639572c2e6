#pragma once
// The mesh, without I/O: control connections and their lifecycle (dial, handshake deadline,
// heartbeat, dead-peer detection, duplicate and self connections), targets and discovery with
// backoff, gossip routing (neighbour, unicast, broadcast trees) and the topology channel.
//
// One class in three files: mesh_core.cpp (connections and their lifecycle, timers, status),
// mesh_dialer.cpp (targets, discovery, dials with backoff) and mesh_gossip.cpp (gossip routing,
// publishing our own record, routes and peer GC).
//
// The adapter owns sockets and ControlChannels. It reports events (on_inbound, on_established,
// on_message, on_closed) with the current time and carries out the MeshIo actions (dial, send,
// close). Time only enters through `now_ms` arguments; randomness through the seed.
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/log_level.h"
#include "common/log_limiter.h"
#include "gossip/gossip_channel.h"
#include "router/crypto/control_channel.h"
#include "router/mesh/mesh_metrics.h"
#include "router/mesh/topology.h"
#include "router/mesh/topology_gossip.h"
#include "router/wire/mesh_message.h"
#include "router/wire/peer_hello.h"

namespace weft {

using ConnId = uint64_t;

class MeshIo {
 public:
  virtual ~MeshIo() = default;
  // Open a TCP connection to "host:port" and run the handshake; report with on_established or
  // on_closed under the same id.
  virtual void dial(ConnId id, const std::string& address) = 0;
  virtual void send(ConnId id, Bytes message) = 0;
  // Close after flushing what was sent. The core has already forgotten the id.
  virtual void close(ConnId id) = 0;
  virtual void log(LogLevel level, const std::string& message) = 0;
  // The persisted target list changed.
  virtual void targets_changed(const std::vector<std::string>& targets) = 0;
};

struct MeshConfig {
  PeerHello self;
  bool discovery = true;
  int64_t tick_ms = 250;  // granularity of heartbeats, timeouts, gossip and GC
  int64_t heartbeat_interval_ms = 2000;
  int64_t dead_after_ms = 7000;  // < 10 s, as promised to users
  int64_t handshake_timeout_ms = 8000;
  // Outbound connections in progress (connecting or handshaking) at once. Each holds a socket
  // until it succeeds or handshake_timeout_ms passes (then it is closed, not left to the
  // kernel's SYN retries): 3,000 unreachable targets cost at most this many descriptors, and are
  // dialed in waves (issue 10: 17,264 descriptors).
  size_t max_concurrent_dials = 64;
  int64_t gossip_interval_ms = 2000;
  int64_t route_delay_ms = 50;
  // Our own connection changes are batched this long before they are broadcast, so a burst (a
  // join into a full mesh makes dozens) costs one message per neighbour, not one per change.
  int64_t publish_delay_ms = 250;  // coalesces bursts of topology changes into one recomputation
  int64_t gc_grace_ms = 3000;
  // How long a collected peer's record is refused at the version collected (unless a record we
  // hold lists that peer again): copies of it from peers that have not collected it yet would
  // otherwise bring it back, over and over. Several gossip rounds, for those copies to die out.
  int64_t tombstone_ms = 60'000;
  int64_t backoff_min_ms = 1000;
  int64_t backoff_max_ms = 30000;
  uint16_t default_port = 6783;
  uint64_t seed = 1;
};

struct ConnectionStatus {
  std::string address;
  bool outbound = false;
  std::string state;  // connecting, handshaking, established, retrying, failed
  std::optional<PeerHello> peer;
  std::string info;
};

// "host" -> "host:6783", "[v6]" or a bare v6 -> "[v6]:6783", "host:port" kept: the canonical
// form of parse_host_port (common/host_port.h). Returns "" when malformed.
std::string normalize_address(const std::string& address, uint16_t default_port);

class MeshCore : public GossipSender, public Membership {
 public:
  MeshCore(MeshConfig cfg, MeshIo& io);

  void register_channel(std::string name, GossipChannel* channel);

  // Starts dialing the given targets (persisted ones plus those on the command line).
  void start(const std::vector<std::string>& targets, int64_t now_ms);
  // An accepted TCP connection: returns the id to report its events under.
  ConnId on_inbound(const std::string& remote_address, int64_t now_ms);
  void on_handshaking(ConnId id, int64_t now_ms);
  void on_established(ConnId id, const PeerHello& remote, int64_t now_ms);
  void on_message(ConnId id, ByteView message, int64_t now_ms);
  // The connection ended (any time: dial failure, handshake failure, or after establishment).
  void on_closed(ConnId id, ChannelFailure failure, const std::string& detail, int64_t now_ms);
  // Runs the mesh's own timers and every registered channel whose deadline has passed.
  void on_timer(int64_t now_ms);
  // The earliest of the mesh's deadlines and every registered channel's next_deadline().
  int64_t next_deadline() const;

  // Targets (the API's connect/forget). Return the new list.
  std::vector<std::string> connect(const std::vector<std::string>& peers, bool replace,
                                   int64_t now_ms);
  std::vector<std::string> forget(const std::vector<std::string>& peers, int64_t now_ms);
  std::vector<std::string> targets() const;

  // GossipSender
  void send_neighbor(std::string_view channel, PeerName neighbor, ByteView payload) override;
  void send_unicast(std::string_view channel, PeerName dst, ByteView payload) override;
  void broadcast(std::string_view channel, ByteView payload) override;
  void relay_broadcast(std::string_view channel, PeerName src, PeerName from, ByteView payload,
                       GossipRelay how) override;
  std::vector<PeerName> relay_targets(PeerName src, PeerName from, GossipRelay how) override;

  // Membership
  std::vector<MemberInfo> members() const override;
  bool reachable(PeerName peer) const override;

  const MeshConfig& config() const { return cfg_; }
  Topology& topology() { return topo_; }
  const Topology& topology() const { return topo_; }
  const MeshMetrics& metrics() const { return metrics_; }
  const TopologyGossip& topology_gossip() const { return topo_gossip_; }
  std::vector<ConnectionStatus> connection_statuses() const;
  std::vector<PeerName> neighbors() const;
  bool is_connected_to(PeerName p) const { return by_peer_.count(p) > 0; }
  std::optional<ConnId> connection_of(PeerName p) const;
  std::string address_of(PeerName neighbor) const;  // "ip:port" of the control connection

  // The data plane's fallback when UDP to a neighbour does not work: frame batches ride the
  // (already encrypted) control connection.
  using FrameSink = std::function<void(PeerName from, ByteView batch, int64_t now_ms)>;
  void set_frame_sink(FrameSink sink) { frame_sink_ = std::move(sink); }
  bool send_frames(PeerName neighbor, ByteView batch);

 private:
  enum class ConnState { kConnecting, kHandshaking, kEstablished };
  struct Conn {
    std::string address;
    bool outbound = false;
    ConnState state = ConnState::kConnecting;
    PeerHello remote;
    int64_t started_ms = 0, last_recv_ms = 0, last_sent_ms = 0;
    bool warned_malformed = false;
  };
  struct Attempt {
    bool target = false;  // user-given (persisted); otherwise discovered
    ConnId conn = 0;      // in flight or established
    int failures = 0;
    int64_t next_try_ms = 0;
    std::optional<PeerName> peer;  // who answered there last time
    bool is_self = false;
    std::string last_error;
    ChannelFailure last_failure = ChannelFailure::kNone;
  };

  // A new connection in `state`, under a fresh id.
  ConnId open_conn(const std::string& address, bool outbound, ConnState state, int64_t now_ms);
  void drop(ConnId id, const std::string& reason, bool tell_peer);
  void forget_conn(ConnId id, ChannelFailure failure, const std::string& detail, int64_t now_ms);
  void attempt_failed(Attempt& a, const std::string& address, ChannelFailure failure,
                      const std::string& detail, int64_t now_ms);
  void dial_due(int64_t now_ms);
  // Closes the attempt's connection if it is still connecting or handshaking (forget, replace).
  void abandon_dial(Attempt& a);
  void discover(int64_t now_ms);
  void after_topology_change(int64_t now_ms);
  void own_record_changed(int64_t now_ms);
  void publish_own(int64_t now_ms);
  void maintain_routes(int64_t now_ms);
  void send_raw(ConnId id, Bytes msg, std::string_view channel, int64_t now_ms);
  void deliver_gossip(const Conn& from, const MeshMessage& m, size_t size, int64_t now_ms);
  GossipChannel* channel(const std::string& name);
  std::string describe(const PeerHello& h) const;
  void log(LogLevel l, const std::string& m) { io_.log(l, m); }
  void notify_targets();

  MeshConfig cfg_;
  MeshIo& io_;
  Topology topo_;
  TopologyGossip topo_gossip_;
  std::map<std::string, GossipChannel*> channels_;
  std::map<ConnId, Conn> conns_;
  std::unordered_map<PeerName, ConnId> by_peer_;
  std::map<std::string, Attempt> attempts_;  // by normalized address
  ConnId next_id_ = 1;
  int64_t now_ms_ = 0;
  int64_t next_tick_ms_ = 0;
  int64_t next_gossip_ms_ = 0;
  int64_t rebuild_due_ms_ = -1;
  int64_t publish_due_ms_ = -1;
  static constexpr int64_t kNoDeadline = INT64_MAX;
  // Earliest retry among attempts that are waiting (recomputed by dial_due, lowered on change).
  int64_t next_dial_ms_ = kNoDeadline;
  PeerRecord published_;  // our record as last broadcast: the base of the next delta
  static constexpr int64_t kRelogAfterMs = 15 * 60 * 1000;
  std::unordered_map<std::string, int64_t> inbound_failure_logged_;  // host -> when last logged
  // Many source hosts failing at once (an attacker's addresses) share this budget, and the map
  // above is emptied past kMaxLoggedHosts instead of growing with every address.
  static constexpr size_t kMaxLoggedHosts = 4096;
  LogLimiter inbound_failure_log_;
  std::mt19937_64 rng_;
  MeshMetrics metrics_;
  FrameSink frame_sink_;
};

}  // namespace weft
