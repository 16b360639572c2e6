#include "npc/why.h"

#include <algorithm>

namespace weft::npc {

namespace {

Endpoint resolve(const ClusterView& view, const std::string& arg, std::string& label) {
  Endpoint e;
  if (auto ip = k8s::parse_ip(arg)) {
    e.ip = *ip;
    e.workload = view.find_workload_by_ip(ip->to_string());
    label = e.workload ? e.workload->key() + " (" + ip->to_string() + ")" : ip->to_string();
    return e;
  }
  size_t slash = arg.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == arg.size())
    throw std::invalid_argument("\"" + arg + "\" is neither NAMESPACE/NAME nor an IP address");
  e.workload = view.find_workload(arg.substr(0, slash), arg.substr(slash + 1));
  if (!e.workload) throw std::invalid_argument("no workload " + arg);
  std::optional<k8s::IpAddress> ip;
  for (const std::string& a : e.workload->ips)
    if ((ip = k8s::parse_ip(a))) break;
  if (!ip) throw std::invalid_argument("workload " + arg + " has no address");
  e.ip = *ip;
  label = arg + " (" + ip->to_string() + ")";
  return e;
}

DirectionVerdict judge(const ClusterView& view, bool ingress, const Endpoint& src,
                       const Endpoint& dst, int port, const std::string& protocol) {
  DirectionVerdict v;
  const Endpoint& self = ingress ? dst : src;
  if (!self.workload) return v;
  v.applies = true;
  std::vector<const k8s::NetworkPolicy*> policies;
  for (const k8s::NetworkPolicy& p : view.policies)
    if ((ingress ? p.isolates_ingress() : p.isolates_egress()) && policy_selects(p, *self.workload))
      policies.push_back(&p);
  std::sort(policies.begin(), policies.end(),
            [](const auto* a, const auto* b) { return a->key() < b->key(); });
  v.isolated = !policies.empty();
  for (const k8s::NetworkPolicy* p : policies) {
    v.policies.push_back(p->key());
    if (v.admitted_by) continue;
    if (auto m = rule_admits(*p, ingress, src, dst, port, protocol, view)) {
      v.admitted_by = p->key();
      v.rule = m;
    }
  }
  return v;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + v[i];
  return out;
}

std::string describe(const DirectionVerdict& v, bool ingress, const std::string& end) {
  std::string dir = ingress ? "ingress to " : "egress from ";
  if (!v.applies) return dir + end + ": not a workload, not filtered";
  if (!v.isolated)
    return dir + end + ": allowed, not isolated (no policy with " +
           (ingress ? "Ingress" : "Egress") + " selects it)";
  std::string s = dir + end + ": isolated by " + join(v.policies) + "; ";
  if (!v.admitted_by) return s + "denied: no rule admits it";
  std::string where = *v.admitted_by + " " + (ingress ? "ingress[" : "egress[") +
                      std::to_string(v.rule->rule) + "]";
  where += v.rule->peer
               ? std::string(ingress ? ".from[" : ".to[") + std::to_string(*v.rule->peer) + "]"
               : std::string(ingress ? " (any source)" : " (any destination)");
  where += v.rule->port ? ".ports[" + std::to_string(*v.rule->port) + "]" : " (any port)";
  return s + "allowed by " + where;
}

}  // namespace

Explanation explain(const ClusterView& view, const std::string& src, const std::string& dst,
                    int port, const std::string& protocol) {
  if (protocol != "TCP" && protocol != "UDP" && protocol != "SCTP")
    throw std::invalid_argument("protocol \"" + protocol + "\" is not TCP, UDP or SCTP");
  if (port < 1 || port > 65535) throw std::invalid_argument("port must be 1..65535");
  Explanation x;
  Endpoint s = resolve(view, src, x.src), d = resolve(view, dst, x.dst);
  x.egress = judge(view, false, s, d, port, protocol);
  x.ingress = judge(view, true, s, d, port, protocol);
  x.allowed = x.egress.allowed() && x.ingress.allowed();
  x.text = x.src + " -> " + x.dst + " " + protocol + "/" + std::to_string(port) + ": " +
           (x.allowed ? "allowed" : "denied") + "\n  " + describe(x.egress, false, x.src) + "\n  " +
           describe(x.ingress, true, x.dst) + "\n";
  return x;
}

}  // namespace weft::npc
