#pragma once
// Blocked packets, as the kernel hands them to weft-npc through NFLOG (planner.h's WEFT-DENY-*
// chains), to one log line per blocked flow and to counters for
// weft_npc_blocked_connections_total{protocol,port}. Pure: the NFLOG adapter (npc/os) passes the
// prefix and the IPv4 packet, and the current time.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>

#include "npc/cluster_view.h"

namespace weft::npc {

struct BlockedPacket {
  std::string prefix;    // the NFLOG prefix: which chain denied it (kLogPrefix*)
  std::string src, dst;  // IPv4 addresses
  std::string protocol;  // "TCP", "UDP", "SCTP", "ICMP" or the number
  int dport = 0;         // 0 when the protocol has no ports
};

// Reads the IPv4 header (and the destination port of TCP, UDP and SCTP). nullopt for anything
// that is not a well-formed IPv4 packet.
std::optional<BlockedPacket> parse_blocked_packet(std::string_view prefix, const uint8_t* packet,
                                                  size_t size);

class BlockedFlowLog {
 public:
  // A flow (source, destination, protocol, port) is logged at most once per `quiet_ms`; at most
  // `max_flows` flows are remembered (an attacker's many flows cost bounded memory; when full,
  // the oldest memory is dropped and lines may repeat sooner).
  explicit BlockedFlowLog(int64_t quiet_ms = 10'000, size_t max_flows = 4096)
      : quiet_ms_(quiet_ms), max_flows_(max_flows) {}

  // Counts the packet; returns the line to log, or nullopt while the flow is quiet:
  //   "blocked TCP x/b (10.32.0.2) -> x/a (10.32.0.1) port 80: x/a is isolated for ingress"
  std::optional<std::string> on_packet(const BlockedPacket& p, const ClusterView& view,
                                       int64_t now_ms);

  // Blocked packets seen, by (protocol, port).
  const std::map<std::pair<std::string, int>, uint64_t>& counts() const { return counts_; }

 private:
  int64_t quiet_ms_;
  size_t max_flows_;
  std::map<std::tuple<std::string, std::string, std::string, int>, int64_t> last_logged_;
  std::map<std::pair<std::string, int>, uint64_t> counts_;
};

}  // namespace weft::npc
