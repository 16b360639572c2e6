#pragma once
// A peer's stable identity on the mesh: 48 random bits shown like a MAC address, as Weave users
// know it ("ce:31:e0:06:45:1a"). Generated once and persisted in the data dir.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace weft {

using PeerName = uint64_t;
constexpr PeerName kPeerNameMask = 0xffffffffffffull;

std::string format_peer_name(PeerName n);
std::optional<PeerName> parse_peer_name(std::string_view s);

}  // namespace weft
