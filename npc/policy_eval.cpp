#include "npc/policy_eval.h"

namespace weft::npc {

bool policy_selects(const k8s::NetworkPolicy& policy, const Workload& w) {
  return w.ns == policy.ns && policy.pod_selector.matches(w.labels);
}

bool ip_block_contains(const k8s::IpBlock& block, const k8s::IpAddress& ip) {
  std::optional<k8s::IpCidr> cidr = k8s::parse_ip_cidr(block.cidr);
  if (!cidr || !cidr->contains(ip)) return false;
  for (const std::string& e : block.except) {
    std::optional<k8s::IpCidr> ex = k8s::parse_ip_cidr(e);
    if (ex && ex->contains(ip)) return false;
  }
  return true;
}

bool peer_matches_address(const k8s::PolicyPeer& peer, const k8s::IpAddress& ip) {
  return peer.ip_block && ip_block_contains(*peer.ip_block, ip);
}

bool peer_matches_workload(const k8s::PolicyPeer& peer, const std::string& policy_ns,
                           const Workload& w, const ClusterView& view) {
  if (peer.ip_block) {
    for (const std::string& a : w.ips)
      if (auto ip = k8s::parse_ip(a); ip && ip_block_contains(*peer.ip_block, *ip)) return true;
    return false;
  }
  if (!peer.pod_selector && !peer.namespace_selector) return false;  // invalid; matches nothing
  if (peer.namespace_selector) {
    if (!peer.namespace_selector->matches(view.namespace_labels(w.ns))) return false;
  } else if (w.ns != policy_ns) {
    return false;
  }
  return !peer.pod_selector || peer.pod_selector->matches(w.labels);
}

bool port_matches(const k8s::PolicyPort& p, const Endpoint& dst, int port,
                  const std::string& protocol) {
  if (p.protocol != protocol) return false;
  if (p.port) return port >= *p.port && port <= p.end_port.value_or(*p.port);
  if (!p.named_port.empty()) {
    if (!dst.workload) return false;
    for (const NamedPort& np : dst.workload->ports)
      if (np.name == p.named_port && np.protocol == protocol && np.port == port) return true;
    return false;
  }
  return true;
}

std::optional<RuleMatch> rule_admits(const k8s::NetworkPolicy& policy, bool ingress,
                                     const Endpoint& src, const Endpoint& dst, int port,
                                     const std::string& protocol, const ClusterView& view) {
  const std::vector<k8s::PolicyRule>& rules = ingress ? policy.ingress : policy.egress;
  const Endpoint& other = ingress ? src : dst;
  for (size_t r = 0; r < rules.size(); ++r) {
    const k8s::PolicyRule& rule = rules[r];
    RuleMatch m{r, std::nullopt, std::nullopt};
    bool peer_ok = rule.peers.empty();
    for (size_t i = 0; i < rule.peers.size() && !peer_ok; ++i) {
      const k8s::PolicyPeer& peer = rule.peers[i];
      // An ipBlock judges the address the flow uses; selectors judge the workload behind it.
      bool hit = peer.ip_block    ? peer_matches_address(peer, other.ip)
                 : other.workload ? peer_matches_workload(peer, policy.ns, *other.workload, view)
                                  : false;
      if (hit) {
        peer_ok = true;
        m.peer = i;
      }
    }
    if (!peer_ok) continue;
    bool port_ok = rule.ports.empty();
    for (size_t i = 0; i < rule.ports.size() && !port_ok; ++i) {
      if (port_matches(rule.ports[i], dst, port, protocol)) {
        port_ok = true;
        m.port = i;
      }
    }
    if (port_ok) return m;
  }
  return std::nullopt;
}

}  // namespace weft::npc
