#pragma once
// What the API reports about the mesh: /status as JSON and /metrics in Prometheus text format.
// Pure functions of the mesh core's state.
#include <nlohmann/json.hpp>
#include <string>

#include "router/mesh/mesh_core.h"

namespace weft {

struct RouterInfo {
  bool encryption = true;
  uint16_t port = 6783;
  bool discovery = true;
};

nlohmann::json status_json(const MeshCore& mesh, const RouterInfo& info);
std::string metrics_text(const MeshCore& mesh, const RouterInfo& info);

}  // namespace weft
