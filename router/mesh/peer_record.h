#pragma once
// What the mesh knows about one peer: who it is and which peers it has an established control
// connection to. Each peer is the only writer of its own record; others learn it by gossip.
// Records change by deltas (PeerUpdate with a base version), so a change costs O(change) bytes.
#include <map>
#include <string>
#include <vector>

#include "common/peer_name.h"
#include "router/wire/peer_update.h"

namespace weft {

struct PeerRecord {
  PeerName name = 0;
  std::string nickname;
  uint64_t incarnation = 0;  // later incarnations (restarts) replace earlier ones
  uint64_t version = 0;      // bumped by the owner on every change
  uint16_t port = 0;         // control port, for discovery
  std::map<PeerName, Edge> edges;
};

PeerUpdate full_update(const PeerRecord& r);
// The delta that turns `before` into `after` (same peer, same incarnation).
PeerUpdate delta_update(const PeerRecord& before, const PeerRecord& after);

// (incarnation, version) ordering: is a newer than b?
inline bool newer(uint64_t inc_a, uint64_t ver_a, uint64_t inc_b, uint64_t ver_b) {
  return inc_a != inc_b ? inc_a > inc_b : ver_a > ver_b;
}

}  // namespace weft
