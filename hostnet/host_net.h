#pragma once
// The host side of the overlay (ARCHITECTURE.md §1): the bridge, workload veths, IPv6 sysctls and
// gratuitous ARP, done with `ip` (iproute2) and, inside a workload's namespace, with a thread
// that has joined it. Shared by the CLI (`weft launch`, `weft attach`...) and the router (CNI's
// /workloads/attach), so both put workloads on the bridge the same way (workload_link.h).
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/ipv4_cidr.h"
#include "common/overlay.h"
#include "common/run_program.h"

namespace weft {

// A host change that could not be made; the message says what and what to do next.
struct HostNetError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// `ip ARGS...` in this process's network namespace, or in the one at `netns_path` (through
// nsenter). They never throw for a failing `ip`; see must().
ProgramResult ip(const std::vector<std::string>& args);
ProgramResult ip_in(const std::string& netns_path, const std::vector<std::string>& args);
// Throws HostNetError "cannot WHAT: <what ip said>. NEXT" unless `r` succeeded.
void must(const ProgramResult& r, const std::string& what, const std::string& next);

// `ip -j -d link show dev IFNAME` (in `netns_path`, or here when empty): the interface's JSON
// object, or nullopt when there is no such interface.
std::optional<nlohmann::json> link_info(const std::string& ifname,
                                        const std::string& netns_path = "");

// Runs `fn` on a thread that has joined the network namespace at `netns_path` (the rest of the
// process stays where it is); returns what `fn` returned ("" for success, else why it failed),
// or why the thread could not join the namespace. Programs `fn` starts run in that namespace.
std::string in_netns(const std::string& netns_path, const std::function<std::string()>& fn);

// Stops IPv6 router advertisements and address autoconfiguration on `ifname` (in the current
// namespace): accept_ra=0, autoconf=0 and, with `no_link_local`, addr_gen_mode=1 (no link-local
// address either). Skipped where IPv6 is off. Returns "" or what failed.
std::string disable_ipv6_autoconf(const std::string& ifname, bool no_link_local);

// Sends one gratuitous ARP per address from `ifname` (in the current namespace). Returns "" or
// what failed.
std::string send_gratuitous_arps(const std::string& ifname, const std::vector<uint32_t>& ips);

// Polls until the bridge port `ifname` forwards frames (its link came up and the bridge noticed),
// for at most `limit_ms`; returns whether it does.
bool wait_port_forwarding(const std::string& ifname, int limit_ms);

// The underlay MTU as overlay.h chooses it, from this namespace's links and default route.
UnderlayMtu detect_underlay_mtu();

// Creates the bridge `weft` if missing, with IPv6 autoconfiguration off, sets its MTU and brings
// it up. Returns true if it created it. Throws HostNetError when that cannot be done.
bool ensure_bridge(int mtu);
bool bridge_exists();
// The IPv4 addresses on the bridge (what `weft expose` gave the host).
std::vector<Ipv4Cidr> bridge_addresses();

// This namespace's interfaces that weft created, except the bridge: workload veths ("vethwe" + 8
// hex digits) and router ports ("weft-...").
std::vector<std::string> weft_ports();

enum class NetnsCheck { kOk, kMissing, kNoAccess, kNotNetns };
// Whether `path` is a network namespace; its inode when it is (for kNoAccess, errno says why).
NetnsCheck check_netns(const std::string& path, uint64_t* inode);

// A random unused host-side veth name: "vethwe" + 8 hex digits.
std::string new_veth_name();

}  // namespace weft
