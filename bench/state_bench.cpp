// Cluster-state benchmark (issue 8): how long 5,000 workloads and 1,000 NetworkPolicies take to
// reach every one of 200 simulated routers, and what it costs each (bytes received); and how
// long applying a 1,000-policy file takes (parse + validate + one saved write, as the router
// does it, less the fsync). Prints a table; not a test.
//
//   build/bench/weft_bench_state [--peers=200] [--workloads=5000] [--policies=1000] [--seed=1]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "bench_report.h"
#include "k8s/network_policy.h"
#include "k8s/policy_documents.h"
#include "state/state_core.h"
#include "state/state_file.h"
#include "tests/sim/lib/sim_network.h"

using namespace weft;
using namespace weft::state;
using namespace weft::sim;
using nlohmann::json;
using namespace weft::bench;

namespace {

struct FileLikeStore : StateStore {
  size_t bytes = 0;
  void save(const ObjectTable& t, uint64_t hlc, uint64_t rev) override {
    bytes = state_file_json(t, hlc, rev).size();  // what the router writes (without the fsync)
  }
};
struct Quiet : StateEvents {
  void on_change(const Change&) override {}
  void log(LogLevel, const std::string&) override {}
};

std::string policy_yaml(int i) {
  return "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: p" +
         std::to_string(i) + "\n  namespace: ns" + std::to_string(i % 20) +
         "\nspec:\n  podSelector:\n    matchLabels: {app: a" + std::to_string(i % 50) +
         "}\n  ingress:\n  - from:\n    - namespaceSelector:\n        matchLabels: {team: t" +
         std::to_string(i % 7) +
         "}\n      podSelector:\n        matchExpressions:\n        - {key: "
         "tier, operator: In, values: [front, back]}\n    ports:\n    - {protocol: TCP, port: "
         "http}\n"
         "    - {protocol: UDP, port: 5000, endPort: 5100}\n  egress:\n  - to:\n    - ipBlock: "
         "{cidr: "
         "10.0.0.0/8, except: [10.1.0.0/16]}\n";
}

std::string workload_json(PeerName host, int i) {
  return json{{"id", "w" + std::to_string(i)},
              {"host", format_peer_name(host)},
              {"netns", "w" + std::to_string(i)},
              {"name", "w" + std::to_string(i)},
              {"namespace", "ns" + std::to_string(i % 20)},
              {"labels", {{"app", "a" + std::to_string(i % 50)}, {"tier", "front"}}},
              {"ports", json::array({{{"name", "http"}, {"port", 8080}, {"protocol", "TCP"}}})},
              {"mac", "aa:bb:cc:00:00:01"},
              {"ips", {"10.32.0.1/12"}},
              {"veth", "vethwe00000001"}}
      .dump();
}

}  // namespace

int main(int argc, char** argv) {
  int peers = 200, workloads = 5000, policies = 1000;
  uint64_t seed = 1;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto val = [&](const char* k) { return a.rfind(k, 0) == 0 ? a.substr(std::strlen(k)) : ""; };
    if (auto v = val("--peers="); !v.empty()) peers = std::stoi(v);
    if (auto v = val("--workloads="); !v.empty()) workloads = std::stoi(v);
    if (auto v = val("--policies="); !v.empty()) policies = std::stoi(v);
    if (auto v = val("--seed="); !v.empty()) seed = std::stoull(v);
  }

  // --- apply time of a policy file
  std::string text;
  for (int i = 0; i < policies; ++i) text += (i ? "---\n" : "") + policy_yaml(i);
  auto t0 = std::chrono::steady_clock::now();
  k8s::PolicyDocuments docs = k8s::parse_policy_documents(text);
  double parse_s = secs_since(t0);
  std::vector<StateCore::Write> writes;
  for (const auto& p : docs.policies)
    writes.push_back({Kind::kPolicy, p.key(), k8s::to_json(p).dump()});
  SimOptions o;
  o.seed = seed;
  SimNetwork one(o);
  one.add_peer({});
  FileLikeStore store1;
  Quiet quiet;
  StateConfig c1;
  c1.self = one.name(0);
  StateCore core1(c1, one.core(0), one.core(0), store1, quiet);
  auto t1 = std::chrono::steady_clock::now();
  core1.write(writes, 0);
  double write_s = secs_since(t1);
  std::printf(
      "apply of a %d-policy file (%s of YAML): parse+validate %.3f s, write+save %.3f s "
      "(state file %s)\n",
      policies, human_bytes(double(text.size())).c_str(), parse_s, write_s,
      human_bytes(double(store1.bytes)).c_str());

  // --- propagation among simulated routers
  SimNetwork net(o);
  std::vector<std::unique_ptr<FileLikeStore>> stores;
  std::vector<std::unique_ptr<StateCore>> cores;
  std::mt19937_64 rng(seed);
  for (int i = 0; i < peers; ++i) {
    std::vector<int> t;
    for (int k = 0; k < std::min(i, 3); ++k) t.push_back(static_cast<int>(rng() % i));
    int idx = net.add_peer(t);
    stores.push_back(std::make_unique<FileLikeStore>());
    StateConfig c;
    c.self = net.name(idx);
    c.started_unix_ms = 1'700'000'000'000;
    cores.push_back(
        std::make_unique<StateCore>(c, net.core(idx), net.core(idx), *stores.back(), quiet));
    net.core(idx).register_channel(StateCore::kChannel, cores.back().get());
  }
  if (!net.run_until([&] { return net.views_agree_on_members(); }, 120'000, 200)) {
    std::printf("the mesh did not converge\n");
    return 1;
  }
  auto converged = [&] {
    for (auto& c : cores)
      if (c->table().root() != cores[0]->table().root()) return false;
    return true;
  };
  auto phase = [&](const char* what, const std::function<void()>& write_all) {
    uint64_t b0 = net.bytes_delivered(), m0 = net.messages_delivered();
    int64_t v0 = net.now();
    auto w0 = std::chrono::steady_clock::now();
    double cpu0 = cpu_secs();
    write_all();
    bool ok = net.run_until(converged, 600'000, 50);
    std::printf(
        "%-40s %s in %6lld virtual ms; %s and %.0f messages per peer; %.1f s wall, %.1f s CPU\n",
        what, ok ? "converged" : "NOT converged", static_cast<long long>(net.now() - v0),
        human_bytes(double(net.bytes_delivered() - b0) / peers).c_str(),
        double(net.messages_delivered() - m0) / peers, secs_since(w0), cpu_secs() - cpu0);
  };
  phase("workloads (each host writes its own)", [&] {
    for (int i = 0; i < workloads; ++i) {
      int h = i % peers;
      cores[h]->write({{Kind::kWorkload, workload_key(net.name(h), "w" + std::to_string(i)),
                        workload_json(net.name(h), i)}},
                      net.now());
      if (i % peers == peers - 1) net.run_for(5);
    }
  });
  phase("policies, one apply of the whole file", [&] { cores[0]->write(writes, net.now()); });
  phase("one policy changed", [&] {
    cores[peers / 2]->write({{Kind::kPolicy, "ns1/p1", "{\"changed\":1}"}}, net.now());
  });
  std::printf("state file per router: %s\n", human_bytes(double(stores[0]->bytes)).c_str());
  return 0;
}
