#pragma once
// The topology gossip channel's messages (payload of a gossip message on channel "topology").
//
//   u8 kind, then
//   kUpdates   u32 n, n x PeerUpdate       records or deltas (broadcast, or replies)
//   kDigest    u64 digest, u32 peers       "my view hashes to this"; cheap anti-entropy probe
//   kSummary   u8 mode, u32 n, n x (u64 name, u64 incarnation, u64 version)
//              mode kJoin: sent on a new connection; the receiver sends the records the sender
//                lacks (or holds from an older incarnation); newer versions of records it already
//                has are on their way as broadcast deltas.
//              mode kRepair: after a digest mismatch; the receiver sends every record it has
//                newer and replies with its own summary in mode kRepairReply (which gets the
//                same treatment, minus the reply), so the exchange ends after one round trip.
//   kRequest   u32 n, n x u64 name         "send me your full record of these"
// PeerUpdate: u64 name, str16 nickname, u64 incarnation, u64 version, u16 port, u64 base_version,
//             u32 n, n x (u64 peer, str16 ip, u8 outbound), u32 m, m x u64 removed peer
#include <vector>

#include "common/bytes.h"
#include "router/mesh/peer_record.h"

namespace weft {

struct SummaryEntry {
  PeerName name = 0;
  uint64_t incarnation = 0;
  uint64_t version = 0;
};

struct TopologyMessage {
  enum Kind : uint8_t { kUpdates = 1, kDigest = 2, kSummary = 3, kRequest = 4 };
  Kind kind = kUpdates;
  std::vector<PeerUpdate> updates;
  uint64_t digest = 0;
  uint32_t peer_count = 0;
  std::vector<SummaryEntry> summary;
  enum Mode : uint8_t { kJoin = 0, kRepair = 1, kRepairReply = 2 };
  Mode mode = kJoin;
  std::vector<PeerName> request;
};

// Bounds that keep a hostile message from making us allocate without limit.
constexpr size_t kMaxPeersPerMessage = 1 << 16;
constexpr size_t kMaxEdgesPerPeer = 1 << 16;

Bytes encode_topology_message(const TopologyMessage& m);
TopologyMessage decode_topology_message(ByteView in);  // throws DecodeError

}  // namespace weft
