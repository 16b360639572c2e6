#pragma once
// The production CniBackend: asks the local weft router over its API socket (DATADIR/api.sock),
// the same path `weft attach` takes, so the router owns the veth, the IPAM allocation and the
// workload record. The HTTP API it assumes (served by weft-router, issue 8):
//
//   POST /workloads/attach  {"container_id", "netns_path", "ifname", "network", "name",
//                            "namespace", "labels": {K: V}, "mtu" (only when set),
//                            "ips": ["10.32.1.5/12"] (only when asked for)}
//     2xx -> {"mac", "ips": ["10.32.1.5/12"], "gateway" (optional), "routes": ["10.32.0.0/12"
//            or {"dst", "gw"}], "host_ifname" (optional), "dns": {"nameservers", "domain",
//            "search"} (optional)}. Idempotent per container_id.
//   POST /workloads/detach  {"container_id"}  2xx, or 404 when not attached (taken as success)
//   GET  /workloads         {"workloads": [{"container_id", "network", "ips", "mac", ...}]}
//                           (a bare array is accepted too); records without a container_id
//                           came from `weft attach` and are left alone by GC
//   GET  /status            any 200 answer: the router is up (STATUS)
// Errors: {"error": "what to do"} with 4xx (refused: code 100, the router's words) or 503
// (not ready, e.g. IPAM still bootstrapping: code 11, try again later).
#include <chrono>
#include <string>

#include "cni/cni_backend.h"

namespace weft::cni {

class RouterBackend : public CniBackend {
 public:
  explicit RouterBackend(std::string datadir,
                         std::chrono::milliseconds timeout = std::chrono::seconds(30));

  Attachment attach(const WorkloadRequest& req) override;
  void detach(const WorkloadRequest& req) override;
  void check(const WorkloadRequest& req, const Attachment& expected) override;
  void gc(const std::string& network, const std::vector<AttachmentKey>& valid) override;
  void status() override;

 private:
  std::string datadir_;
  std::chrono::milliseconds timeout_;
};

}  // namespace weft::cni
