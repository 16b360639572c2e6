#pragma once
// Which control connection's handshake keys the data session with a neighbour, and when that
// session ends. Several connections to one peer can exist for a moment (simultaneous dials,
// a reconnect racing the old connection's close); only the one the mesh keeps carries the
// peer, so only its keys feed the data plane, and only the loss of the last one ends the
// session. Pure: the adapter reports connection events and the mesh's choice.
#include <cstdint>
#include <map>
#include <optional>

#include "common/peer_name.h"

namespace weft {

class NeighborKeying {
 public:
  using ConnId = uint64_t;

  // Connection `id` to `peer` finished its handshake; `current` is the connection the mesh
  // keeps for that peer now. Returns true when this connection's keys must feed the data
  // plane (it is the current one).
  bool on_established(ConnId id, PeerName peer, std::optional<ConnId> current);
  // Connection `id` closed (by either side); `current_after` is the mesh's connection to the
  // same peer after the close, if any. Returns the peer whose data session must end: the one
  // this connection carried, when no other connection carries it now.
  std::optional<PeerName> on_closed(ConnId id, std::optional<ConnId> current_after);
  // The peer connection `id` carries data-plane keys for, if any.
  std::optional<PeerName> peer_of(ConnId id) const;

 private:
  std::map<ConnId, PeerName> keyed_;
};

}  // namespace weft
