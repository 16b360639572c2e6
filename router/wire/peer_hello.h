#pragma once
// What a peer says about itself during the control handshake (encrypted inside the Noise payload).
#include <cstdint>
#include <string>

#include "common/bytes.h"
#include "common/peer_name.h"

namespace weft {

struct PeerHello {
  PeerName name = 0;
  std::string nickname;
  // Distinguishes restarts of the same peer name: later incarnations win.
  uint64_t incarnation = 0;
  // The TCP port this peer listens on, so others can connect back to it.
  uint16_t port = 0;

  bool operator==(const PeerHello&) const = default;
};

constexpr size_t kMaxNicknameLen = 255;

void encode_peer_hello(const PeerHello& h, Bytes& out);
// Throws DecodeError on malformed input.
PeerHello decode_peer_hello(ByteView in);

}  // namespace weft
