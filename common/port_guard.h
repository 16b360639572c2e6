#pragma once
// Binds each workload's MAC and IPv4 addresses to its bridge port (issue 10: a workload could
// send frames with another workload's IP or MAC and ARP-poison workloads on any host). Frames
// entering the bridge from a workload's port must carry its own source MAC; IPv4 packets its
// own addresses; ARP its own MAC and addresses (as sender); broadcast and multicast frames are
// limited per port. Frames from a workload port of the bridge weft (vethwe*) without a binding
// are dropped: fail closed (Weave Net's vethwe-bridge and vethwepl* ports are not
// touched). The
// check is in nftables' bridge family at prerouting, before the bridge's learning: it does not
// depend on the learning tables and does not switch off when they fill.
//
// Everything lives in one table, `bridge weft`; nothing else is touched:
//   chain prerouting (filter hook, priority -200): iifname vmap @ports; weft's vethwe* -> drop
//   map ports { ifname : verdict }: a port's entry goes to its chain (goto: its verdict, or the
//   base policy accept, is final) `port_<veth>` chain port_<veth>: the checks above, each with a
//   named counter (spoof_<veth>, flood_<veth>)
// The rule text is generated here without I/O (PortGuardRules); PortGuard runs `nft -f` on it.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace weft {

struct PortBinding {
  std::string veth;           // the host end on the bridge, e.g. vethwe1a2b3c4d
  std::string mac;            // the workload's MAC, aa:bb:cc:dd:ee:ff
  std::vector<uint32_t> ips;  // host byte order
  bool operator==(const PortBinding&) const = default;
};

// Limits on broadcast and multicast frames from one workload port. ARP, DHCP and mDNS of a
// normal workload stay far below; 78,000 frames/s (the flood) is cut to this.
struct PortGuardLimits {
  uint32_t broadcast_per_second = 500;
  uint32_t broadcast_burst = 1000;
};

namespace port_guard_rules {
constexpr const char* kTable = "weft";
constexpr const char* kWorkloadPortPrefix = "vethwe";
// nftables scripts (for `nft -f`), each one atomic transaction. Throw std::invalid_argument for
// a name or MAC that is not what weft creates (nothing from a user reaches nft unchecked).
std::string create_table();  // idempotent: table, map and the prerouting chain
std::string bind(const PortBinding& b, const PortGuardLimits& limits = {});  // (re)binds one port
std::string unbind(const std::string& veth);  // removes one port's binding (it must exist)
// The whole table from scratch: exactly these bindings.
std::string sync(const std::vector<PortBinding>& all, const PortGuardLimits& limits = {});
}  // namespace port_guard_rules

// Packets a port's rules dropped: frames with foreign addresses (spoof_<veth>), broadcast and
// multicast over the limit (flood_<veth>).
struct PortGuardCounts {
  uint64_t spoofed = 0, flood_limited = 0;
};

// What applies the rules (PortGuard with nft; a fake in tests). Each call returns "" or what
// went wrong.
class PortGuardBackend {
 public:
  virtual ~PortGuardBackend() = default;
  virtual std::string bind(const PortBinding& b) = 0;
  virtual std::string unbind(const std::string& veth) = 0;
  virtual std::string sync(const std::vector<PortBinding>& all) = 0;
  // Each bound port's counters (empty when the table is absent).
  virtual std::map<std::string, PortGuardCounts> counts() = 0;
};

// Applies the rules with the `nft` program.
class PortGuard : public PortGuardBackend {
 public:
  std::string bind(const PortBinding& b) override;
  std::string unbind(const std::string& veth) override;
  std::string sync(const std::vector<PortBinding>& all) override;
  std::map<std::string, PortGuardCounts> counts() override;

 private:
  std::string apply(const std::string& script);
};

}  // namespace weft
