#include "npc/planner.h"

#include <algorithm>
#include <cstdio>

#include "k8s/ip_cidr.h"
#include "npc/policy_eval.h"

namespace weft::npc {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return char(std::tolower(c)); });
  return s;
}

std::string hex(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%x", v);
  return buf;
}

bool is_v4(const std::string& ip) {
  auto a = k8s::parse_ip(ip);
  return a && !a->v6;
}

class Planner {
 public:
  Planner(const ClusterView& view, const PlannerConfig& cfg) : view_(view), cfg_(cfg) {}

  DesiredState run() {
    std::vector<const Workload*> all;
    for (const Workload& w : view_.workloads) all.push_back(&w);
    std::sort(all.begin(), all.end(),
              [](const Workload* a, const Workload* b) { return a->key() < b->key(); });
    all_ = all;
    for (const Workload* w : all_)
      if (w->host == cfg_.local_host) local_.push_back(w);
    std::vector<const k8s::NetworkPolicy*> policies;
    for (const k8s::NetworkPolicy& p : view_.policies) policies.push_back(&p);
    std::sort(policies.begin(), policies.end(),
              [](const auto* a, const auto* b) { return a->key() < b->key(); });

    port_chains();
    Chain egress{kEgressChain, {"-j MARK --set-xmark 0x0/" + hex(cfg_.allow_mark)}};
    Chain ingress{kIngressChain, {"-j MARK --set-xmark 0x0/" + hex(cfg_.allow_mark)}};
    IpSet in_iso{kIngressIsolatedSet, "hash:ip", {}, "local workloads isolated for ingress"};
    IpSet eg_iso{kEgressIsolatedSet, "hash:ip", {}, "local workloads isolated for egress"};
    // Policies with the same namespace and podSelector select the same workloads: each distinct
    // selector is evaluated once (10,000 policies rarely have 10,000 different selectors).
    std::map<std::string, std::vector<const Workload*>> selected;
    for (const k8s::NetworkPolicy* p : policies) {
      auto [it, fresh] = selected.try_emplace(p->ns + " pods{" + p->pod_selector.canonical() + "}");
      if (fresh)
        for (const Workload* w : local_)
          if (policy_selects(*p, *w)) it->second.push_back(w);
      const std::vector<const Workload*>& targets = it->second;
      if (targets.empty()) continue;
      if (p->isolates_ingress()) {
        direction(*p, true, targets, ingress, in_iso);
        in_isolated_.insert(targets.begin(), targets.end());
      }
      if (p->isolates_egress()) {
        direction(*p, false, targets, egress, eg_iso);
        eg_isolated_.insert(targets.begin(), targets.end());
      }
    }
    std::string mark = hex(cfg_.allow_mark) + "/" + hex(cfg_.allow_mark);
    egress.rules.push_back("-m mark --mark " + mark + " -j RETURN");
    egress.rules.push_back("-m set --match-set " + std::string(kEgressIsolatedSet) + " src -j " +
                           kDenyEgressChain);
    ingress.rules.push_back("-m mark --mark " + mark + " -j RETURN");
    ingress.rules.push_back("-m set --match-set " + std::string(kIngressIsolatedSet) + " dst -j " +
                            kDenyIngressChain);
    add(std::move(egress));
    add(std::move(ingress));
    out_.sets[in_iso.name] = in_iso;
    out_.sets[eg_iso.name] = eg_iso;

    std::string prefix = cfg_.workload_port_prefix + "+";
    add({kForwardChain,
         {"-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
          "-m physdev --physdev-in " + prefix + " -j " + kFromPortChain,
          "-m physdev --physdev-out " + prefix + " -j " + kToPortChain,
          std::string("-j ") + kEgressChain, std::string("-j ") + kIngressChain}});
    deny_chain(kDenyEgressChain, kLogPrefixEgress);
    deny_chain(kDenyIngressChain, kLogPrefixIngress);
    deny_chain(kDenyPortChain, kLogPrefixPort);
    out_.hooks = {"FORWARD -o " + cfg_.bridge + " -j " + kForwardChain,
                  "FORWARD -i " + cfg_.bridge + " ! -o " + cfg_.bridge + " -j " + kForwardChain};
    ipv6();
    return std::move(out_);
  }

 private:
  void add(Chain c) { out_.chains[c.name] = std::move(c); }

  void deny_chain(const char* name, const char* log_prefix) {
    int rate = cfg_.log_rate_per_second;
    add({name,
         {"-m limit --limit " + std::to_string(rate) + "/sec --limit-burst " +
              std::to_string(2 * rate) + " -j NFLOG --nflog-prefix \"" + log_prefix +
              "\" --nflog-group " + std::to_string(cfg_.nflog_group),
          "-j DROP"}});
  }

  // Registers a set under a name derived from `key`; returns the name.
  std::string set(const std::string& kind, const std::string& key, const std::string& type,
                  std::set<std::string> members, const std::string& comment) {
    std::string name = "weft-" + kind + "-" + short_hash(kind + "|" + key);
    auto [it, fresh] = set_keys_.emplace(name, key);
    if (!fresh && it->second != key)
      out_.problems.push_back("ipset name collision between \"" + it->second + "\" and \"" + key +
                              "\": both use " + name);
    out_.sets[name] = {name, type, std::move(members), comment};
    return name;
  }

  // WEFT-FROM-PORT / WEFT-TO-PORT: each local workload's (bridge port, address) pairs return;
  // anything else on a workload port is denied.
  void port_chains() {
    Chain from{kFromPortChain, {}}, to{kToPortChain, {}};
    for (const Workload* w : local_) {
      if (w->veth.empty()) {
        out_.problems.push_back("workload " + w->key() +
                                " has no bridge port (veth): its traffic is not filtered");
        continue;
      }
      for (const std::string& ip : w->ips) {
        if (!is_v4(ip)) continue;
        from.rules.push_back("-s " + ip + "/32 -m physdev --physdev-in " + w->veth + " -j RETURN");
        to.rules.push_back("-d " + ip + "/32 -m physdev --physdev-out " + w->veth + " -j RETURN");
      }
    }
    from.rules.push_back(std::string("-j ") + kDenyPortChain);
    to.rules.push_back(std::string("-j ") + kDenyPortChain);
    add(std::move(from));
    add(std::move(to));
  }

  // IPv6 (ip6tables): no policy can admit it (workloads are IPv4-only), so the ports of isolated
  // workloads drop it in the isolated direction, and unprogrammed ports drop it both ways.
  void ipv6() {
    std::string prefix = cfg_.workload_port_prefix + "+";
    Chain from{kFromPortChain, {}}, to{kToPortChain, {}};
    for (const Workload* w : local_) {
      if (w->veth.empty()) continue;
      if (!eg_isolated_.count(w))
        from.rules.push_back("-m physdev --physdev-in " + w->veth + " -j RETURN");
      if (!in_isolated_.count(w))
        to.rules.push_back("-m physdev --physdev-out " + w->veth + " -j RETURN");
    }
    from.rules.push_back("-j DROP");
    to.rules.push_back("-j DROP");
    // Replies of allowed flows pass; so does neighbour discovery (without it nothing IPv6
    // works, even what is allowed; it carries no data).
    Chain fwd{
        kForwardChain,
        {"-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
         "-p ipv6-icmp --icmpv6-type 135 -j RETURN", "-p ipv6-icmp --icmpv6-type 136 -j RETURN",
         "-m physdev --physdev-in " + prefix + " -j " + kFromPortChain,
         "-m physdev --physdev-out " + prefix + " -j " + kToPortChain}};
    for (Chain* c : {&fwd, &from, &to}) out_.chains6[c->name] = std::move(*c);
    out_.hooks6 = out_.hooks;
  }

  std::set<std::string> addresses(const std::vector<const Workload*>& ws) {
    std::set<std::string> out;
    for (const Workload* w : ws)
      for (const std::string& ip : w->ips)
        if (is_v4(ip)) out.insert(ip);
    return out;
  }

  // The match for one peer on side `dir` ("src" or "dst"), or "" when it cannot match IPv4.
  std::string peer_match(const k8s::NetworkPolicy& p, const k8s::PolicyPeer& peer,
                         const std::string& dir, const std::string& where) {
    if (peer.ip_block) {
      std::optional<k8s::IpCidr> cidr = k8s::parse_ip_cidr(peer.ip_block->cidr);
      if (!cidr) return "";
      if (cidr->network.v6) {
        out_.problems.push_back(p.key() + " " + where + ": the IPv6 ipBlock " +
                                peer.ip_block->cidr +
                                " admits nothing (weft workloads are IPv4-only; IPv6 to and from "
                                "isolated workloads is dropped)");
        return "";
      }
      std::set<std::string> members;
      if (cidr->prefix == 0) {
        members = {"0.0.0.0/1", "128.0.0.0/1"};  // hash:net takes no /0
      } else {
        members.insert(cidr->to_string());
      }
      std::vector<std::string> except;
      for (const std::string& e : peer.ip_block->except)
        if (auto ex = k8s::parse_ip_cidr(e)) {
          members.insert(ex->to_string() + " nomatch");
          except.push_back(ex->to_string());
        }
      std::sort(except.begin(), except.end());
      std::string key = cidr->to_string();
      for (const std::string& e : except) key += " except " + e;
      return "-m set --match-set " + set("b", key, "hash:net", members, "ipBlock " + key) + " " +
             dir;
    }
    std::string key = peer.namespace_selector
                          ? "namespaces{" + peer.namespace_selector->canonical() + "}"
                          : "namespace " + p.ns;
    if (peer.pod_selector) key += " pods{" + peer.pod_selector->canonical() + "}";
    // Equal selectors share one set, computed once (peer_sets_).
    auto [it, fresh] = peer_sets_.try_emplace(key);
    if (fresh) {
      std::vector<const Workload*> matched;
      for (const Workload* w : all_)
        if (peer_matches_workload(peer, p.ns, *w, view_)) matched.push_back(w);
      it->second = set("p", key, "hash:ip", addresses(matched), key);
    }
    return "-m set --match-set " + it->second + " " + dir;
  }

  std::string port_match(const k8s::PolicyPort& port) {
    std::string proto = lower(port.protocol);
    std::string m = "-p " + proto;
    if (port.port) {
      m += " --dport " + std::to_string(*port.port);
      if (port.end_port && *port.end_port != *port.port) m += ":" + std::to_string(*port.end_port);
    } else if (!port.named_port.empty()) {
      std::string key = port.named_port + "/" + port.protocol;
      auto [it, fresh] = peer_sets_.try_emplace("named port " + key);
      if (fresh) {
        std::set<std::string> members;
        for (const Workload* w : all_)
          for (const NamedPort& np : w->ports)
            if (np.name == port.named_port && np.protocol == port.protocol)
              for (const std::string& ip : w->ips)
                if (is_v4(ip)) members.insert(ip + "," + proto + ":" + std::to_string(np.port));
        it->second = set("n", key, "hash:ip,port", members, "named port " + key);
      }
      m += " -m set --match-set " + it->second + " dst,dst";
    }
    return m;
  }

  void direction(const k8s::NetworkPolicy& p, bool ingress,
                 const std::vector<const Workload*>& targets, Chain& dispatch, IpSet& isolated) {
    std::set<std::string> ips = addresses(targets);
    isolated.members.insert(ips.begin(), ips.end());
    const std::vector<k8s::PolicyRule>& rules = ingress ? p.ingress : p.egress;
    if (rules.empty()) return;  // isolation only: nothing to admit
    const std::string self = ingress ? "dst" : "src", other = ingress ? "src" : "dst";
    std::string target_key = p.ns + " pods{" + p.pod_selector.canonical() + "}";
    auto [cached, fresh] = peer_sets_.try_emplace("local " + target_key);
    if (fresh) cached->second = set("t", target_key, "hash:ip", ips, "local " + target_key);
    const std::string& targets_set = cached->second;
    Chain chain{policy_chain(p, ingress), {}};
    dispatch.rules.push_back("-m set --match-set " + targets_set + " " + self +
                             " -m comment --comment \"" + p.key() + "\" -j " + chain.name);
    const std::string admit =
        " -j MARK --set-xmark " + hex(cfg_.allow_mark) + "/" + hex(cfg_.allow_mark);
    for (size_t r = 0; r < rules.size(); ++r) {
      std::string where = std::string(ingress ? "ingress[" : "egress[") + std::to_string(r) + "]";
      std::vector<std::string> peers, ports;
      for (size_t i = 0; i < rules[r].peers.size(); ++i) {
        std::string m = peer_match(p, rules[r].peers[i], other,
                                   where + (ingress ? ".from[" : ".to[") + std::to_string(i) + "]");
        if (!m.empty()) peers.push_back(m);
      }
      if (rules[r].peers.empty()) peers.push_back("");
      for (const k8s::PolicyPort& port : rules[r].ports) ports.push_back(port_match(port));
      if (rules[r].ports.empty()) ports.push_back("");
      std::string comment = "-m comment --comment \"" + p.key() + " " + where + "\"";
      for (const std::string& pm : peers)
        for (const std::string& qm : ports) {
          std::string rule = pm;
          if (!qm.empty()) rule += (rule.empty() ? "" : " ") + qm;
          chain.rules.push_back(rule + (rule.empty() ? "" : " ") + comment + admit);
        }
    }
    add(std::move(chain));
  }

  const ClusterView& view_;
  const PlannerConfig& cfg_;
  DesiredState out_;
  std::vector<const Workload*> all_, local_;
  std::set<const Workload*> in_isolated_, eg_isolated_;
  std::map<std::string, std::string> set_keys_;
  std::map<std::string, std::string> peer_sets_;  // what a set stands for -> its name
};

}  // namespace

std::string policy_chain(const k8s::NetworkPolicy& policy, bool ingress) {
  return std::string(ingress ? "WEFT-I-" : "WEFT-E-") + short_hash(policy.key());
}

DesiredState plan(const ClusterView& view, const PlannerConfig& config) {
  return Planner(view, config).run();
}

}  // namespace weft::npc
