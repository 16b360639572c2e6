// decode_mesh_message on arbitrary bytes (what arrives inside an established control channel),
// then decode_topology_message on gossip payloads. Anything that decodes must re-encode to the
// same bytes: the formats have exactly one encoding per message.
#include <cstddef>
#include <cstdint>

#include "common/bytes.h"
#include "fuzz_common.h"
#include "router/wire/mesh_message.h"
#include "router/wire/topology_message.h"

using namespace weft;
using weft::fuzz::require;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteView in(data, size);
  MeshMessage m;
  try {
    m = decode_mesh_message(in);
  } catch (const DecodeError&) {
    return 0;
  }
  require((m.src & ~kPeerNameMask) == 0 && (m.dst & ~kPeerNameMask) == 0);
  if (!m.payload.empty())
    require(m.payload.data() >= data && m.payload.data() + m.payload.size() == data + size);

  Bytes again;
  switch (m.type) {
    case MeshMessageType::kHeartbeat:
      again = encode_heartbeat();
      break;
    case MeshMessageType::kClose:
      again = encode_close(m.text);
      break;
    case MeshMessageType::kGossipNeighbor:
      again = encode_gossip_neighbor(m.text, m.payload);
      break;
    case MeshMessageType::kGossipUnicast:
      again = encode_gossip_unicast(m.text, m.src, m.dst, m.payload);
      break;
    case MeshMessageType::kGossipBroadcast:
      again = encode_gossip_broadcast(m.text, m.src, m.payload);
      break;
    case MeshMessageType::kFrames:
      again = encode_frames(m.payload);
      break;
  }
  require(again == Bytes(in.begin(), in.end()));

  // Gossip payloads: decoded as topology messages whatever the channel name.
  if (m.type != MeshMessageType::kGossipNeighbor && m.type != MeshMessageType::kGossipUnicast &&
      m.type != MeshMessageType::kGossipBroadcast)
    return 0;
  require(m.text.size() <= kMaxChannelNameLen);
  try {
    TopologyMessage t = decode_topology_message(m.payload);
    require(encode_topology_message(t) == Bytes(m.payload.begin(), m.payload.end()));
  } catch (const DecodeError&) {
  }
  return 0;
}
