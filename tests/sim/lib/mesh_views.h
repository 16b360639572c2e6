#pragma once
// Whether the live peers' mesh cores see the same mesh: the convergence checks both simulators
// (SimNetwork, RouterSim) run, given the cores of the live peers.
#include <vector>

#include "router/mesh/mesh_core.h"

namespace weft::sim {

// Every view lists exactly these peers.
bool views_agree_on_members(const std::vector<const MeshCore*>& live);
// ... and all views are the same (same records and versions, routes computed), so every peer
// computes the same routes and broadcast trees.
bool views_agree(const std::vector<const MeshCore*>& live);
// Each is connected to every other.
bool full_mesh_connected(const std::vector<const MeshCore*>& live);

}  // namespace weft::sim
