#pragma once
// The data plane's protocol logic, without I/O: one encrypted UDP session per directly connected
// peer (keys from that peer's control handshake), the "dataplane" gossip channel that swaps
// session ids and UDP ports, path choice (UDP while authenticated UDP keeps arriving from the
// peer, else the encrypted control connection), periodic UDP probes, and the forwarder.
//
// A datagram that fails any check (unknown session id, replay, bad tag, malformed batch) is
// dropped silently and counted; a peer's UDP endpoint moves only on an authenticated datagram.
#include <array>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>

#include "router/dataplane/data_session.h"
#include "router/dataplane/forwarder.h"
#include "router/dataplane/icmp_too_big.h"
#include "gossip/gossip_channel.h"

namespace weft {

struct UdpEndpoint {
  std::array<uint8_t, 16> ip{};  // IPv4 in the first 4 bytes when !v6
  bool v6 = false;
  uint16_t port = 0;
  bool operator==(const UdpEndpoint&) const = default;
  std::string to_string() const;
};
std::optional<UdpEndpoint> parse_udp_endpoint(const std::string& host, uint16_t port);

// A data session's key for one direction: the control handshake's key bound to the sender's
// and the receiver's session ids (from the hellos). Every event that starts a session over
// changes an input (new keys with a new connection, a new id in either side's hello), so a new
// session never counts its nonces from zero again under a key an earlier session used.
noise::Key dataplane_session_key(const noise::Key& handshake_key, uint32_t sender_id,
                                 uint32_t receiver_id);

class DataplaneIo {
 public:
  virtual ~DataplaneIo() = default;
  virtual void send_udp(const UdpEndpoint& to, ByteView datagram) = 0;
  // Over the neighbour's control connection (MeshCore::send_frames).
  virtual void send_fallback(PeerName neighbor, ByteView batch) = 0;
  virtual void inject(ByteView vnet, ByteView frame) = 0;
};

struct DataplaneCounters {
  uint64_t udp_rx = 0, udp_tx = 0, fallback_rx = 0, fallback_tx = 0;
  uint64_t dropped_malformed = 0, dropped_unknown_session = 0, dropped_auth = 0;
  uint64_t dropped_replay = 0, dropped_no_session = 0, endpoint_changes = 0;
};

struct NeighborPath {
  PeerName peer = 0;
  bool session = false;
  bool udp = false;
  std::string endpoint;
  std::string cipher;
};

class DataplaneCore : public GossipChannel, private ForwardingSink {
 public:
  static constexpr std::string_view kChannel = "dataplane";
  static constexpr int64_t kProbeIntervalMs = 1000;
  static constexpr int64_t kUdpFreshMs = 4000;
  // An address (MAC or inner IP) its owner used less than this long ago does not move to
  // another peer (forwarder.h): long enough to outlast a spoofer's bursts against an active
  // workload, short enough that a workload that really moved is reachable again soon.
  static constexpr int64_t kAddressMoveHoldMs = 10'000;

  // encrypted = false is --no-encryption: sessions use DataCipher::kNone (datagrams in clear).
  DataplaneCore(PeerName self, uint16_t udp_port, GossipSender& gossip, ForwardingRoutes& routes,
                DataplaneIo& io, uint64_t seed, bool encrypted = true);

  // The control connection to `peer` is (now) the one these keys and this IP belong to.
  void set_neighbor_keys(PeerName peer, const noise::Key& send, const noise::Key& recv,
                         const std::string& ip, int64_t now_ms);
  void neighbor_down(PeerName peer);
  // Local frames carrying a larger IP packet are answered with ICMP "too big" (icmp_too_big.h).
  void set_overlay_mtu(size_t mtu) { too_big_.set_mtu(mtu); }

  // Experiment (WEFT_EXPERIMENT_WHOLE_SUPERFRAMES, see bench/RESULTS.md): carry a GSO
  // super-frame whole under one AEAD instead of one datagram per segment. The sealed datagram
  // (up to ~64 KB) is cut into fragments of at most `max_udp_payload` bytes, each behind a
  // 16-byte fragment header (type 3, index, count, then the sealed datagram's receiver id and
  // counter), which leave in one or two UDP GSO sends; the receiver reassembles them in order
  // and opens the whole. A lost fragment loses the whole super-frame. max_udp_payload = 0 lets
  // the kernel IP-fragment the sealed datagram instead. Only between TAP peers.
  void set_whole_superframes(bool on, size_t max_udp_payload) {
    whole_superframes_ = on;
    max_udp_payload_ = max_udp_payload;
  }

  void on_local_frame(ByteView vnet, ByteView frame, int64_t now_ms);
  void on_udp(const UdpEndpoint& from, ByteView datagram, int64_t now_ms);
  void on_fallback(PeerName from, ByteView batch, int64_t now_ms);
  // GossipChannel deadlines: the mesh that carries the channel drives them.
  void on_timer(int64_t now_ms) override;
  int64_t next_deadline() const override { return next_probe_ms_; }

  // GossipChannel
  void on_neighbor(PeerName from, ByteView payload, int64_t now_ms) override;
  void on_unicast(PeerName, ByteView, int64_t) override {}
  bool on_broadcast(PeerName, PeerName, ByteView, int64_t) override { return false; }
  void on_neighbor_up(PeerName peer, int64_t now_ms) override;
  void on_gossip_tick(PeerName, int64_t) override {}

  const DataplaneCounters& counters() const { return counters_; }
  const ForwarderCounters& forwarding() const { return forwarder_.counters(); }
  const TooBigCounters& too_big() const { return too_big_.counters(); }
  std::vector<NeighborPath> paths(int64_t now_ms) const;
  MacTable& macs() { return macs_; }
  const MacTable& macs() const { return macs_; }
  IpTable& ips() { return ips_; }

 private:
  struct Neighbor {
    uint32_t local_id = 0;  // our receiver id for this peer's datagrams
    std::optional<noise::Key> send_key, recv_key;
    std::string ip;
    std::optional<uint32_t> remote_id;
    uint16_t remote_port = 0;
    uint8_t remote_ciphers = 0;
    std::unique_ptr<DataSession> session;
    std::optional<UdpEndpoint> endpoint;
    int64_t last_udp_rx_ms = -1'000'000;
    // Experiment: the sealed datagram being reassembled from fragments.
    Bytes reasm;
    uint64_t reasm_counter = 0;
    uint8_t reasm_next = 0, reasm_count = 0;
  };
  void on_fragment(const UdpEndpoint& from, ByteView fragment, int64_t now_ms);
  void on_sealed(const UdpEndpoint& from, ByteView datagram, int64_t now_ms);
  void send(PeerName neighbor, PeerName src, PeerName dst, const FrameItem& f) override;
  void deliver_local(const FrameItem& f) override;
  void maybe_start_session(PeerName peer, Neighbor& n, int64_t now_ms);
  void transmit(PeerName peer, Neighbor& n, ByteView batch, bool udp_only);
  void handle_batch(PeerName from, ByteView batch, int64_t now_ms);
  uint32_t fresh_id();

  PeerName self_;
  uint16_t udp_port_;
  bool encrypted_;
  bool whole_superframes_ = false;
  size_t max_udp_payload_ = 0;
  Bytes fragment_buf_;
  GossipSender& gossip_;
  DataplaneIo& io_;
  MacTable macs_;
  IpTable ips_;
  Forwarder forwarder_;
  TooBigResponder too_big_;
  std::unordered_map<PeerName, Neighbor> neighbors_;
  std::unordered_map<uint32_t, PeerName> by_id_;
  std::mt19937_64 rng_;
  int64_t now_ms_ = 0;
  int64_t next_probe_ms_ = 0;
  DataplaneCounters counters_;
  // Reused per packet so the hot path does not allocate.
  Bytes batch_buf_, datagram_buf_, plain_buf_, segment_buf_;
  FrameBatch decoded_;
};

}  // namespace weft
