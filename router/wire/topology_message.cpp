#include "router/wire/topology_message.h"

namespace weft {

uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

namespace {

PeerName read_peer(ByteReader& r) {
  PeerName n = r.u64();
  if (n & ~kPeerNameMask) throw DecodeError("peer name out of range");
  return n;
}

uint32_t read_count(ByteReader& r, size_t max, size_t min_item_bytes) {
  uint32_t n = r.u32();
  if (n > max || size_t(n) * min_item_bytes > r.remaining())
    throw DecodeError("element count out of range");
  return n;
}

void encode_update(ByteWriter& w, const PeerUpdate& u) {
  w.u64(u.name);
  // The decoder's limits: a longer nickname or address would make the whole message undecodable.
  w.str16(std::string_view(u.nickname).substr(0, 255));
  w.u64(u.incarnation);
  w.u64(u.version);
  w.u16(u.port);
  w.u64(u.base_version);
  w.u32(static_cast<uint32_t>(u.upserts.size()));
  for (const auto& [peer, e] : u.upserts) {
    w.u64(peer);
    w.str16(std::string_view(e.ip).substr(0, 64));
    w.u8(e.outbound ? 1 : 0);
  }
  w.u32(static_cast<uint32_t>(u.removals.size()));
  for (PeerName p : u.removals) w.u64(p);
}

PeerUpdate decode_update(ByteReader& r) {
  PeerUpdate u;
  u.name = read_peer(r);
  u.nickname = r.str16(255);
  u.incarnation = r.u64();
  u.version = r.u64();
  u.port = r.u16();
  u.base_version = r.u64();
  if (u.version == 0 || (u.base_version != 0 && u.base_version >= u.version))
    throw DecodeError("invalid record version");
  uint32_t n = read_count(r, kMaxEdgesPerPeer, 11);
  u.upserts.reserve(n);
  for (uint32_t i = 0; i < n; ++i) {
    PeerName p = read_peer(r);
    Edge e;
    e.ip = r.str16(64);
    uint8_t ob = r.u8();
    if (ob > 1) throw DecodeError("invalid flag");
    e.outbound = ob;
    u.upserts.emplace_back(p, std::move(e));
  }
  uint32_t m = read_count(r, kMaxEdgesPerPeer, 8);
  if (u.is_full() && m != 0) throw DecodeError("a full record cannot remove edges");
  u.removals.reserve(m);
  for (uint32_t i = 0; i < m; ++i) u.removals.push_back(read_peer(r));
  return u;
}

}  // namespace

Bytes encode_topology_message(const TopologyMessage& m) {
  Bytes b;
  ByteWriter w(b);
  w.u8(m.kind);
  switch (m.kind) {
    case TopologyMessage::kUpdates:
      w.u32(static_cast<uint32_t>(m.updates.size()));
      for (const auto& u : m.updates) encode_update(w, u);
      break;
    case TopologyMessage::kDigest:
      w.u64(m.digest);
      w.u32(m.peer_count);
      break;
    case TopologyMessage::kSummary:
      w.u8(m.mode);
      w.u64(m.buckets);
      w.u32(static_cast<uint32_t>(m.summary.size()));
      for (const auto& s : m.summary) {
        w.u64(s.name);
        w.u64(s.incarnation);
        w.u64(s.version);
      }
      break;
    case TopologyMessage::kRequest:
      w.u32(static_cast<uint32_t>(m.request.size()));
      for (PeerName p : m.request) w.u64(p);
      break;
    case TopologyMessage::kBuckets:
      // Exactly kDigestBuckets, whatever the caller filled in, so that it always decodes.
      for (int i = 0; i < kDigestBuckets; ++i)
        w.u64(static_cast<size_t>(i) < m.bucket_digests.size() ? m.bucket_digests[i] : 0);
      break;
  }
  return b;
}

TopologyMessage decode_topology_message(ByteView in) {
  ByteReader r(in);
  TopologyMessage m;
  uint8_t kind = r.u8();
  switch (kind) {
    case TopologyMessage::kUpdates: {
      m.kind = TopologyMessage::kUpdates;
      uint32_t n = read_count(r, kMaxPeersPerMessage, 44);  // the smallest update
      m.updates.reserve(n);
      for (uint32_t i = 0; i < n; ++i) m.updates.push_back(decode_update(r));
      break;
    }
    case TopologyMessage::kDigest:
      m.kind = TopologyMessage::kDigest;
      m.digest = r.u64();
      m.peer_count = r.u32();
      break;
    case TopologyMessage::kSummary: {
      m.kind = TopologyMessage::kSummary;
      uint8_t mode = r.u8();
      if (mode > TopologyMessage::kRepairReply) throw DecodeError("invalid summary mode");
      m.mode = static_cast<TopologyMessage::Mode>(mode);
      m.buckets = r.u64();
      uint32_t n = read_count(r, kMaxPeersPerMessage, 24);
      m.summary.reserve(n);
      for (uint32_t i = 0; i < n; ++i) {
        SummaryEntry s;
        s.name = read_peer(r);
        s.incarnation = r.u64();
        s.version = r.u64();
        m.summary.push_back(s);
      }
      break;
    }
    case TopologyMessage::kRequest: {
      m.kind = TopologyMessage::kRequest;
      uint32_t n = read_count(r, kMaxPeersPerMessage, 8);
      m.request.reserve(n);
      for (uint32_t i = 0; i < n; ++i) m.request.push_back(read_peer(r));
      break;
    }
    case TopologyMessage::kBuckets:
      m.kind = TopologyMessage::kBuckets;
      m.bucket_digests.resize(kDigestBuckets);
      for (uint64_t& d : m.bucket_digests) d = r.u64();
      break;
    default:
      throw DecodeError("unknown topology message kind " + std::to_string(kind));
  }
  r.expect_done();
  return m;
}

}  // namespace weft
