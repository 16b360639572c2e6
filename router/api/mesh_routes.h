#pragma once
// The mesh's own API routes: GET /status (the mesh and, through `extra_status`, the other
// parts' sections), POST /connect and POST /forget (targets; root only).
#include <functional>
#include <nlohmann/json.hpp>

#include "router/api/module_registry.h"
#include "router/api/status_json.h"
#include "router/mesh/mesh_core.h"

namespace weft {

struct MeshRoutes {
  MeshCore* mesh = nullptr;
  RouterInfo info;
  std::function<int64_t()> now_ms;
  // Adds sections ("dataplane"...) to /status.
  std::function<void(nlohmann::json&)> extra_status;
};

// Registers the routes and the mesh's metrics.
void add_mesh_routes(ModuleRegistry& registry, MeshRoutes routes);

}  // namespace weft
