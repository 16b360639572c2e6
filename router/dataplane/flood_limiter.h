#pragma once
// A token bucket per local source MAC for the unknown-unicast frames the forwarder floods to
// every peer (issue 10: a workload sending to destinations nobody knows makes its router seal
// and send each frame to every peer, as a broadcast would). Broadcast and multicast are limited
// per bridge port by the port guard (common/port_guard.h) before they reach the bridge; unknown
// unicast cannot be told apart there (the bridge's learning table is not visible to nftables),
// so it is limited here, where the forwarder knows the destination is unknown. The port guard
// binds each workload port to one source MAC, so a bucket per source MAC is a bucket per port.
//
// No allocation and constant work per frame: a fixed array of buckets indexed by a keyed hash
// of the MAC (the key random in the router, fixed in tests). Two workloads whose MACs share a
// bucket share one limit (1 in kBuckets for any pair: a flooder then slows a neighbour's
// unknown unicast, never anyone's known unicast).
#include <array>
#include <cstdint>

#include "router/dataplane/mac.h"

namespace weft {

struct FloodLimits {
  // Unknown unicast is the first frames of a flow towards a MAC this router has not learned yet
  // (or forgot after 5 min of silence): a few per flow. Like the port guard's broadcast limit.
  uint32_t per_second = 500;
  uint32_t burst = 1000;
};

class FloodLimiter {
 public:
  static constexpr size_t kBuckets = 1024;

  explicit FloodLimiter(FloodLimits limits = {}, uint64_t hash_seed = 0)
      : limits_(limits), seed_(hash_seed) {}

  // Whether one more frame from `src` may be flooded at now_ms (takes a token when it may).
  // Time must not go backwards.
  bool allow(const Mac& src, int64_t now_ms);

  const FloodLimits& limits() const { return limits_; }

 private:
  struct Bucket {
    uint64_t milli_tokens = 0;    // tokens x 1000 (so a rate below 1/ms adds up exactly)
    int64_t last_ms = INT64_MIN;  // never used: full
  };
  size_t index(const Mac& m) const;

  FloodLimits limits_;
  uint64_t seed_;
  std::array<Bucket, kBuckets> buckets_{};
};

}  // namespace weft
