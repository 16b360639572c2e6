#pragma once
// What the planner wants in the kernel: ipsets and iptables chains of the filter table, all
// weft's own (sets "weft-...", chains "WEFT-..."), plus the hook rules that send traffic from the
// built-in FORWARD chain into them. Adapters apply it (npc/os); diff.h compares it with what the
// kernel has. Pure data.
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace weft::npc {

// Kernel limits: an ipset name has at most 31 characters, an iptables chain name at most 28.
inline constexpr size_t kMaxSetName = 31;
inline constexpr size_t kMaxChainName = 28;

struct IpSet {
  std::string name;  // "weft-..."
  // "hash:ip" (workload addresses), "hash:net" (ipBlocks; "nomatch" members for except),
  // "hash:ip,port" (named ports: "10.32.0.5,tcp:80"), "hash:net,iface" (bridge ports:
  // "10.32.0.5,physdev:vethwe12345678").
  std::string type;
  std::set<std::string> members;  // in `ipset add` syntax, options after a space ("... nomatch")
  std::string comment;            // what it holds, for people ("pods of x matching pod=a")
  bool operator==(const IpSet&) const = default;
};

struct Chain {
  std::string name;                // "WEFT-..."
  std::vector<std::string> rules;  // iptables-restore rule specs without "-A NAME "
  // 16 hex digits over name and rules: equal hashes mean equal chains (diff.h).
  std::string hash() const;
  bool operator==(const Chain&) const = default;
};

struct DesiredState {
  std::map<std::string, IpSet> sets;
  std::map<std::string, Chain> chains;
  // Rules that must stand first, in this order, in built-in chains of the filter table:
  // "FORWARD -o weft -j WEFT-FORWARD" (built-in chain name, then the rule spec).
  std::vector<std::string> hooks;
  // The same for ip6tables' filter table. weft workloads are IPv4-only, so no policy can admit
  // IPv6: it is dropped on the bridge ports of isolated and unprogrammed workloads (planner.h).
  std::map<std::string, Chain> chains6;
  std::vector<std::string> hooks6;
  // What cannot be enforced as written, one sentence each, for the log and `weft policy get`.
  std::vector<std::string> problems;
  bool operator==(const DesiredState&) const = default;
};

// FNV-1a 64 as 16 lowercase hex digits: names sets and chains after what they stand for.
std::string short_hash(const std::string& text);

}  // namespace weft::npc
