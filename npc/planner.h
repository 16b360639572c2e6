#pragma once
// The npc planner: the cluster's workloads, namespaces and NetworkPolicies, and which host this
// is, to the ipsets and filter-table chains that enforce the policies for this host's workloads.
// Pure and deterministic: the same cluster state gives the same DesiredState whatever order the
// view lists things in. Semantics: policy_eval.h (the planner materialises those predicates).
//
// Enforcement point. Workloads hang off the Linux bridge (br_netfilter on, so bridged IPv4
// traffic traverses the filter table's FORWARD chain). Two hooks send traffic to WEFT-FORWARD:
// `-o BRIDGE` (everything into or across the bridge) and `-i BRIDGE ! -o BRIDGE` (leaving it).
// Egress is checked on the source's host, ingress on the destination's host: the sets that pick
// the workloads a policy applies to hold only this host's workloads.
//
//   WEFT-FORWARD
//     1. conntrack RELATED,ESTABLISHED -> ACCEPT (replies of allowed connections; every later
//        rule sees only the first packets of flows)
//     2. from a workload port (physdev-in PREFIX+) -> WEFT-FROM-PORT, which RETURNs for each
//        local workload's (bridge port, source address) pair and denies the rest
//        (WEFT-DENY-PORT): fail closed + anti-spoofing, see below
//     3. to a workload port (physdev-out PREFIX+) -> WEFT-TO-PORT, likewise on the destination
//     4. -> WEFT-EGRESS, then -> WEFT-INGRESS; a flow both allow falls through (RETURN) to the
//        rest of FORWARD: weft decides only what it must deny.
//   WEFT-EGRESS: clear the allow mark bit; for each policy with Egress that selects a local
//     workload: source in the policy's target set -> WEFT-E-<policy> (whose rules set the mark
//     bit for what they admit); mark set -> RETURN; source in weft-egress-iso (isolated local
//     workloads) -> WEFT-DENY-EGRESS. WEFT-INGRESS likewise on the destination.
//   WEFT-DENY-*: NFLOG (group, prefix "weft-deny egress|ingress|port", rate-limited) then DROP.
//
// Sets (names from a hash of what they stand for, so equal selectors share one): weft-t-* the
// local workloads a policy selects; weft-p-* every workload a peer's selectors match (cluster
// wide); weft-b-* an ipBlock (hash:net, except entries "nomatch"); weft-n-* every (address,
// protocol:port) that has a given port name; weft-ingress-iso / weft-egress-iso the isolated
// local workloads. The rule count grows with policies (their rules) plus local workloads (two
// port rules per address), never with their product; memberships live in sets. (ipset's
// hash:net,iface cannot do the port check: the set match has no way to ask for the bridge port
// rather than the bridge, so those rules are per workload; they see only new flows.)
//
// Fail closed. The kernel keeps the rules while weft-npc is stopped or restarting, so isolated
// workloads stay isolated. A workload attached meanwhile has a bridge port with the workload
// prefix but no rule in WEFT-FROM-PORT / WEFT-TO-PORT: rules 2-3 drop all its IPv4 traffic
// until weft-npc programs it, whether or not a policy will select it. They also drop the first
// packets of flows a workload sends from an address that is not its own (which would otherwise
// borrow another workload's permissions), and IPv4 broadcast to workloads.
//
// IPv6. Workloads are IPv4-only, but their interfaces speak IPv6 link-local, which crosses the
// overlay like any frame: left alone it would bypass every policy. The ip6tables filter table
// gets the same hooks and a WEFT-FORWARD that accepts replies (conntrack) and lets neighbour
// discovery pass, then sends packets from/to workload ports through WEFT-FROM-PORT /
// WEFT-TO-PORT, which RETURN only for programmed workloads not isolated in that direction and
// DROP the rest (no policy can admit IPv6). Not filtered: traffic the host itself
// sends into the bridge (OUTPUT), traffic to the host (INPUT).
#include <cstdint>
#include <string>

#include "npc/cluster_view.h"
#include "npc/desired_state.h"

namespace weft::npc {

struct PlannerConfig {
  std::string local_host;                       // workloads whose host is this are local
  std::string bridge = "weft";                  // common/overlay.h kBridgeName
  std::string workload_port_prefix = "vethwe";  // kHostVethPrefix: workload bridge ports
  int nflog_group = 86;
  // The packet mark bit a policy chain sets for an admitted flow (cleared before use). Kubernetes'
  // kube-proxy uses 0x4000 and 0x8000; Calico the top 16 bits; Docker none.
  uint32_t allow_mark = 0x20000;
  // Blocked packets logged per second (burst = twice that); the rest are dropped silently.
  int log_rate_per_second = 20;
};

// Chain and set names the planner always creates.
inline constexpr const char* kForwardChain = "WEFT-FORWARD";
inline constexpr const char* kEgressChain = "WEFT-EGRESS";
inline constexpr const char* kIngressChain = "WEFT-INGRESS";
inline constexpr const char* kDenyEgressChain = "WEFT-DENY-EGRESS";
inline constexpr const char* kDenyIngressChain = "WEFT-DENY-INGRESS";
inline constexpr const char* kDenyPortChain = "WEFT-DENY-PORT";
inline constexpr const char* kFromPortChain = "WEFT-FROM-PORT";
inline constexpr const char* kToPortChain = "WEFT-TO-PORT";
inline constexpr const char* kIngressIsolatedSet = "weft-ingress-iso";
inline constexpr const char* kEgressIsolatedSet = "weft-egress-iso";
// NFLOG prefixes (what the blocked-flow reader keys on).
inline constexpr const char* kLogPrefixEgress = "weft-deny egress";
inline constexpr const char* kLogPrefixIngress = "weft-deny ingress";
inline constexpr const char* kLogPrefixPort = "weft-deny port";

// The policy's own chains: "WEFT-I-<16 hex>" and "WEFT-E-<16 hex>" (a hash of namespace/name).
std::string policy_chain(const k8s::NetworkPolicy& policy, bool ingress);

DesiredState plan(const ClusterView& view, const PlannerConfig& config);

}  // namespace weft::npc
