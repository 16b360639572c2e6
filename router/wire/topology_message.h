#pragma once
// The topology gossip channel's messages (payload of a gossip message on channel "topology").
//
//   u8 kind, then
//   kUpdates   u32 n, n x PeerUpdate       records or deltas (broadcast, or replies)
//   kDigest    u64 digest, u32 peers       "my view hashes to this"; cheap anti-entropy probe
//   kSummary   u8 mode, u64 buckets, u32 n, n x (u64 name, u64 incarnation, u64 version)
//              Lists the sender's records in the digest buckets (see digest_bucket) whose bits
//              are set in `buckets` (all 64 for a join); the receiver compares only those.
//              mode kJoin: sent on a new connection; the receiver sends the records the sender
//                lacks (or holds from an older incarnation); newer versions of records it already
//                has are on their way as broadcast deltas.
//              mode kRepair: in answer to kBuckets, for the buckets that differ; the receiver
//                sends every record it has newer and replies with its own summary of the same
//                buckets in mode kRepairReply (which gets the same treatment, minus the reply).
//   kRequest   u32 n, n x u64 name         "send me your full record of these"
//   kBuckets   64 x u64                    after a digest mismatch: the sender's digest of each
//                                          bucket, so that only differing buckets are summarised
//                                          (O(difference) instead of O(peers) bytes)
// PeerUpdate: u64 name, str16 nickname, u64 incarnation, u64 version, u16 port, u64 base_version,
//             u32 n, n x (u64 peer, str16 ip, u8 outbound), u32 m, m x u64 removed peer
#include <vector>

#include "common/bytes.h"
#include "router/wire/peer_update.h"

namespace weft {

struct SummaryEntry {
  PeerName name = 0;
  uint64_t incarnation = 0;
  uint64_t version = 0;
};

// Records are hashed into this many buckets by name for anti-entropy (a u64 bit mask).
constexpr int kDigestBuckets = 64;
constexpr uint64_t kAllBuckets = ~uint64_t(0);
// splitmix64's finaliser: digests and buckets are computed by every peer alike, so this is part
// of the protocol.
uint64_t mix64(uint64_t x);
inline int digest_bucket(PeerName name) {
  return static_cast<int>(mix64(name) >> 58);
}

struct TopologyMessage {
  enum Kind : uint8_t { kUpdates = 1, kDigest = 2, kSummary = 3, kRequest = 4, kBuckets = 5 };
  Kind kind = kUpdates;
  std::vector<PeerUpdate> updates;
  uint64_t digest = 0;
  uint32_t peer_count = 0;
  std::vector<SummaryEntry> summary;
  enum Mode : uint8_t { kJoin = 0, kRepair = 1, kRepairReply = 2 };
  Mode mode = kJoin;
  uint64_t buckets = kAllBuckets;  // kSummary: the buckets it covers
  std::vector<PeerName> request;
  std::vector<uint64_t> bucket_digests;  // kBuckets: exactly kDigestBuckets
};

// Bounds that keep a hostile message from making us allocate without limit.
constexpr size_t kMaxPeersPerMessage = 1 << 16;
constexpr size_t kMaxEdgesPerPeer = 1 << 16;

Bytes encode_topology_message(const TopologyMessage& m);
TopologyMessage decode_topology_message(ByteView in);  // throws DecodeError

}  // namespace weft
