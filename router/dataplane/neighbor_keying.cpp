#include "router/dataplane/neighbor_keying.h"

namespace weft {

bool NeighborKeying::on_established(ConnId id, PeerName peer, std::optional<ConnId> current) {
  if (current != id) return false;
  keyed_[id] = peer;
  return true;
}

std::optional<PeerName> NeighborKeying::on_closed(ConnId id, std::optional<ConnId> current_after) {
  auto it = keyed_.find(id);
  if (it == keyed_.end()) return std::nullopt;
  PeerName p = it->second;
  keyed_.erase(it);
  // Another connection now carries the peer (and has keyed the session itself): keep it.
  if (current_after && *current_after != id) return std::nullopt;
  return p;
}

std::optional<PeerName> NeighborKeying::peer_of(ConnId id) const {
  auto it = keyed_.find(id);
  if (it == keyed_.end()) return std::nullopt;
  return it->second;
}

}  // namespace weft
