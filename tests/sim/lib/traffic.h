#pragma once
// What a delivered mesh message is, for tests and benchmarks that count the simulator's traffic
// by kind (SimNetwork::set_delivery_observer).
#include "common/bytes.h"

namespace weft::sim {

enum Kind {
  kHeartbeat,
  kDigest,
  kBroadcastUpdates,
  kReplyUpdates,
  kSummaryJoin,
  kSummaryRepair,
  kSummaryRepairReply,
  kBucketDigests,
  kRequest,
  kClose,
  kOther,
  kKinds
};
extern const char* const kKindName[kKinds];

// Heartbeats and anti-entropy digests flow whatever happens: not part of an event's cost.
inline bool periodic(int k) {
  return k == kHeartbeat || k == kDigest;
}

// Undecodable messages and other channels' messages are kOther.
Kind classify(ByteView mesh_message);

}  // namespace weft::sim
