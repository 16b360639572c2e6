// Test helper for tests/integration/test_npc_enforce.sh (not weft-npc itself): plans a cluster
// snapshot for one host and reconciles the kernel of the network namespace it runs in.
//
//   weft_npc_apply_tool apply STATE.json HOST     prints what changed, or "unchanged"
//   weft_npc_apply_tool teardown                  removes every weft chain, hook and set
//   weft_npc_apply_tool log STATE.json SECONDS    prints blocked-flow lines from NFLOG group 86
//   weft_npc_apply_tool why STATE.json SRC DST PORT/PROTO
#include <poll.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>

#include "npc/blocked_flows.h"
#include "npc/cluster_view_json.h"
#include "npc/os/kernel_io.h"
#include "npc/os/nflog_reader.h"
#include "npc/planner.h"
#include "npc/why.h"

using namespace weft::npc;

namespace {

ClusterSnapshot load(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  ClusterSnapshot s = parse_cluster_snapshot(nlohmann::json::parse(ss.str()));
  for (const std::string& p : s.problems) std::cerr << "problem: " << p << "\n";
  return s;
}

void list(const char* what, const std::vector<std::string>& v) {
  if (v.empty()) return;
  std::cout << what << ":";
  for (const std::string& s : v) std::cout << " " << s;
  std::cout << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> a(argv + 1, argv + argc);
  try {
    if (a.size() == 3 && a[0] == "apply") {
      PlannerConfig cfg;
      cfg.local_host = a[2];
      DesiredState d = plan(load(a[1]).view, cfg);
      for (const std::string& p : d.problems) std::cerr << "problem: " << p << "\n";
      ReconcileResult r = reconcile(d);
      if (r.plan.empty()) std::cout << "unchanged\n";
      list("chains written", r.plan.chains_written);
      list("chains removed", r.plan.chains_removed);
      list("hooks added", r.plan.hooks_added);
      list("sets created", r.plan.sets_created);
      list("sets swapped", r.plan.sets_swapped);
      list("sets removed", r.plan.sets_removed);
      return 0;
    }
    if (a.size() == 1 && a[0] == "teardown") {
      remove_all();
      return 0;
    }
    if (a.size() == 3 && a[0] == "log") {
      ClusterView view = load(a[1]).view;
      NflogReader reader(86);
      BlockedFlowLog log;
      std::cout << "listening" << std::endl;
      auto end = std::chrono::steady_clock::now() + std::chrono::seconds(std::stoi(a[2]));
      while (std::chrono::steady_clock::now() < end) {
        pollfd p{reader.fd(), POLLIN, 0};
        poll(&p, 1, 100);
        reader.read_pending([&](std::string_view prefix, const uint8_t* pkt, size_t n) {
          if (auto b = parse_blocked_packet(prefix, pkt, n)) {
            auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::steady_clock::now().time_since_epoch());
            if (auto line = log.on_packet(*b, view, now.count())) std::cout << *line << std::endl;
          }
        });
      }
      return 0;
    }
    if (a.size() == 5 && a[0] == "why") {
      std::string pp = a[4];
      Explanation x =
          explain(load(a[1]).view, a[2], a[3], std::stoi(pp), pp.substr(pp.find('/') + 1));
      std::cout << x.text;
      return x.allowed ? 0 : 3;
    }
  } catch (const std::exception& e) {
    std::cerr << "weft_npc_apply_tool: " << e.what() << "\n";
    return 1;
  }
  std::cerr << "usage: see the comment at the top of npc_apply_tool.cpp\n";
  return 2;
}
