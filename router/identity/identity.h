#pragma once
// The peer's persisted identity (name, nickname) in DATADIR/identity.json, created on first
// start. A restarted router keeps its name, so the mesh recognises it.
#include <optional>
#include <string>

#include "common/peer_name.h"

namespace weft {

struct Identity {
  PeerName name = 0;
  std::string nickname;
};

// Loads or creates the identity. A requested name/nickname overrides (and is persisted).
// Throws std::runtime_error with a user-facing message on a corrupt file or bad name.
Identity load_or_create_identity(const std::string& datadir,
                                 const std::optional<std::string>& requested_name,
                                 const std::optional<std::string>& requested_nickname);

}  // namespace weft
