#pragma once
// The router process: wires the mesh core to TCP (listener + control connections), the data
// plane to its I/O adapter, the modules (IPAM, the cluster state, DNS) to the mesh and the API, and
// runs everything on one io_context with one timer. Features live in their modules; this file
// only connects them.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
// clang-format off: the regrouping would move it after the Boost headers
#include <utility>  // Boost 1.74's asio headers need it first with GCC 12
// clang-format on
#include <vector>

#include "common/overlay.h"
#include "router/api/api_router.h"
#include "router/api/dataplane_status.h"
#include "router/api/http_server.h"
#include "router/api/module_registry.h"
#include "router/api/status_json.h"
#include "router/dataplane/dataplane_core.h"
#include "router/dataplane/neighbor_keying.h"
#include "router/mesh/mesh_core.h"
#include "router/os/control_connection.h"
#include "router/os/control_listener.h"
#include "router/os/dataplane_io.h"
#include "router/os/dns_module.h"
#include "router/os/ipam_service.h"
#include "router/os/port_guard_service.h"
#include "router/os/state_service.h"
#include "router/os/workload_attacher.h"

namespace weft {

struct RouterOptions {
  std::string datadir;
  PeerHello self;
  bool encryption = true;
  noise::Key psk{};
  bool discovery = true;
  std::string http_addr;  // loopback only, read-only; empty (the default): unix socket only
  std::vector<std::string> peers;
  std::string bridge = "weft";
  int mtu = 0;  // overlay MTU; 0: the underlay's minus the encapsulation overhead
  CaptureBackend capture = CaptureBackend::kTap;
  Ipv4Cidr ipalloc_range = parse_ipv4_cidr(kDefaultOverlayRange);
  ipam::InitMode ipalloc_init;
  uint64_t started_unix_ms = 0;
  int64_t peer_gone_after_ms = 60'000;  // an unreachable host's workloads go after this
  DnsModuleConfig dns;                  // its bridge is `bridge`
};

// common/overlay.h states the overhead for the CLI; it must match the wire: IPv4 + UDP headers,
// the datagram header and AEAD tag, the frame batch header, one frame's length and virtio
// header, and the inner Ethernet header (the overlay MTU counts from the inner IP header).
static_assert(kOverlayOverhead == 20 + 8 + int(kDataOverhead) + int(kFrameBatchHeaderLen) +
                                      int(kFrameItemOverhead) + int(kEthHdrLen));

class RouterDaemon : public MeshIo, public ControlConnection::Events, public ModuleRegistry {
 public:
  explicit RouterDaemon(RouterOptions opts);
  ~RouterDaemon() override;
  // Runs until SIGTERM/SIGINT. Throws std::runtime_error on a startup failure (port in use...).
  void run();

  // MeshIo
  void dial(ConnId id, const std::string& address) override;
  void send(ConnId id, Bytes message) override;
  void close(ConnId id) override;
  void log(LogLevel level, const std::string& message) override;
  void targets_changed(const std::vector<std::string>& targets) override;

  // ControlConnection::Events
  void connection_handshaking(ConnId id) override;
  void connection_established(ConnId id, const PeerHello& remote) override;
  void connection_message(ConnId id, ByteView message) override;
  void connection_closed(ConnId id, ChannelFailure failure, const std::string& why) override;

  // ModuleRegistry
  void add_channel(std::string name, GossipChannel* channel) override;
  void add_route(ApiRoute route) override;
  void add_metrics(std::function<std::string()> text) override;

 private:
  int64_t now_ms() const;
  ConnId accepted(boost::asio::ip::tcp::socket sock, const std::string& address);
  void rearm_timer();
  ControlChannel::Config channel_config(bool initiator) const;
  std::vector<std::string> load_targets() const;
  void start_api();
  DataCipher data_cipher() const;  // what sessions use (kNone with --no-encryption)
  DataplaneInfo dataplane_info() const;

  struct TopologyRoutes : ForwardingRoutes {
    MeshCore* mesh = nullptr;
    std::optional<PeerName> next_hop(PeerName dst) override {
      return mesh->topology().next_hop(dst);
    }
    std::vector<PeerName> broadcast_children(PeerName src) override {
      return mesh->topology().broadcast_children(src, /*without_tree=*/false);
    }
  };

  RouterOptions opts_;
  boost::asio::io_context io_;
  boost::asio::steady_timer timer_;
  boost::asio::signal_set signals_;
  std::chrono::steady_clock::time_point epoch_;
  std::unique_ptr<MeshCore> mesh_;
  ApiRouter api_;
  std::vector<std::function<std::string()>> metrics_;
  std::unique_ptr<HttpServer> http_;
  std::unique_ptr<IpamService> ipam_;
  std::unique_ptr<StateService> state_;
  std::unique_ptr<DnsModule> dns_;              // follows state_: destroyed before it
  std::unique_ptr<WorkloadAttacher> attacher_;  // CNI: /workloads/attach and /detach
  std::unique_ptr<PortGuard> port_guard_nft_;
  std::unique_ptr<PortGuardService> port_guard_;  // binds local workloads' ports (issue 10)
  std::map<ConnId, std::shared_ptr<ControlConnection>> conns_;
  std::unique_ptr<ControlListener> listener_;  // port 6783 (issue 10: admission limits)
  int64_t timer_at_ = -1;
  RouterInfo info_;
  TopologyRoutes routes_;
  std::unique_ptr<DataplaneIoAdapter> dp_io_;
  std::unique_ptr<DataplaneCore> dp_;
  NeighborKeying keying_;
};

}  // namespace weft
