// weft-npc's sans-I/O cost at scale: plan() and diff() for 100, 1,000 and 10,000 policies over
// 5,000 workloads on two hosts (no kernel: the diff is against an empty one, i.e. the first
// programming). The shapes: a pod selector with a named port, and peers by pod selector or by
// namespace selector. Run: build/bench/weft_bench_npc_plan [POLICIES...]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "k8s/network_policy.h"
#include "npc/diff.h"
#include "npc/kernel_state.h"
#include "npc/planner.h"

using namespace weft::npc;

namespace {

ClusterView cluster(int policies, int workloads) {
  ClusterView v;
  for (int i = 0; i < workloads; ++i) {
    Workload w;
    w.ns = "ns" + std::to_string(i % 50);
    w.name = "w" + std::to_string(i);
    w.labels = {{"app", "app" + std::to_string(i % 100)}, {"tier", i % 2 ? "web" : "db"}};
    w.ips = {"10." + std::to_string(32 + i / 65536) + "." + std::to_string((i / 256) % 256) + "." +
             std::to_string(i % 256)};
    w.host = i % 2 ? "h1" : "h2";
    w.veth = "vethwe" + std::to_string(10000000 + i);
    w.ports = {{"http", i % 3 ? 80 : 8080, "TCP"}};
    v.workloads.push_back(w);
  }
  for (int i = 0; i < 50; ++i)
    v.namespaces.push_back(
        {"ns" + std::to_string(i),
         {{kNamespaceNameLabel, "ns" + std::to_string(i)}, {"team", "t" + std::to_string(i % 5)}}});
  for (int i = 0; i < policies; ++i) {
    std::string n = std::to_string(i);
    v.policies.push_back(weft::k8s::network_policy_from_json(nlohmann::json::parse(
        R"({"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"p)" + n +
        R"(","namespace":"ns)" + std::to_string(i % 50) +
        R"("},"spec":{"podSelector":{"matchLabels":{"app":"app)" + std::to_string(i % 100) +
        R"("}},"ingress":[{"from":[{"podSelector":{"matchLabels":{"tier":"web"}}},)"
        R"({"namespaceSelector":{"matchLabels":{"team":"t)" +
        std::to_string(i % 5) + R"("}}}],"ports":[{"port":"http"}]}]}})")));
  }
  return v;
}

double ms(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> sizes;
  for (int i = 1; i < argc; ++i) sizes.push_back(std::atoi(argv[i]));
  if (sizes.empty()) sizes = {100, 1000, 10000};
  std::printf(
      "| policies | plan (ms) | diff vs empty kernel (ms) | chains | rules | sets | restore bytes "
      "|\n"
      "|---:|---:|---:|---:|---:|---:|---:|\n");
  for (int n : sizes) {
    ClusterView v = cluster(n, 5000);
    PlannerConfig cfg;
    cfg.local_host = "h1";
    auto t0 = std::chrono::steady_clock::now();
    DesiredState d = plan(v, cfg);
    auto t1 = std::chrono::steady_clock::now();
    ApplyPlan p = diff(d, KernelState{});
    auto t2 = std::chrono::steady_clock::now();
    size_t rules = 0;
    for (const auto& [name, c] : d.chains) rules += c.rules.size();
    std::printf("| %d | %.0f | %.0f | %zu | %zu | %zu | %zu |\n", n, ms(t1 - t0), ms(t2 - t1),
                d.chains.size(), rules, d.sets.size(),
                p.iptables_restore.size() + p.ipset_restore.size());
  }
}
