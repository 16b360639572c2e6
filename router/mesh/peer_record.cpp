#include "router/mesh/peer_record.h"

namespace weft {

static PeerUpdate header(const PeerRecord& r) {
  PeerUpdate u;
  u.name = r.name;
  u.nickname = r.nickname;
  u.incarnation = r.incarnation;
  u.version = r.version;
  u.port = r.port;
  return u;
}

PeerUpdate full_update(const PeerRecord& r) {
  PeerUpdate u = header(r);
  u.upserts.assign(r.edges.begin(), r.edges.end());
  return u;
}

PeerUpdate delta_update(const PeerRecord& before, const PeerRecord& after) {
  PeerUpdate u = header(after);
  u.base_version = before.version;
  for (const auto& [peer, edge] : after.edges) {
    auto it = before.edges.find(peer);
    if (it == before.edges.end() || !(it->second == edge)) u.upserts.emplace_back(peer, edge);
  }
  for (const auto& [peer, edge] : before.edges)
    if (!after.edges.count(peer)) u.removals.push_back(peer);
  return u;
}

}  // namespace weft
