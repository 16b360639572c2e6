#pragma once
// The NetworkPolicy semantics, once: which workloads a policy selects, which peers and ports a
// rule admits. The planner materialises these predicates as ipsets and rules; `policy why`
// evaluates them directly for one flow; both call these functions, so they cannot disagree about
// what a policy means. Pure.
//
// Semantics (Kubernetes documentation and the upstream e2e suite):
// - A policy selects the workloads of its own namespace matching spec.podSelector (empty: all).
// - A workload is isolated for ingress (egress) when some policy selecting it has that
//   effective policyType; then a flow is allowed in that direction only if some rule of some
//   such policy admits it (the union); a workload no such policy selects allows everything.
// - A rule admits a flow when one of its peers matches the other end (no peers: any) AND one of
//   its ports matches (no ports: any port of any protocol).
// - Peers: podSelector alone = workloads of the policy's namespace matching it;
//   namespaceSelector alone = every workload of a matching namespace; both = workloads matching
//   podSelector in namespaces matching namespaceSelector; ipBlock = addresses in cidr and in no
//   `except` (this applies to workload addresses too).
// - Ports: protocol (default TCP) must match; a numeric port (with endPort: a range) is the
//   destination port; a named port is looked up among the destination workload's ports with the
//   same protocol (so it resolves per destination; never for a non-workload destination); no
//   port = every port of that protocol.
#include <optional>
#include <string>

#include "k8s/ip_cidr.h"
#include "k8s/network_policy.h"
#include "npc/cluster_view.h"

namespace weft::npc {

// The policy selects this workload (same namespace, podSelector matches).
bool policy_selects(const k8s::NetworkPolicy& policy, const Workload& w);

// The peer's selectors match workload `w` (namespace labels from `view`). For an ipBlock peer:
// one of w's addresses is in the block (a flow is judged by the address it uses: rule_admits).
bool peer_matches_workload(const k8s::PolicyPeer& peer, const std::string& policy_ns,
                           const Workload& w, const ClusterView& view);
// The peer matches a bare address (a non-workload end): only an ipBlock can.
bool peer_matches_address(const k8s::PolicyPeer& peer, const k8s::IpAddress& ip);
// In the block: in cidr and in no except.
bool ip_block_contains(const k8s::IpBlock& block, const k8s::IpAddress& ip);

// One side of a flow: a workload, or an address outside every workload.
struct Endpoint {
  const Workload* workload = nullptr;
  k8s::IpAddress ip;  // the address used (a workload's first address, or the given one)
};

// The port entry matches a flow to `dst` (may be a non-workload) on `port`/`protocol`.
bool port_matches(const k8s::PolicyPort& p, const Endpoint& dst, int port,
                  const std::string& protocol);

// Where in a policy a flow was admitted: rule index, and which peer and port entry (nullopt =
// the rule has none, so any).
struct RuleMatch {
  size_t rule = 0;
  std::optional<size_t> peer;
  std::optional<size_t> port;
};

// The first rule of `policy` (ingress when `ingress`, else egress) that admits the flow from
// `src` to `dst`; `other` is the end the peers describe (src for ingress, dst for egress).
std::optional<RuleMatch> rule_admits(const k8s::NetworkPolicy& policy, bool ingress,
                                     const Endpoint& src, const Endpoint& dst, int port,
                                     const std::string& protocol, const ClusterView& view);

}  // namespace weft::npc
