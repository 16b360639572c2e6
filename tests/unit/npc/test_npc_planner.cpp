// The npc planner and `policy why`, against three truths that must agree on every flow of the
// upstream e2e model (namespaces x, y, z; workloads a, b, c in each; TCP/UDP on 80 and 81, named
// serve-80-tcp etc.; spread over two hosts):
//  - expected matrices of upstream e2e cases (test/e2e/network/netpol), written out by hand;
//  - a naive evaluator of the Kubernetes semantics, written separately from npc/policy_eval;
//  - the kernel: the planner's ipsets and chains for each host, run by a small interpreter
//    (npc_kernel_sim.h) on the packet as it crosses the source's and then the destination's host;
// and `explain` must give the same verdict. Random policies then stress the same equalities. Also:
// golden output, the size bound, and the order-independence property.
#include <doctest/doctest.h>

#include <algorithm>
#include <functional>
#include <random>

#include "k8s/policy_documents.h"
#include "npc/planner.h"
#include "npc/why.h"
#include "tests/unit/support/npc_kernel_sim.h"

using namespace weft;
using namespace weft::npc;
using weft::npc::test::KernelSim;
using weft::npc::test::Packet;

namespace {

const std::vector<std::string> kNs = {"x", "y", "z"}, kPods = {"a", "b", "c"};
const char* const kTap = "weft-tap";

// The e2e model: x/a is 10.32.0.1 ... z/c is 10.32.2.3; hosts alternate h1, h2. Besides the
// serve-* names, "http" is 80/TCP on a's and 81/TCP on b's (a named port resolving per
// destination).
ClusterView model(const std::vector<k8s::NetworkPolicy>& policies = {}) {
  ClusterView v;
  for (size_t i = 0; i < kNs.size(); ++i) {
    v.namespaces.push_back({kNs[i], {{"ns", kNs[i]}, {kNamespaceNameLabel, kNs[i]}}});
    for (size_t j = 0; j < kPods.size(); ++j) {
      Workload w;
      w.ns = kNs[i];
      w.name = kPods[j];
      w.labels = {{"pod", kPods[j]}};
      w.ips = {"10.32." + std::to_string(i) + "." + std::to_string(j + 1)};
      w.host = (i * 3 + j) % 2 ? "h2" : "h1";
      w.veth = "vethwe0000000" + std::to_string(i * 3 + j);
      for (int port : {80, 81})
        for (const char* proto : {"TCP", "UDP"})
          w.ports.push_back({"serve-" + std::to_string(port) + "-" +
                                 (std::string(proto) == "TCP" ? "tcp" : "udp"),
                             port, proto});
      if (j < 2) w.ports.push_back({"http", j == 0 ? 80 : 81, "TCP"});
      v.workloads.push_back(w);
    }
  }
  v.policies = policies;
  return v;
}

std::vector<k8s::NetworkPolicy> policies(const std::string& yaml) {
  return k8s::parse_policy_documents(yaml).policies;
}

// --- the naive evaluator: Kubernetes' rules read straight off the documentation.
bool naive_allowed(const ClusterView& v, const Workload* s, const std::string& sip,
                   const Workload* d, const std::string& dip, int port, const std::string& proto) {
  auto has_type = [](const k8s::NetworkPolicy& p, const std::string& t) {
    if (p.policy_types.empty()) return t == "Ingress" || !p.egress.empty();
    return std::count(p.policy_types.begin(), p.policy_types.end(), t) > 0;
  };
  auto in_block = [](const k8s::IpBlock& b, const std::string& ip) {
    auto a = k8s::parse_ip(ip);
    if (!k8s::parse_ip_cidr(b.cidr)->contains(*a)) return false;
    for (const std::string& e : b.except)
      if (k8s::parse_ip_cidr(e)->contains(*a)) return false;
    return true;
  };
  auto peer_ok = [&](const k8s::PolicyPeer& peer, const std::string& pns, const Workload* w,
                     const std::string& ip) {
    if (peer.ip_block) return in_block(*peer.ip_block, ip);
    if (!w) return false;
    bool ns_ok = peer.namespace_selector
                     ? peer.namespace_selector->matches(v.namespace_labels(w->ns))
                     : w->ns == pns;
    return ns_ok && (!peer.pod_selector || peer.pod_selector->matches(w->labels));
  };
  auto port_ok = [&](const k8s::PolicyPort& pp) {
    if (pp.protocol != proto) return false;
    if (pp.port) return port >= *pp.port && port <= (pp.end_port ? *pp.end_port : *pp.port);
    if (pp.named_port.empty()) return true;
    if (!d) return false;
    for (const NamedPort& np : d->ports)
      if (np.name == pp.named_port && np.protocol == proto && np.port == port) return true;
    return false;
  };
  auto direction_ok = [&](const Workload* self, bool ingress) {
    if (!self) return true;
    bool isolated = false, allowed = false;
    for (const k8s::NetworkPolicy& p : v.policies) {
      if (p.ns != self->ns || !p.pod_selector.matches(self->labels)) continue;
      if (!has_type(p, ingress ? "Ingress" : "Egress")) continue;
      isolated = true;
      for (const k8s::PolicyRule& r : ingress ? p.ingress : p.egress) {
        bool peers = r.peers.empty(), ports = r.ports.empty();
        for (const auto& peer : r.peers)
          peers = peers || (ingress ? peer_ok(peer, p.ns, s, sip) : peer_ok(peer, p.ns, d, dip));
        for (const auto& pp : r.ports) ports = ports || port_ok(pp);
        allowed = allowed || (peers && ports);
      }
    }
    return !isolated || allowed;
  };
  return direction_ok(s, false) && direction_ok(d, true);
}

// --- the kernel: both hosts' planned state, run on the packet.
struct Cluster {
  ClusterView view;
  DesiredState h1, h2;
  explicit Cluster(ClusterView v) : view(std::move(v)) {
    PlannerConfig c;
    c.local_host = "h1";
    h1 = plan(view, c);
    c.local_host = "h2";
    h2 = plan(view, c);
  }
  const DesiredState& host(const std::string& h) const { return h == "h1" ? h1 : h2; }

  bool kernel_allowed(const Workload* s, const std::string& sip, const Workload* d,
                      const std::string& dip, int port, const std::string& proto) const {
    std::string p = proto == "TCP" ? "tcp" : proto == "UDP" ? "udp" : "sctp";
    if (s) {
      Packet pk{sip, dip, p, port, s->veth, d && d->host == s->host ? d->veth : kTap};
      if (!KernelSim(host(s->host)).forward(pk)) return false;
      if (d && d->host == s->host) return true;
    }
    if (d) {
      Packet pk{sip, dip, p, port, kTap, d->veth};
      return KernelSim(host(d->host)).forward(pk);
    }
    return true;
  }

  // Every pair of workloads, ports 80/81, TCP/UDP: the three verdicts agree; returns the
  // allowed flows as "x/a>y/b:80/TCP" for matrix checks.
  std::set<std::string> check_all() const {
    std::set<std::string> allowed;
    for (const Workload& s : view.workloads)
      for (const Workload& d : view.workloads)
        for (int port : {80, 81})
          for (const char* proto : {"TCP", "UDP"}) {
            CAPTURE(s.key());
            CAPTURE(d.key());
            CAPTURE(port);
            CAPTURE(proto);
            bool naive = naive_allowed(view, &s, s.ips[0], &d, d.ips[0], port, proto);
            bool kernel = kernel_allowed(&s, s.ips[0], &d, d.ips[0], port, proto);
            Explanation why = explain(view, s.key(), d.key(), port, proto);
            CHECK(kernel == naive);
            CHECK(why.allowed == naive);
            if (naive)
              allowed.insert(s.key() + ">" + d.key() + ":" + std::to_string(port) + "/" + proto);
          }
    return allowed;
  }
};

// The flows an expectation allows, in check_all's form.
std::set<std::string> expected(
    const std::function<bool(const std::string& s, const std::string& d, int port,
                             const std::string& proto)>& allow) {
  std::set<std::string> out;
  for (const std::string& sn : kNs)
    for (const std::string& sp : kPods)
      for (const std::string& dn : kNs)
        for (const std::string& dp : kPods)
          for (int port : {80, 81})
            for (const char* proto : {"TCP", "UDP"})
              if (allow(sn + "/" + sp, dn + "/" + dp, port, proto))
                out.insert(sn + "/" + sp + ">" + dn + "/" + dp + ":" + std::to_string(port) + "/" +
                           proto);
  return out;
}

std::string np(const std::string& ns, const std::string& name, const std::string& spec) {
  return "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: " + name +
         ", namespace: \"" + ns + "\"}\nspec: " + spec + "\n";
}

bool in_ns(const std::string& key, const std::string& ns) {
  return key.rfind(ns + "/", 0) == 0;
}

}  // namespace

TEST_CASE("no policy: everything is allowed") {
  Cluster c(model());
  CHECK(c.check_all() == expected([](auto&, auto&, int, auto&) { return true; }));
}

TEST_CASE("upstream e2e: default-deny-ingress, default-deny-egress, default-deny-all") {
  Cluster in(model(policies(np("x", "deny", "{podSelector: {}, policyTypes: [Ingress]}"))));
  CHECK(in.check_all() == expected([](auto&, auto& d, int, auto&) { return !in_ns(d, "x"); }));
  Cluster out(model(policies(np("x", "deny", "{podSelector: {}, policyTypes: [Egress]}"))));
  CHECK(out.check_all() == expected([](auto& s, auto&, int, auto&) { return !in_ns(s, "x"); }));
  Cluster all(
      model(policies(np("x", "deny", "{podSelector: {}, policyTypes: [Ingress, Egress]}"))));
  CHECK(all.check_all() ==
        expected([](auto& s, auto& d, int, auto&) { return !in_ns(s, "x") && !in_ns(d, "x"); }));
}

TEST_CASE("upstream e2e: pod and namespace selectors, their AND and OR forms, matchExpressions") {
  // Ingress to x/a from pods b of its own namespace only.
  Cluster pod(model(policies(np("x", "p",
                                "{podSelector: {matchLabels: {pod: a}}, ingress: [{from: "
                                "[{podSelector: {matchLabels: {pod: b}}}]}]}"))));
  CHECK(pod.check_all() ==
        expected([](auto& s, auto& d, int, auto&) { return d != "x/a" || s == "x/b"; }));
  // From every pod of namespace y (namespaceSelector alone).
  Cluster ns(model(policies(np("x", "p",
                               "{podSelector: {matchLabels: {pod: a}}, ingress: [{from: "
                               "[{namespaceSelector: {matchLabels: {ns: \"y\"}}}]}]}"))));
  CHECK(ns.check_all() ==
        expected([](auto& s, auto& d, int, auto&) { return d != "x/a" || in_ns(s, "y"); }));
  // AND: pods b in namespace y.
  Cluster both(model(policies(np(
      "x", "p",
      "{podSelector: {matchLabels: {pod: a}}, ingress: [{from: [{namespaceSelector: {matchLabels: "
      "{ns: \"y\"}}, podSelector: {matchLabels: {pod: b}}}]}]}"))));
  CHECK(both.check_all() ==
        expected([](auto& s, auto& d, int, auto&) { return d != "x/a" || s == "y/b"; }));
  // OR: namespace y, or pods b of x.
  Cluster either(model(policies(np(
      "x", "p",
      "{podSelector: {matchLabels: {pod: a}}, ingress: [{from: [{namespaceSelector: {matchLabels: "
      "{ns: \"y\"}}}, {podSelector: {matchLabels: {pod: b}}}]}]}"))));
  CHECK(either.check_all() == expected([](auto& s, auto& d, int, auto&) {
          return d != "x/a" || in_ns(s, "y") || s == "x/b";
        }));
  // matchExpressions: namespaces NotIn (x, y) by the implicit metadata.name label.
  Cluster expr(model(policies(
      np("x", "p",
         "{podSelector: {matchExpressions: [{key: pod, operator: In, values: [a, c]}]}, ingress: "
         "[{from: [{namespaceSelector: {matchExpressions: [{key: kubernetes.io/metadata.name, "
         "operator: NotIn, values: [x, \"y\"]}]}}]}]}"))));
  CHECK(expr.check_all() == expected([](auto& s, auto& d, int, auto&) {
          return !(d == "x/a" || d == "x/c") || in_ns(s, "z");
        }));
}

TEST_CASE("upstream e2e: ports by number, by name, endPort, protocol") {
  // Named port for ingress: serve-81-udp opens UDP 81 only.
  Cluster named(model(policies(np("x", "p",
                                  "{podSelector: {}, ingress: [{ports: [{port: serve-81-udp, "
                                  "protocol: UDP}]}]}"))));
  CHECK(named.check_all() == expected([](auto&, auto& d, int port, auto& proto) {
          return !in_ns(d, "x") || (port == 81 && proto == "UDP");
        }));
  // A UDP-only policy does not open TCP; an endPort range covers both ports.
  Cluster range(model(policies(np("y", "p",
                                  "{podSelector: {}, ingress: [{ports: [{protocol: UDP, "
                                  "port: 80, endPort: 81}]}]}"))));
  CHECK(range.check_all() == expected([](auto&, auto& d, int, auto& proto) {
          return !in_ns(d, "y") || proto == "UDP";
        }));
  // Named port for egress resolves per destination: "http" is 80 on a's, 81 on b's, absent on c's.
  Cluster egress(model(policies(np("x", "p",
                                   "{podSelector: {matchLabels: {pod: a}}, policyTypes: "
                                   "[Egress], egress: [{ports: [{port: http}]}]}"))));
  CHECK(egress.check_all() == expected([](auto& s, auto& d, int port, auto& proto) {
          if (s != "x/a") return true;
          if (proto != "TCP") return false;
          return (d.back() == 'a' && port == 80) || (d.back() == 'b' && port == 81);
        }));
}

TEST_CASE("upstream e2e: ipBlock with except, stacked policies, allow-all precedence") {
  // Egress from x/a to 10.32.1.0/24 (namespace y) except y/b.
  Cluster block(model(
      policies(np("x", "p",
                  "{podSelector: {matchLabels: {pod: a}}, policyTypes: [Egress], egress: [{to: "
                  "[{ipBlock: {cidr: 10.32.1.0/24, except: [10.32.1.2/32]}}]}]}"))));
  CHECK(block.check_all() == expected([](auto& s, auto& d, int, auto&) {
          return s != "x/a" || (in_ns(d, "y") && d != "y/b");
        }));
  // Deny-all egress stacked with an allow-all egress: the union allows everything.
  Cluster stacked(
      model(policies(np("x", "deny", "{podSelector: {}, policyTypes: [Egress]}") +
                     np("x", "all", "{podSelector: {}, policyTypes: [Egress], egress: [{}]}"))));
  CHECK(stacked.check_all() == expected([](auto&, auto&, int, auto&) { return true; }));
  // Without policyTypes, an egress rule also makes the policy an Ingress one (inferred): the
  // same allow-all then denies all ingress to x.
  Cluster inferred(model(policies(np("x", "all", "{podSelector: {}, egress: [{}]}"))));
  CHECK(inferred.check_all() ==
        expected([](auto&, auto& d, int, auto&) { return !in_ns(d, "x"); }));
  // Ingress allow from z, plus a second policy allowing 81 from anywhere: union.
  Cluster two(model(policies(
      np("x", "fromz",
         "{podSelector: {}, ingress: [{from: [{namespaceSelector: {matchLabels: {ns: z}}}]}]}") +
      np("x", "port81", "{podSelector: {}, ingress: [{ports: [{port: 81}]}]}"))));
  CHECK(two.check_all() == expected([](auto& s, auto& d, int port, auto& proto) {
          return !in_ns(d, "x") || in_ns(s, "z") || (port == 81 && proto == "TCP");
        }));
}

TEST_CASE("ipBlock peers and non-workload ends: why and the kernel agree") {
  Cluster c(
      model(policies(np("x", "p",
                        "{podSelector: {matchLabels: {pod: a}}, ingress: [{from: [{ipBlock: "
                        "{cidr: 192.168.0.0/16, except: [192.168.1.0/24]}}]}], egress: [{to: "
                        "[{ipBlock: {cidr: 0.0.0.0/0}}], ports: [{port: 53, protocol: UDP}]}]}"))));
  const Workload* xa = c.view.find_workload("x", "a");
  for (const char* ext : {"192.168.2.7", "192.168.1.7", "8.8.8.8"}) {
    for (int port : {53, 80}) {
      for (const char* proto : {"TCP", "UDP"}) {
        bool in_naive = naive_allowed(c.view, nullptr, ext, xa, xa->ips[0], port, proto);
        CHECK(c.kernel_allowed(nullptr, ext, xa, xa->ips[0], port, proto) == in_naive);
        CHECK(explain(c.view, ext, "x/a", port, proto).allowed == in_naive);
        bool out_naive = naive_allowed(c.view, xa, xa->ips[0], nullptr, ext, port, proto);
        CHECK(c.kernel_allowed(xa, xa->ips[0], nullptr, ext, port, proto) == out_naive);
        CHECK(explain(c.view, "x/a", ext, port, proto).allowed == out_naive);
      }
    }
  }
  CHECK(explain(c.view, "192.168.2.7", "x/a", 80, "TCP").allowed);
  CHECK_FALSE(explain(c.view, "192.168.1.7", "x/a", 80, "TCP").allowed);
  CHECK(explain(c.view, "x/a", "8.8.8.8", 53, "UDP").allowed);
  CHECK_FALSE(explain(c.view, "x/a", "8.8.8.8", 80, "TCP").allowed);
  c.check_all();
}

TEST_CASE("why explains which policies select each side and which rule admits the flow") {
  ClusterView v = model(policies(np("x", "deny", "{podSelector: {}, policyTypes: [Ingress]}") +
                                 np("x", "web",
                                    "{podSelector: {matchLabels: {pod: a}}, ingress: [{from: "
                                    "[{namespaceSelector: {matchLabels: {ns: \"y\"}}}], ports: "
                                    "[{port: serve-80-tcp}]}]}")));
  Explanation ok = explain(v, "y/b", "x/a", 80, "TCP");
  CHECK(ok.allowed);
  CHECK(ok.text ==
        "y/b (10.32.1.2) -> x/a (10.32.0.1) TCP/80: allowed\n"
        "  egress from y/b (10.32.1.2): allowed, not isolated (no policy with Egress selects it)\n"
        "  ingress to x/a (10.32.0.1): isolated by x/deny, x/web; allowed by x/web "
        "ingress[0].from[0].ports[0]\n");
  Explanation no = explain(v, "10.32.2.1", "x/b", 80, "TCP");
  CHECK_FALSE(no.allowed);
  CHECK(no.text ==
        "z/a (10.32.2.1) -> x/b (10.32.0.2) TCP/80: denied\n"
        "  egress from z/a (10.32.2.1): allowed, not isolated (no policy with Egress "
        "selects it)\n"
        "  ingress to x/b (10.32.0.2): isolated by x/deny; denied: no rule admits it\n");
  CHECK_THROWS_AS(explain(v, "x/nope", "x/a", 80, "TCP"), std::invalid_argument);
  CHECK_THROWS_AS(explain(v, "x/a", "x/b", 80, "ICMP"), std::invalid_argument);
}

TEST_CASE("golden: the planner's output for one policy on h1") {
  ClusterView v = model(policies(np("x", "web",
                                    "{podSelector: {matchLabels: {pod: a}}, ingress: [{from: "
                                    "[{podSelector: {matchLabels: {pod: b}}}], ports: [{port: "
                                    "80}, {port: serve-81-udp, protocol: UDP}]}]}")));
  PlannerConfig cfg;
  cfg.local_host = "h1";
  DesiredState s = plan(v, cfg);
  std::string chain = policy_chain(v.policies[0], true);
  std::string peers = "weft-p-" + short_hash("p|namespace x pods{pod=b}");
  std::string named = "weft-n-" + short_hash("n|serve-81-udp/UDP");
  std::string targets = "weft-t-" + short_hash("t|x pods{pod=a}");
  CHECK(s.chains.at(chain).rules ==
        std::vector<std::string>{
            "-m set --match-set " + peers +
                " src -p tcp --dport 80 -m comment --comment \"x/web "
                "ingress[0]\" -j MARK --set-xmark 0x20000/0x20000",
            "-m set --match-set " + peers + " src -p udp -m set --match-set " + named +
                " dst,dst -m comment --comment \"x/web ingress[0]\" -j MARK --set-xmark "
                "0x20000/0x20000"});
  CHECK(s.chains.at(kIngressChain).rules ==
        std::vector<std::string>{
            "-j MARK --set-xmark 0x0/0x20000",
            "-m set --match-set " + targets + " dst -m comment --comment \"x/web\" -j " + chain,
            "-m mark --mark 0x20000/0x20000 -j RETURN",
            "-m set --match-set weft-ingress-iso dst -j WEFT-DENY-INGRESS"});
  CHECK(s.sets.at(peers).members == std::set<std::string>{"10.32.0.2"});
  CHECK(s.sets.at(targets).members == std::set<std::string>{"10.32.0.1"});
  CHECK(s.sets.at(named).members.count("10.32.0.1,udp:81"));
  CHECK(s.sets.at(kIngressIsolatedSet).members == std::set<std::string>{"10.32.0.1"});
  const std::vector<std::string>& from = s.chains.at(kFromPortChain).rules;
  CHECK(from.front() == "-s 10.32.0.1/32 -m physdev --physdev-in vethwe00000000 -j RETURN");
  CHECK(from.back() == "-j WEFT-DENY-PORT");
  CHECK(from.size() == 5 + 1);  // x/a, x/c, y/b, z/a, z/c live on h1
  CHECK(s.chains.at(kToPortChain).rules.front() ==
        "-d 10.32.0.1/32 -m physdev --physdev-out vethwe00000000 -j RETURN");
  CHECK(s.chains.at(kDenyIngressChain).rules ==
        std::vector<std::string>{"-m limit --limit 20/sec --limit-burst 40 -j NFLOG --nflog-prefix "
                                 "\"weft-deny ingress\" --nflog-group 86",
                                 "-j DROP"});
  CHECK(s.hooks == std::vector<std::string>{"FORWARD -o weft -j WEFT-FORWARD",
                                            "FORWARD -i weft ! -o weft -j WEFT-FORWARD"});
  // IPv6: x/a is isolated for ingress, so nothing IPv6 reaches its port; it may send.
  CHECK(s.chains6.at(kToPortChain).rules ==
        std::vector<std::string>{"-m physdev --physdev-out vethwe00000002 -j RETURN",
                                 "-m physdev --physdev-out vethwe00000004 -j RETURN",
                                 "-m physdev --physdev-out vethwe00000006 -j RETURN",
                                 "-m physdev --physdev-out vethwe00000008 -j RETURN", "-j DROP"});
  CHECK(s.chains6.at(kFromPortChain).rules.size() == 5 + 1);
  CHECK(s.hooks6 == s.hooks);
  for (const auto& [name, set] : s.sets) CHECK(name.size() <= kMaxSetName);
  for (const auto& [name, c] : s.chains) CHECK(name.size() <= kMaxChainName);
  // Nothing for h2's view of it: x/a lives on h1.
  cfg.local_host = "h2";
  CHECK_FALSE(plan(v, cfg).chains.count(chain));
}

TEST_CASE("an unprogrammed workload on a workload port gets nothing; its own traffic once known") {
  Cluster c(model());
  Packet from_new{"10.32.9.9", "10.32.0.1", "tcp", 80, "vethwe99999999", "vethwe00000000"};
  CHECK_FALSE(KernelSim(c.h1).forward(from_new));
  Packet to_new{"10.32.0.1", "10.32.9.9", "tcp", 80, "vethwe00000000", "vethwe99999999"};
  CHECK_FALSE(KernelSim(c.h1).forward(to_new));
  Packet spoofed{"10.32.0.3", "10.32.0.5", "tcp", 80, "vethwe00000000", kTap};  // x/a as x/c
  CHECK_FALSE(KernelSim(c.h1).forward(spoofed));
  Packet own{"10.32.0.1", "10.32.0.5", "tcp", 80, "vethwe00000000", kTap};
  CHECK(KernelSim(c.h1).forward(own));
}

TEST_CASE("rules grow with policies plus workloads, not with their product") {
  auto rule_count = [](int workloads, int npolicies) {
    ClusterView v;
    for (int i = 0; i < workloads; ++i) {
      Workload w;
      w.ns = "n";
      w.name = "w" + std::to_string(i);
      w.labels = {{"app", "a" + std::to_string(i % 10)}};
      w.ips = {"10.33." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1)};
      w.host = "h1";
      w.veth = "vethwe" + std::to_string(10000000 + i);
      v.workloads.push_back(w);
    }
    std::string yaml;
    for (int i = 0; i < npolicies; ++i)
      yaml += np("n", "p" + std::to_string(i),
                 "{podSelector: {}, ingress: [{from: [{podSelector: {matchLabels: {app: a" +
                     std::to_string(i % 10) + "}}}]}]}");
    v.policies = policies(yaml);
    PlannerConfig cfg;
    cfg.local_host = "h1";
    size_t rules = 0;
    for (const auto& [n, c] : plan(v, cfg).chains) rules += c.rules.size();
    return rules;
  };
  // Workloads add two port rules each, whatever the number of policies...
  size_t per_990_workloads = rule_count(1000, 10) - rule_count(10, 10);
  CHECK(per_990_workloads == 2 * 990);
  CHECK(rule_count(1000, 100) - rule_count(10, 100) == per_990_workloads);
  // ...and policies add their own rules, whatever the number of workloads.
  CHECK(rule_count(1000, 100) - rule_count(1000, 10) == rule_count(10, 100) - rule_count(10, 10));
  CHECK(rule_count(10, 100) - rule_count(10, 10) <= 90 * 4);
}

TEST_CASE("the plan depends on the cluster state only, not on the order events came in") {
  std::mt19937 rng(7);
  std::vector<k8s::NetworkPolicy> pols = policies(
      np("x", "a", "{podSelector: {}, policyTypes: [Ingress, Egress]}") +
      np("x", "b",
         "{podSelector: {matchLabels: {pod: a}}, ingress: [{from: [{namespaceSelector: {}}]}]}") +
      np("y", "c",
         "{podSelector: {}, egress: [{to: [{podSelector: {matchLabels: {pod: b}}}], ports: "
         "[{port: serve-80-tcp}]}]}") +
      np("z", "d",
         "{podSelector: {matchExpressions: [{key: pod, operator: NotIn, values: [c]}]}, "
         "ingress: [{from: [{ipBlock: {cidr: 10.32.0.0/16, except: [10.32.1.0/24]}}]}]}"));
  ClusterView full = model(pols);
  PlannerConfig cfg;
  cfg.local_host = "h1";
  DesiredState reference = plan(full, cfg);
  for (int round = 0; round < 50; ++round) {
    // Events: every final object, plus decoys created and later deleted, and stale versions
    // overwritten later; in a random order that keeps each object's own history in order.
    std::vector<std::vector<std::function<void(ClusterModel&)>>> histories;
    for (const Workload& w : full.workloads) {
      Workload stale = w;
      stale.labels = {{"pod", "zz"}};
      histories.push_back({[stale](ClusterModel& m) { m.upsert_workload(stale); },
                           [w](ClusterModel& m) { m.upsert_workload(w); }});
    }
    for (const Namespace& n : full.namespaces)
      histories.push_back({[n](ClusterModel& m) { m.upsert_namespace(n); }});
    for (const k8s::NetworkPolicy& p : full.policies)
      histories.push_back({[p](ClusterModel& m) { m.upsert_policy(p); }});
    Workload decoy = full.workloads[0];
    decoy.name = "decoy";
    decoy.ips = {"10.32.5.5"};
    histories.push_back({[decoy](ClusterModel& m) { m.upsert_workload(decoy); },
                         [](ClusterModel& m) { m.remove_workload("x", "decoy"); }});
    k8s::NetworkPolicy dp = full.policies[0];
    dp.name = "decoy";
    histories.push_back({[dp](ClusterModel& m) { m.upsert_policy(dp); },
                         [](ClusterModel& m) { m.remove_policy("x", "decoy"); }});
    std::vector<size_t> next(histories.size(), 0), order;
    for (size_t i = 0; i < histories.size(); ++i)
      for (size_t k = 0; k < histories[i].size(); ++k) order.push_back(i);
    std::shuffle(order.begin(), order.end(), rng);
    ClusterModel m;
    for (size_t i : order) histories[i][next[i]++](m);
    CHECK(plan(m.view(), cfg) == reference);
    // And the view's own order does not matter either.
    ClusterView shuffled = full;
    std::shuffle(shuffled.workloads.begin(), shuffled.workloads.end(), rng);
    std::shuffle(shuffled.policies.begin(), shuffled.policies.end(), rng);
    std::shuffle(shuffled.namespaces.begin(), shuffled.namespaces.end(), rng);
    CHECK(plan(shuffled, cfg) == reference);
  }
}

TEST_CASE("random policies: the kernel, why and the naive evaluator agree on every flow") {
  std::mt19937 rng(1234);
  auto pick = [&](std::initializer_list<const char*> l) {
    return std::string(l.begin()[rng() % l.size()]);
  };
  auto selector = [&]() {
    switch (rng() % 4) {
      case 0:
        return std::string("{}");
      case 1:
        return "{matchLabels: {pod: " + pick({"a", "b", "c"}) + "}}";
      case 2:
        return "{matchExpressions: [{key: pod, operator: " + pick({"In", "NotIn"}) + ", values: [" +
               pick({"a", "b", "c"}) + "]}]}";
      default:
        return "{matchExpressions: [{key: pod, operator: " + pick({"Exists", "DoesNotExist"}) +
               "}]}";
    }
  };
  auto ns_selector = [&]() {
    return rng() % 2 ? std::string("{}") : "{matchLabels: {ns: \"" + pick({"x", "y", "z"}) + "\"}}";
  };
  auto peer = [&]() {
    switch (rng() % 4) {
      case 0:
        return "{podSelector: " + selector() + "}";
      case 1:
        return "{namespaceSelector: " + ns_selector() + "}";
      case 2:
        return "{podSelector: " + selector() + ", namespaceSelector: " + ns_selector() + "}";
      default: {
        std::string net = "10.32." + pick({"0", "1"});
        return "{ipBlock: {cidr: " + net + ".0/24, except: [" + net + "." + pick({"1", "2"}) +
               "/32]}}";
      }
    }
  };
  auto port = [&]() {
    switch (rng() % 5) {
      case 0:
        return std::string("{}");
      case 1:
        return "{port: " + pick({"80", "81"}) + ", protocol: " + pick({"TCP", "UDP"}) + "}";
      case 2:
        return "{port: 80, endPort: 81, protocol: " + pick({"TCP", "UDP"}) + "}";
      case 3:
        return std::string("{port: http}");
      default:
        return "{port: " + pick({"serve-80-udp", "serve-81-tcp"}) +
               ", protocol: " + pick({"TCP", "UDP"}) + "}";
    }
  };
  auto rules = [&](const char* peers_field) {
    std::string out = "[";
    for (int r = int(rng() % 3); r > 0; --r) {
      out += "{";
      if (rng() % 3) {
        out += std::string(peers_field) + ": [";
        for (int i = 1 + int(rng() % 2); i > 0; --i) out += peer() + (i > 1 ? ", " : "");
        out += "], ";
      }
      if (rng() % 2) {
        out += "ports: [";
        for (int i = 1 + int(rng() % 2); i > 0; --i) out += port() + (i > 1 ? ", " : "");
        out += "]";
      }
      out += "}" + std::string(r > 1 ? ", " : "");
    }
    return out + "]";
  };
  size_t allowed = 0, total = 0;
  for (int round = 0; round < 40; ++round) {
    std::string yaml;
    for (int i = int(1 + rng() % 3); i > 0; --i) {
      std::string types = pick({"", "policyTypes: [Ingress], ", "policyTypes: [Egress], ",
                                "policyTypes: [Ingress, Egress], "});
      yaml += np(pick({"x", "y", "z"}), "p" + std::to_string(i),
                 "{" + types + "podSelector: " + selector() + ", ingress: " + rules("from") +
                     ", egress: " + rules("to") + "}");
    }
    CAPTURE(yaml);
    Cluster c(model(policies(yaml)));
    std::set<std::string> ok = c.check_all();
    allowed += ok.size();
    total += 9 * 9 * 4;
  }
  // Both verdicts are well represented.
  CHECK(allowed > total / 5);
  CHECK(allowed < total * 4 / 5);
}
