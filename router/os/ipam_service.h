#pragma once
// The router's IPAM adapter: runs the IpamCore on the router's io_context, keeps its state in
// DATADIR/ipam.json (atomic writes, ARCHITECTURE.md §6), feeds it the mesh's view of peers, and
// serves the /ipam API:
//
//   POST /ipam/allocate {"holder": "netns:w1"}                      -> {"address": "10.32.0.1/12"}
//   POST /ipam/allocate {"holder": "netns:w1", "address": "10.32.1.5"}   (a claim)
//   POST /ipam/release  {"holder": "netns:w1"}                      -> {"released": [...]}
//   GET  /ipam/lookup?holder=netns:w1                               -> {"addresses": [...]}
//   GET  /ipam/status                                               -> ring, peers, allocations
//   POST /ipam/rmpeer   {"peer": "NAME or nickname"}                -> {"addresses": N}
#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "ipam/ipam_core.h"
#include "router/api/module_registry.h"
#include "router/mesh/mesh_core.h"

namespace weft {

class IpamService : public GossipChannel, private ipam::IpamEnv, private ipam::IpamStore {
 public:
  // Loads DATADIR/ipam.json; throws std::runtime_error with the fix when it is corrupted or
  // for another range.
  IpamService(boost::asio::io_context& io, MeshCore& mesh, const std::string& datadir,
              ipam::IpamConfig cfg, std::function<int64_t()> now_ms);
  ~IpamService() override;

  // Registers the channel, the /ipam routes and the metrics, then starts the core.
  void start(ModuleRegistry& registry);
  // Serves /ipam/...; answers later when an allocation has to wait.
  void handle(const HttpRequest& req, HttpResponder respond);
  nlohmann::json status_json();
  // What /ipam/allocate and /ipam/release do, for the router's other modules (the CNI attach,
  // workload_attacher.h), on the io_context's thread. `address`: a claim of exactly that one.
  // `done` runs once, maybe before this returns.
  void allocate(const std::string& holder, std::optional<uint32_t> address, ipam::AllocDone done);
  std::vector<uint32_t> release(const std::string& holder);
  const Ipv4Cidr& range() const { return core_->config().range; }
  // The HTTP status an allocation error is answered with (409 in use, 503 owner unreachable...).
  static int http_status(ipam::AllocError e);
  // Called after `weft rmpeer` reclaimed a peer's space (the cluster state drops its workloads).
  void on_rmpeer(std::function<void(PeerName)> f) { on_rmpeer_ = std::move(f); }
  std::string metrics_text() const;

  // GossipChannel: forwards to the core (the mesh drives its deadlines).
  void on_neighbor(PeerName from, ByteView payload, int64_t now_ms) override;
  void on_unicast(PeerName src, ByteView payload, int64_t now_ms) override;
  bool on_broadcast(PeerName src, PeerName from, ByteView payload, int64_t now_ms) override;
  void on_neighbor_up(PeerName peer, int64_t now_ms) override;
  void on_gossip_tick(PeerName neighbor, int64_t now_ms) override;
  int64_t next_deadline() const override { return core_->next_deadline(); }
  void on_timer(int64_t now_ms) override { core_->on_timer(now_ms); }

 private:
  std::vector<ipam::PeerInfo> peers() override;
  void log(ipam::Severity s, const std::string& message) override;
  void save(const ipam::IpamState& state) override;

  boost::asio::io_context& io_;
  MeshCore& mesh_;
  std::string path_;
  std::function<int64_t()> now_;
  std::unique_ptr<ipam::IpamCore> core_;
  std::function<void(PeerName)> on_rmpeer_;
};

}  // namespace weft
