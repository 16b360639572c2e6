#pragma once
// The router's cluster-state snapshot (GET /state) as JSON, to a ClusterView:
//
//   {"revision": N,
//    "workloads": [{"host": "..", "netns": "..", "pid": 0, "name": "a", "namespace": "x",
//                   "labels": {..}, "ports": [{"name": "serve-80-tcp", "port": 80,
//                   "protocol": "TCP"}], "mac": "..", "ips": ["10.32.0.5/12"],
//                   "veth": "vethwe1234abcd"}],
//    "namespaces": [{"name": "x", "labels": {"ns": "x", ...}}],
//    "policies": [<NetworkPolicy objects in their canonical JSON form>]}
//
// Unknown members are ignored (the router may add some). Pure.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "npc/cluster_view.h"

namespace weft::npc {

struct ClusterSnapshot {
  uint64_t revision = 0;
  ClusterView view;
  // Entries that could not be read and were left out, one sentence each ("policy x/p: ...").
  // A policy left out is not enforced: weft-npc must log these.
  std::vector<std::string> problems;
};

// Throws std::invalid_argument when the document is not a snapshot at all (not an object, a
// member of the wrong type); single bad entries go to `problems`.
ClusterSnapshot parse_cluster_snapshot(const nlohmann::json& state);

// One workload entry (as in "workloads" above); an address's "/prefix" is dropped. Throws
// std::invalid_argument.
Workload parse_workload(const nlohmann::json& entry);
Namespace parse_namespace(const nlohmann::json& entry);

}  // namespace weft::npc
