#pragma once
// A change to one peer's record as the topology gossip carries it (topology_message.h): the
// record's identity and version, and the edges added, changed or removed. The mesh's own model
// of a record (router/mesh/peer_record.h) is built from these.
#include <string>
#include <utility>
#include <vector>

#include "common/peer_name.h"

namespace weft {

struct Edge {
  std::string ip;  // the other end's IP as this peer sees it (used for discovery)
  bool outbound = false;
  bool operator==(const Edge&) const = default;
};

// A full record (base_version == 0) or a delta against base_version of the same incarnation.
struct PeerUpdate {
  PeerName name = 0;
  std::string nickname;
  uint64_t incarnation = 0;
  uint64_t version = 0;
  uint16_t port = 0;
  uint64_t base_version = 0;
  std::vector<std::pair<PeerName, Edge>> upserts;
  std::vector<PeerName> removals;

  bool is_full() const { return base_version == 0; }
};

}  // namespace weft
