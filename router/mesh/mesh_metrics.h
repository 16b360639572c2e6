#pragma once
// Counters the mesh keeps for /metrics. Plain numbers: the core is single-threaded and the
// adapter reads them on the same thread.
#include <array>
#include <cstdint>
#include <map>
#include <string>

namespace weft {

struct MeshMetrics {
  // Indexed by ChannelFailure.
  std::array<uint64_t, 7> handshake_failures{};
  std::map<std::string, uint64_t> gossip_bytes_sent;
  std::map<std::string, uint64_t> gossip_bytes_received;
  std::map<std::string, uint64_t> gossip_messages_sent;
  uint64_t malformed_messages = 0;
  uint64_t unroutable_messages = 0;
  uint64_t dead_connections = 0;
  uint64_t duplicate_connections = 0;
  uint64_t self_connections = 0;
  uint64_t route_recomputations = 0;
  uint64_t peers_collected = 0;
  uint64_t dials_started = 0;
  uint64_t dials_abandoned = 0;  // closed while connecting because the target was forgotten
  uint64_t dials_waiting = 0;    // gauge: due, but held back by max_concurrent_dials
};

}  // namespace weft
