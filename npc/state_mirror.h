#pragma once
// weft-npc's copy of the router's cluster state, kept up to date from the watch stream
// (GET /state/watch, router/os/state_routes.cpp): a "snapshot" line replaces everything, a
// "resume" line confirms that the changes after our revision follow, "change" lines upsert or
// delete one object by its state key. The view is complete only after a snapshot (or a resume
// of one): until then weft-npc must not plan from it. Pure.
//
//   {"type": "snapshot", "revision": N, "epoch": "..", "state": {<GET /state>}}
//   {"type": "resume", "revision": N, "epoch": ".."}
//   {"type": "change", "revision": N, "kind": "workload|namespace|policy|dns_record",
//    "key": "..", "op": "upsert|delete", "object": {..}}
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "npc/cluster_view_json.h"

namespace weft::npc {

class StateMirror {
 public:
  // Applies one line of the stream. Returns true when the cluster view may have changed.
  // Throws std::invalid_argument for a line that is not a watch event (the caller reconnects
  // and starts over from a snapshot).
  bool apply(const nlohmann::json& event);

  // A complete state is held (a snapshot arrived on this or an earlier connection).
  bool synced() const { return synced_; }
  uint64_t revision() const { return revision_; }
  // The router run the revisions belong to: passed back with `since` when reconnecting.
  const std::string& epoch() const { return epoch_; }

  // The view, with the entries that could not be read (ClusterSnapshot::problems).
  ClusterSnapshot snapshot() const;

 private:
  // Objects by state key, as the router rendered them.
  std::map<std::string, nlohmann::json> workloads_, namespaces_, policies_;
  uint64_t revision_ = 0;
  std::string epoch_;
  bool synced_ = false;
};

}  // namespace weft::npc
