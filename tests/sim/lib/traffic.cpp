#include "tests/sim/lib/traffic.h"

#include "router/wire/mesh_message.h"
#include "router/wire/topology_message.h"

namespace weft::sim {

const char* const kKindName[kKinds] = {"heartbeat",
                                       "digest",
                                       "updates (broadcast)",
                                       "updates (to a neighbour)",
                                       "summary (join)",
                                       "summary (repair)",
                                       "summary (repair reply)",
                                       "bucket digests",
                                       "request",
                                       "close",
                                       "other"};

Kind classify(ByteView m) {
  if (m.empty()) return kOther;
  if (m[0] == static_cast<uint8_t>(MeshMessageType::kHeartbeat)) return kHeartbeat;
  if (m[0] == static_cast<uint8_t>(MeshMessageType::kClose)) return kClose;
  MeshMessage mm;
  try {
    mm = decode_mesh_message(m);
  } catch (const DecodeError&) {
    return kOther;
  }
  if (mm.text != "topology" || mm.payload.empty()) return kOther;
  switch (mm.payload[0]) {
    case TopologyMessage::kUpdates:
      return mm.type == MeshMessageType::kGossipBroadcast ? kBroadcastUpdates : kReplyUpdates;
    case TopologyMessage::kDigest:
      return kDigest;
    case TopologyMessage::kSummary: {
      uint8_t mode = mm.payload.size() > 1 ? mm.payload[1] : 0;
      if (mode == TopologyMessage::kRepair) return kSummaryRepair;
      if (mode == TopologyMessage::kRepairReply) return kSummaryRepairReply;
      return kSummaryJoin;
    }
    case TopologyMessage::kRequest:
      return kRequest;
    case TopologyMessage::kBuckets:
      return kBucketDigests;
    default:
      return kOther;
  }
}

}  // namespace weft::sim
