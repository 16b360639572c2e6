#include "router/wire/mesh_message.h"

namespace weft {

static Bytes start(MeshMessageType t, size_t reserve) {
  Bytes b;
  b.reserve(reserve + 32);
  b.push_back(static_cast<uint8_t>(t));
  return b;
}

Bytes encode_heartbeat() { return start(MeshMessageType::kHeartbeat, 0); }

Bytes encode_close(std::string_view reason) {
  Bytes b = start(MeshMessageType::kClose, reason.size());
  ByteWriter(b).str16(reason.substr(0, 1024));
  return b;
}

Bytes encode_gossip_neighbor(std::string_view channel, ByteView payload) {
  Bytes b = start(MeshMessageType::kGossipNeighbor, payload.size());
  ByteWriter w(b);
  w.str16(channel);
  w.raw(payload);
  return b;
}

Bytes encode_gossip_unicast(std::string_view channel, PeerName src, PeerName dst,
                            ByteView payload) {
  Bytes b = start(MeshMessageType::kGossipUnicast, payload.size());
  ByteWriter w(b);
  w.str16(channel);
  w.u64(src);
  w.u64(dst);
  w.raw(payload);
  return b;
}

Bytes encode_gossip_broadcast(std::string_view channel, PeerName src, ByteView payload) {
  Bytes b = start(MeshMessageType::kGossipBroadcast, payload.size());
  ByteWriter w(b);
  w.str16(channel);
  w.u64(src);
  w.raw(payload);
  return b;
}

Bytes encode_frames(ByteView batch) {
  Bytes b = start(MeshMessageType::kFrames, batch.size());
  ByteWriter(b).raw(batch);
  return b;
}

static PeerName read_peer(ByteReader& r) {
  PeerName n = r.u64();
  if (n & ~kPeerNameMask) throw DecodeError("peer name out of range");
  return n;
}

MeshMessage decode_mesh_message(ByteView in) {
  ByteReader r(in);
  MeshMessage m;
  uint8_t t = r.u8();
  switch (static_cast<MeshMessageType>(t)) {
    case MeshMessageType::kHeartbeat:
      m.type = MeshMessageType::kHeartbeat;
      r.expect_done();
      return m;
    case MeshMessageType::kClose:
      m.type = MeshMessageType::kClose;
      m.text = r.str16(1024);
      r.expect_done();
      return m;
    case MeshMessageType::kGossipNeighbor:
      m.type = MeshMessageType::kGossipNeighbor;
      m.text = r.str16(kMaxChannelNameLen);
      break;
    case MeshMessageType::kGossipUnicast:
      m.type = MeshMessageType::kGossipUnicast;
      m.text = r.str16(kMaxChannelNameLen);
      m.src = read_peer(r);
      m.dst = read_peer(r);
      break;
    case MeshMessageType::kGossipBroadcast:
      m.type = MeshMessageType::kGossipBroadcast;
      m.text = r.str16(kMaxChannelNameLen);
      m.src = read_peer(r);
      break;
    case MeshMessageType::kFrames:
      m.type = MeshMessageType::kFrames;
      break;
    default:
      throw DecodeError("unknown mesh message type " + std::to_string(t));
  }
  m.payload = r.raw(r.remaining());
  return m;
}

}  // namespace weft
