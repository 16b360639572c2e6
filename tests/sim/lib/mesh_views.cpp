#include "tests/sim/lib/mesh_views.h"

namespace weft::sim {

bool views_agree_on_members(const std::vector<const MeshCore*>& live) {
  for (const MeshCore* c : live) {
    const Topology& t = c->topology();
    if (t.size() != live.size()) return false;
    for (const MeshCore* other : live)
      if (!t.find(other->config().self.name)) return false;
  }
  return true;
}

bool views_agree(const std::vector<const MeshCore*>& live) {
  if (live.empty()) return true;
  uint64_t d = live[0]->topology().digest();
  for (const MeshCore* c : live)
    if (c->topology().digest() != d || c->topology().dirty()) return false;
  return views_agree_on_members(live);
}

bool full_mesh_connected(const std::vector<const MeshCore*>& live) {
  for (const MeshCore* a : live)
    for (const MeshCore* b : live)
      if (a != b && !a->is_connected_to(b->config().self.name)) return false;
  return true;
}

}  // namespace weft::sim
