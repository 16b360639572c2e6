#include "ipam/messages.h"

namespace weft::ipam {

namespace {

enum class Type : uint8_t { kRing = 1, kDigest, kProposal, kRequest, kGrant, kRefuse };
constexpr size_t kMaxProposalSeeds = 1024;

}  // namespace

Bytes encode(const Message& m) {
  Bytes out;
  ByteWriter w(out);
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, RingMsg>) {
          w.u8(uint8_t(Type::kRing));
          v.ring.encode(w);
        } else if constexpr (std::is_same_v<T, DigestMsg>) {
          w.u8(uint8_t(Type::kDigest));
          w.u64(v.digest);
        } else if constexpr (std::is_same_v<T, ProposalMsg>) {
          w.u8(uint8_t(Type::kProposal));
          w.u32(v.seq);
          w.u64(v.since);
          w.u16(v.quorum);
          w.u16(uint16_t(v.seeds.size()));
          for (PeerName s : v.seeds) w.u64(s);
        } else if constexpr (std::is_same_v<T, RequestMsg>) {
          w.u8(uint8_t(Type::kRequest));
          w.u32(v.request_id);
          w.u8(!v.address ? 0 : v.held ? 2 : 1);  // 2: an address the sender holds
          w.u32(v.address.value_or(0));
        } else if constexpr (std::is_same_v<T, GrantMsg>) {
          w.u8(uint8_t(Type::kGrant));
          w.u32(v.request_id);
          v.ring.encode(w);
        } else {
          w.u8(uint8_t(Type::kRefuse));
          w.u32(v.request_id);
          w.u8(uint8_t(v.reason));
          w.u8(v.ring ? 1 : 0);
          if (v.ring) v.ring->encode(w);
        }
      },
      m);
  return out;
}

Message decode(ByteView b) {
  ByteReader r(b);
  Message m;
  switch (Type(r.u8())) {
    case Type::kRing:
      m = RingMsg{Ring::decode(r)};
      break;
    case Type::kDigest:
      m = DigestMsg{r.u64()};
      break;
    case Type::kProposal: {
      ProposalMsg p;
      p.seq = r.u32();
      p.since = r.u64();
      p.quorum = r.u16();
      size_t n = r.u16();
      if (n > kMaxProposalSeeds || n * 8 > r.remaining())
        throw DecodeError("ipam proposal: bad seed count");
      for (size_t i = 0; i < n; ++i) {
        PeerName s = r.u64();
        if (s == 0 || s > kPeerNameMask || (!p.seeds.empty() && s <= p.seeds.back()))
          throw DecodeError("ipam proposal: seeds not sorted names");
        p.seeds.push_back(s);
      }
      m = std::move(p);
      break;
    }
    case Type::kRequest: {
      RequestMsg q;
      q.request_id = r.u32();
      uint8_t has = r.u8();
      uint32_t a = r.u32();
      if (has > 2) throw DecodeError("ipam request: bad flag");
      if (has) q.address = a;
      q.held = has == 2;
      m = q;
      break;
    }
    case Type::kGrant: {
      uint32_t id = r.u32();
      m = GrantMsg{id, Ring::decode(r)};
      break;
    }
    case Type::kRefuse: {
      uint32_t id = r.u32();
      uint8_t reason = r.u8();
      if (reason > uint8_t(RefuseReason::kNoRing)) throw DecodeError("ipam refuse: bad reason");
      uint8_t has_ring = r.u8();
      if (has_ring > 1) throw DecodeError("ipam refuse: bad flag");
      RefuseMsg f{id, RefuseReason(reason), std::nullopt};
      if (has_ring) f.ring = Ring::decode(r);
      m = std::move(f);
      break;
    }
    default:
      throw DecodeError("ipam: unknown message type");
  }
  r.expect_done();
  return m;
}

}  // namespace weft::ipam
