#pragma once
// Containers on the overlay for a CNI runtime (weft-cni, cni/router_backend.h): the router puts
// a container's network namespace on the bridge the same way `weft attach` does
// (hostnet/workload_link.h), with an address from IPAM held by "cni:CONTAINER_ID"
// (common/workloads.h) and a workload record "cni:CONTAINER_ID" in the cluster state, so DNS
// and NetworkPolicies see it like any workload. Root-only routes on the API socket:
//
//   POST /workloads/attach {"container_id", "netns_path", "ifname", "network", "name",
//                           "namespace", "labels": {K: V}, "mtu" (optional), "ips" (optional,
//                           at most one: a claim)}
//     200 {"mac", "ips": ["10.32.0.5/12"], "routes": [...], "host_ifname", "workload": {...}}
//     Idempotent per container id: a repeated attach of an attached container answers what it
//     has. 400 for a bad request (the message names the field), 409/507 when IPAM refuses,
//     503 "try again" while another ADD or DEL of the same container is under way or IPAM
//     cannot reach an address's owner, 500 when the host change fails. Whatever fails, nothing
//     is left behind: no veth, no allocation, no record.
//   POST /workloads/detach {"container_id"}
//     200 {"released": [...]}: the veth removed, the record deleted, exactly its addresses
//     released; 404 when nothing of that container is here (weft-cni takes that as success).
//
// The host changes (`ip`, nft, waiting for the bridge port) run on a worker thread, one at a
// time, so the router's io_context never blocks on them; IPAM and the cluster state are used on
// the io_context's thread only.
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <functional>
#include <set>
#include <string>

#include "router/api/module_registry.h"
#include "router/os/ipam_service.h"
#include "router/os/state_service.h"

namespace weft {

struct WorkloadAttacherConfig {
  std::string bridge = "weft";
  std::function<int()> mtu;       // the overlay MTU, the data plane's
  std::function<void()> changed;  // after IPAM or the state changed (the daemon rearms its timer)
  // The resolver config for a workload of namespace NS (the CNI result's "dns"), or null.
  std::function<nlohmann::json(const std::string& ns)> dns;
};

class WorkloadAttacher {
 public:
  WorkloadAttacher(boost::asio::io_context& io, IpamService& ipam, StateService& state,
                   WorkloadAttacherConfig cfg);
  // Waits for the host change under way, if any.
  ~WorkloadAttacher();
  WorkloadAttacher(const WorkloadAttacher&) = delete;
  WorkloadAttacher& operator=(const WorkloadAttacher&) = delete;

  void start(ModuleRegistry& registry);

 private:
  struct Request;
  void attach(const HttpRequest& req, HttpResponder respond);
  // The "dns" of a CNI answer for this workload (null without weft DNS).
  nlohmann::json dns_for(const nlohmann::json& workload) const;
  void detach(const HttpRequest& req, HttpResponder respond);
  // After IPAM gave `addr`: the host side on the worker, then the record on the io_context.
  void plumb(std::shared_ptr<Request> r, uint32_t addr);
  void register_workload(std::shared_ptr<Request> r);
  void finish(const std::string& container_id, HttpResponder& respond, HttpResponse res);

  boost::asio::io_context& io_;
  IpamService& ipam_;
  StateService& state_;
  WorkloadAttacherConfig cfg_;
  std::set<std::string> busy_;  // container ids with an attach or detach under way
  boost::asio::thread_pool worker_{1};
};

}  // namespace weft
