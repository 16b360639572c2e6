// Blocked packets as NFLOG hands them over (a workload controls their bytes): parsing never
// reads outside the packet, and the flow log stays bounded whatever arrives.
#include <cstddef>
#include <cstdint>

#include "fuzz_common.h"
#include "npc/blocked_flows.h"
#include "npc/planner.h"

using namespace weft::npc;
using weft::fuzz::require;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static BlockedFlowLog log(10'000, 64);
  static ClusterView view;
  static int64_t now = 0;
  if (size == 0) return 0;
  const char* prefixes[] = {kLogPrefixEgress, kLogPrefixIngress, kLogPrefixPort, ""};
  auto b = parse_blocked_packet(prefixes[data[0] & 3], data + 1, size - 1);
  if (b) {
    require(size - 1 >= 20);
    require(b->dport >= 0 && b->dport <= 65535);
    log.on_packet(*b, view, now += 7);
  }
  return 0;
}
