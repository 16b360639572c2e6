#pragma once
// Messages carried inside an established control channel (after decryption). The mesh core
// routes them; gossip payloads are opaque here and belong to the channel named in the message.
//
//   u8 type, then:
//   kHeartbeat        (nothing)
//   kClose            str16 reason               sent before an intentional close
//   kGossipNeighbor   str16 channel, payload     for the direct neighbour only
//   kGossipUnicast    str16 channel, u64 src, u64 dst, payload   routed hop by hop
//   kGossipBroadcast  str16 channel, u64 src, payload            forwarded along src's tree
//   kFrames           payload = a data-plane frame batch, when UDP to this neighbour fails
// payload = the rest of the message.
#include <string>
#include <variant>

#include "common/bytes.h"
#include "common/peer_name.h"

namespace weft {

enum class MeshMessageType : uint8_t {
  kHeartbeat = 1,
  kClose = 2,
  kGossipNeighbor = 3,
  kGossipUnicast = 4,
  kGossipBroadcast = 5,
  kFrames = 6,
};

constexpr size_t kMaxChannelNameLen = 64;

struct MeshMessage {
  MeshMessageType type = MeshMessageType::kHeartbeat;
  std::string text;  // close reason or channel name
  PeerName src = 0;
  PeerName dst = 0;
  ByteView payload;  // points into the decoded buffer
};

Bytes encode_heartbeat();
Bytes encode_close(std::string_view reason);
Bytes encode_gossip_neighbor(std::string_view channel, ByteView payload);
Bytes encode_gossip_unicast(std::string_view channel, PeerName src, PeerName dst,
                            ByteView payload);
Bytes encode_gossip_broadcast(std::string_view channel, PeerName src, ByteView payload);
Bytes encode_frames(ByteView batch);
// Throws DecodeError. The result's payload views into `in`.
MeshMessage decode_mesh_message(ByteView in);

}  // namespace weft
