#pragma once
// The seam between the CNI protocol (cni_plugin, no I/O) and whatever puts containers on the
// overlay. The production backend (router_backend.h) asks the local weft router over its API
// socket, the same path as `weft attach`; tests use an in-memory fake.
//
// Every method throws CniError with a code and a message a user can act on; anything else it
// throws is reported as an unexpected error.
#include <string>
#include <vector>

#include "cni/attachment.h"

namespace weft::cni {

class CniBackend {
 public:
  virtual ~CniBackend() = default;

  // ADD: creates the interface `req.ifname` in `req.netns_path` on the weft bridge, allocates
  // addresses from weft IPAM keyed by `req.container_id` and registers the workload. Idempotent:
  // a repeated attach of the same container id returns the same attachment. On failure nothing
  // is left behind (no veth, no allocation).
  virtual Attachment attach(const WorkloadRequest& req) = 0;

  // DEL: removes the container's interface, releases exactly its addresses and its workload
  // record. Succeeds when the container is already gone (or was never attached).
  virtual void detach(const WorkloadRequest& req) = 0;

  // CHECK: throws when the container is not attached as `expected` (the runtime's prevResult)
  // says: missing workload, other addresses or MAC, netns gone, router down.
  virtual void check(const WorkloadRequest& req, const Attachment& expected) = 0;

  // GC (spec 1.1.0): detaches every container this network attached that is not in `valid`.
  // Workloads attached by `weft attach` (no container id) are never touched.
  virtual void gc(const std::string& network, const std::vector<AttachmentKey>& valid) = 0;

  // STATUS (spec 1.1.0): throws CniError kPluginNotAvailable when ADD cannot work now.
  virtual void status() = 0;
};

}  // namespace weft::cni
