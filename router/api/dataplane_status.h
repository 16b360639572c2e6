#pragma once
// What the API reports about the data plane: the "dataplane" part of /status and its /metrics.
// Pure functions of the data-plane core (and the mesh, for peer nicknames).
#include <nlohmann/json.hpp>
#include <string>

#include "router/dataplane/dataplane_core.h"
#include "router/mesh/mesh_core.h"

namespace weft {

struct DataplaneInfo {
  std::string bridge;
  int mtu = 0;
  std::string capture;  // the device, described
  std::string cipher;
  uint64_t device_write_drops = 0;
};

nlohmann::json dataplane_status_json(const DataplaneCore& dp, const MeshCore& mesh,
                                     const DataplaneInfo& info, int64_t now_ms);
std::string dataplane_metrics_text(const DataplaneCore& dp, const DataplaneInfo& info);

}  // namespace weft
