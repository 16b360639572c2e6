// Mesh convergence benchmark, on the in-process simulator (tests/sim/lib): N MeshCores on a virtual
// clock, links with a fixed 2 ms delay, no loss. For each topology and size it builds a mesh, waits
// until it has converged and gone quiet, then measures three events one after the other:
//   join   one new peer joins (full mesh: it targets one existing peer and discovery does the
//          rest; sparse: it targets 3 random existing peers, discovery off)
//   leave  one peer stops (its process is gone, the kernel closes its connections)
//   heal   the mesh is cut into two halves; once each half agrees on itself and is quiet, the cut
//          is healed and the whole mesh must agree again
// For each event: the virtual time until every live view agrees (SimNetwork::views_agree(), and
// full_mesh_converged() for the full mesh), checked every 10 ms, and the traffic delivered in that
// window. Heartbeats and anti-entropy digests are periodic whatever happens, so they are left out
// of the event's traffic and reported separately as the idle background.
//
//   build/bench/weft_bench_mesh                       all scenarios, writes bench/RESULTS.md
//   build/bench/weft_bench_mesh --sizes=50,200 --topology=sparse --results=-   a subset, stdout
//   only
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <deque>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "bench/bench_report.h"
#include "tests/sim/lib/sim_network.h"
#include "tests/sim/lib/traffic.h"

#ifndef WEFT_BENCH_RESULTS
#define WEFT_BENCH_RESULTS "bench/RESULTS.md"
#endif

using namespace weft;
using namespace weft::sim;

namespace {

using Clock = std::chrono::steady_clock;
double secs_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

double cpu_secs() {
  return static_cast<double>(std::clock()) / CLOCKS_PER_SEC;
}

constexpr int64_t kCheckMs = 10;  // resolution of the convergence times
constexpr int64_t kGossipIntervalMs = 2000;

// Counts what is delivered while it is on: per receiving peer (event traffic only) and per kind.
struct Meter {
  bool on = false;
  std::vector<uint64_t> msgs, bytes;  // per receiver, periodic kinds excluded
  std::array<uint64_t, kKinds> kind_msgs{}, kind_bytes{};
  // Across a cut: side[i] in {0, 1, 2}; the first delivery between sides 1 and 2.
  std::vector<int> side;
  int64_t first_cross_ms = -1;
  const SimNetwork* net = nullptr;

  void reset() {
    std::fill(msgs.begin(), msgs.end(), 0);
    std::fill(bytes.begin(), bytes.end(), 0);
    kind_msgs.fill(0);
    kind_bytes.fill(0);
    first_cross_ms = -1;
  }
  void observe(int from, int to, ByteView m) {
    if (!on) return;
    Kind k = classify(m);
    ++kind_msgs[k];
    kind_bytes[k] += m.size();
    if (static_cast<size_t>(to) >= msgs.size()) {
      msgs.resize(to + 1, 0);
      bytes.resize(to + 1, 0);
    }
    if (!periodic(k)) {
      ++msgs[to];
      bytes[to] += m.size();
    }
    if (first_cross_ms < 0 && static_cast<size_t>(std::max(from, to)) < side.size() && side[from] &&
        side[to] && side[from] != side[to])
      first_cross_ms = net->now();
  }
  uint64_t event_msgs() const {
    uint64_t s = 0;
    for (int k = 0; k < kKinds; ++k)
      if (!periodic(k)) s += kind_msgs[k];
    return s;
  }
  uint64_t event_bytes() const {
    uint64_t s = 0;
    for (int k = 0; k < kKinds; ++k)
      if (!periodic(k)) s += kind_bytes[k];
    return s;
  }
};

// ---- results -----------------------------------------------------------------------------------

struct EventResult {
  std::string topology;
  int peers = 0;
  std::string event;
  bool converged = false;
  int64_t virt_ms = 0;
  int64_t reconnect_ms = -1;  // heal: first message across the former cut
  int64_t partition_ms = -1;  // heal: how long the cut lasted
  uint64_t msgs = 0, bytes = 0;
  double mean_msgs = 0, mean_bytes = 0;
  uint64_t max_msgs = 0, max_bytes = 0;
  int64_t subject_msgs = -1, subject_bytes = -1;  // join: what the new peer received
  std::array<uint64_t, kKinds> kind_msgs{}, kind_bytes{};
  bool sides_agreed = true;  // heal: each side agreed on itself before the heal
  int64_t sides_ms = -1;     // heal: how long after the cut
  bool out_of_time = false;  // stopped by the wall-clock budget, not the virtual deadline
  bool measured = true;      // heal: false when the sides never agreed (nothing measured)
  double wall_s = 0, cpu_s = 0;
};

struct ScenarioResult {
  std::string topology;
  int peers = 0;
  bool built = false;
  int64_t build_virt_ms = 0;
  double build_wall_s = 0;
  double mean_degree = 0;
  int max_degree = 0;
  // Idle background per peer and second.
  double idle_msgs = 0, idle_heartbeats = 0, idle_digests = 0, idle_bytes = 0;
  double wall_s = 0, cpu_s = 0;
  std::string note;
};

std::string human_bytes(double b) {
  char buf[64];
  if (b < 10'000)
    std::snprintf(buf, sizeof buf, "%.0f B", b);
  else if (b < 10'000'000)
    std::snprintf(buf, sizeof buf, "%.1f KB", b / 1000);
  else
    std::snprintf(buf, sizeof buf, "%.1f MB", b / 1e6);
  return buf;
}
std::string fixed(double v, int prec) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", prec, v);
  return buf;
}

// ---- the driver
// ----------------------------------------------------------------------------------

class Bench {
 public:
  // wall_budget_s: real time allowed per phase (building, each event); deadline: for the whole run.
  Bench(bool full, int n, uint64_t seed, double wall_budget_s, Clock::time_point deadline)
      : full_(full),
        n_(n),
        rng_(seed * 7919 + n),
        wall_budget_s_(wall_budget_s),
        deadline_(deadline) {
    SimOptions o;
    o.seed = seed * 1000 + static_cast<uint64_t>(n) + (full ? 0 : 500);
    o.discovery = full;
    net_ = std::make_unique<SimNetwork>(o);
    meter_.net = net_.get();
    net_->set_delivery_observer(
        [this](int from, int to, ByteView m) { meter_.observe(from, to, m); });
    res_.topology = topo_name();
    res_.peers = n;
  }

  std::string topo_name() const { return full_ ? "full mesh" : "sparse"; }
  std::string tag() const { return "[" + topo_name() + " n=" + std::to_string(n_) + "] "; }
  void progress(const std::string& s) {
    std::cerr << tag() << "t=" << net_->now() << " ms (wall " << fixed(secs_since(start_), 1)
              << " s)  " << s << std::endl;
  }

  // SimNetwork::run_until, but also gives up once this event has used `wall_budget_s` of real
  // time (the machine is shared and the whole benchmark must stay within minutes).
  bool run_until(const std::function<bool()>& pred, int64_t max_ms, int64_t check_ms,
                 Clock::time_point w0, bool* out_of_time = nullptr, double budget_factor = 1) {
    int64_t end = net_->now() + max_ms;
    while (net_->now() < end) {
      if (pred()) return true;
      if (out_of_wall_time(w0, budget_factor)) {
        if (out_of_time) *out_of_time = true;
        progress("giving up: wall-clock budget used");
        return false;
      }
      // One check interval at a time: a storm can make a single virtual second cost minutes.
      net_->run_for(std::min(check_ms, end - net_->now()));
    }
    return pred();
  }

  bool out_of_wall_time(Clock::time_point w0, double factor = 1) const {
    return secs_since(w0) > wall_budget_s_ * factor || Clock::now() > deadline_;
  }

  bool converged() const { return full_ ? net_->full_mesh_converged() : net_->views_agree(); }

  // A new peer's targets: one random existing peer (full mesh, discovery finds the rest) or up to
  // 3 distinct random ones (sparse).
  std::vector<int> targets_for_new() {
    std::vector<int> live = net_->alive_peers();
    if (live.empty()) return {};
    std::shuffle(live.begin(), live.end(), rng_);
    live.resize(std::min<size_t>(live.size(), full_ ? 1 : 3));
    return live;
  }

  bool build() {
    auto w0 = Clock::now();
    progress("building: adding " + std::to_string(n_) + " peers");
    for (int i = 0; i < n_; ++i) net_->add_peer(targets_for_new());
    int64_t t0 = net_->now();
    bool ok = run_until([&] { return converged(); }, 300'000, 250, w0, nullptr, 2);
    res_.build_virt_ms = net_->now() - t0;
    res_.build_wall_s = secs_since(w0);
    res_.built = ok;
    progress(std::string(ok ? "converged" : "DID NOT CONVERGE") + " after " +
             std::to_string(res_.build_virt_ms) + " ms virtual, " + fixed(res_.build_wall_s, 1) +
             " s wall");
    if (!ok) return false;
    settle();
    degrees();
    idle();
    return true;
  }

  void degrees() {
    std::vector<int> live = net_->alive_peers();
    size_t sum = 0;
    int mx = 0;
    for (int i : live) {
      int d = static_cast<int>(net_->core(i).neighbors().size());
      sum += d;
      mx = std::max(mx, d);
    }
    res_.mean_degree = static_cast<double>(sum) / live.size();
    res_.max_degree = mx;
  }

  // Runs at least 3 s, then 2 s windows until one carries no event traffic (at most 30 s, and
  // within the phase's wall-clock budget).
  bool settle() {
    auto w0 = Clock::now();
    net_->run_for(3000);
    for (int i = 0; i < 15 && !out_of_wall_time(w0); ++i) {
      meter_.reset();
      meter_.on = true;
      net_->run_for(2000);
      meter_.on = false;
      if (meter_.event_msgs() == 0) return true;
    }
    progress("warning: still not quiet");
    return false;
  }

  void idle() {
    const int64_t window = 10'000;
    std::vector<int> live = net_->alive_peers();
    uint64_t m0 = 0, h0 = 0, b0 = 0;
    for (int i : live) {
      m0 += net_->messages_received(i);
      h0 += net_->heartbeats_received(i);
      b0 += net_->bytes_received(i);
    }
    meter_.reset();
    meter_.on = true;
    net_->run_for(window);
    meter_.on = false;
    uint64_t m1 = 0, h1 = 0, b1 = 0;
    for (int i : live) {
      m1 += net_->messages_received(i);
      h1 += net_->heartbeats_received(i);
      b1 += net_->bytes_received(i);
    }
    double per = 1.0 / (live.size() * (window / 1000.0));
    res_.idle_msgs = (m1 - m0) * per;
    res_.idle_heartbeats = (h1 - h0) * per;
    res_.idle_digests = meter_.kind_msgs[kDigest] * per;
    res_.idle_bytes = (b1 - b0) * per;
    if (meter_.event_msgs() != 0)
      progress("warning: " + std::to_string(meter_.event_msgs()) +
               " non-periodic messages in the idle window");
  }

  // Measures from now until converged() (or max_ms); per-peer figures over `peers`.
  EventResult measure(const std::string& event, const std::vector<int>& peers, int subject,
                      int64_t max_ms, Clock::time_point w0, double budget_factor = 1) {
    EventResult r;
    r.topology = topo_name();
    r.peers = n_;
    r.event = event;
    int64_t t0 = net_->now();
    r.converged =
        run_until([&] { return converged(); }, max_ms, kCheckMs, w0, &r.out_of_time, budget_factor);
    r.virt_ms = net_->now() - t0;
    meter_.on = false;
    r.msgs = meter_.event_msgs();
    r.bytes = meter_.event_bytes();
    r.kind_msgs = meter_.kind_msgs;
    r.kind_bytes = meter_.kind_bytes;
    uint64_t sm = 0, sb = 0;
    for (int i : peers) {
      uint64_t m = i < static_cast<int>(meter_.msgs.size()) ? meter_.msgs[i] : 0;
      uint64_t b = i < static_cast<int>(meter_.bytes.size()) ? meter_.bytes[i] : 0;
      sm += m;
      sb += b;
      r.max_msgs = std::max(r.max_msgs, m);
      r.max_bytes = std::max(r.max_bytes, b);
    }
    r.mean_msgs = peers.empty() ? 0 : static_cast<double>(sm) / peers.size();
    r.mean_bytes = peers.empty() ? 0 : static_cast<double>(sb) / peers.size();
    if (subject >= 0 && subject < static_cast<int>(meter_.msgs.size())) {
      r.subject_msgs = static_cast<int64_t>(meter_.msgs[subject]);
      r.subject_bytes = static_cast<int64_t>(meter_.bytes[subject]);
    }
    progress(event + (r.converged ? ": converged in " : ": DID NOT CONVERGE within ") +
             std::to_string(r.virt_ms) + " ms virtual; " + std::to_string(r.msgs) + " messages, " +
             human_bytes(static_cast<double>(r.bytes)) + "; mean/max per peer " +
             fixed(r.mean_msgs, 1) + "/" + std::to_string(r.max_msgs) + " msgs, " +
             human_bytes(r.mean_bytes) + "/" + human_bytes(static_cast<double>(r.max_bytes)));
    return r;
  }

  void start_meter() {
    meter_.msgs.assign(net_->size() + 1, 0);
    meter_.bytes.assign(net_->size() + 1, 0);
    meter_.reset();
    meter_.on = true;
  }

  EventResult join() {
    auto w0 = Clock::now();
    double c0 = cpu_secs();
    std::vector<int> existing = net_->alive_peers();
    start_meter();
    int joiner = net_->add_peer(targets_for_new());
    EventResult r = measure("join", existing, joiner, 60'000, w0);
    r.wall_s = secs_since(w0);
    r.cpu_s = cpu_secs() - c0;
    joiner_ = joiner;
    return r;
  }

  // Is the graph of live peers (edges both ends list, as seen by `viewer`) connected without `x`?
  bool connected_without(int viewer, int x) {
    const Topology& t = net_->core(viewer).topology();
    std::vector<int> live = net_->alive_peers();
    std::map<PeerName, int> idx;
    for (int i : live)
      if (i != x) idx[net_->name(i)] = i;
    std::set<PeerName> seen{net_->name(viewer)};
    std::deque<PeerName> q{net_->name(viewer)};
    while (!q.empty()) {
      PeerName p = q.front();
      q.pop_front();
      const PeerRecord* r = t.find(p);
      if (!r) continue;
      for (const auto& [o, e] : r->edges)
        if (idx.count(o) && !seen.count(o) && t.connected(p, o)) {
          seen.insert(o);
          q.push_back(o);
        }
    }
    return seen.size() == idx.size();
  }

  EventResult leave() {
    auto w0 = Clock::now();
    double c0 = cpu_secs();
    std::vector<int> live = net_->alive_peers();
    int victim = -1;
    for (int tries = 0; tries < 100; ++tries) {
      int c = live[std::uniform_int_distribution<size_t>(0, live.size() - 1)(rng_)];
      if (c == joiner_) continue;
      int viewer = c == live[0] ? live[1] : live[0];
      if (full_ || connected_without(viewer, c)) {
        victim = c;
        break;
      }
    }
    progress("leave: stopping p" + std::to_string(victim) + " (degree " +
             std::to_string(net_->core(victim).neighbors().size()) + ")");
    std::vector<int> rest;
    for (int i : live)
      if (i != victim) rest.push_back(i);
    start_meter();
    net_->stop_peer(victim);
    EventResult r = measure("leave", rest, -1, 60'000, w0);
    r.wall_s = secs_since(w0);
    r.cpu_s = cpu_secs() - c0;
    return r;
  }

  bool side_converged(const std::vector<int>& side) {
    uint64_t d = net_->core(side[0]).topology().digest();
    for (int i : side) {
      const Topology& t = net_->core(i).topology();
      if (t.dirty() || t.size() != side.size() || t.digest() != d) return false;
    }
    return true;
  }

  // Two halves of the live peers, each connected on its own (a cut of a sparse random graph by
  // index would strand peers whose every connection crosses it): a BFS prefix from some root and
  // the rest, retried from other roots until the rest is connected too.
  std::pair<std::vector<int>, std::vector<int>> halves() {
    std::vector<int> live = net_->alive_peers();
    std::map<PeerName, int> by_name;
    for (int i : live) by_name[net_->name(i)] = i;
    std::map<int, std::vector<int>> adj;
    for (int i : live)
      for (PeerName p : net_->core(i).neighbors())
        if (by_name.count(p)) adj[i].push_back(by_name[p]);
    auto connected_set = [&](const std::vector<int>& v) {
      std::set<int> in(v.begin(), v.end()), seen{v[0]};
      std::deque<int> q{v[0]};
      while (!q.empty()) {
        int x = q.front();
        q.pop_front();
        for (int y : adj[x])
          if (in.count(y) && seen.insert(y).second) q.push_back(y);
      }
      return seen.size() == in.size();
    };
    // Components of the peers in `in`, largest first.
    auto components = [&](const std::set<int>& in) {
      std::vector<std::vector<int>> comps;
      std::set<int> seen;
      for (int s0 : in) {
        if (seen.count(s0)) continue;
        std::vector<int> c{s0};
        seen.insert(s0);
        for (size_t k = 0; k < c.size(); ++k)
          for (int y : adj[c[k]])
            if (in.count(y) && seen.insert(y).second) c.push_back(y);
        comps.push_back(std::move(c));
      }
      std::sort(comps.begin(), comps.end(),
                [](const auto& x, const auto& y) { return x.size() > y.size(); });
      return comps;
    };
    std::vector<int> a, b;
    size_t best = SIZE_MAX;
    for (int tries = 0; tries < 20; ++tries) {
      // A: a BFS prefix (connected) of half the peers. B: the largest component of the rest.
      // The rest's other components touch only A, so moving them to A keeps A connected.
      int root = live[std::uniform_int_distribution<size_t>(0, live.size() - 1)(rng_)];
      std::vector<int> order{root};
      std::set<int> seen{root};
      for (size_t k = 0; k < order.size() && order.size() < live.size() / 2; ++k)
        for (int y : adj[order[k]])
          if (order.size() < live.size() / 2 && seen.insert(y).second) order.push_back(y);
      std::set<int> rest;
      for (int i : live)
        if (!seen.count(i)) rest.insert(i);
      auto comps = components(rest);
      size_t imbalance = live.size() - 2 * comps[0].size();
      if (imbalance < best) {
        best = imbalance;
        b = comps[0];
        std::sort(b.begin(), b.end());
        a = order;
        for (size_t c = 1; c < comps.size(); ++c)
          a.insert(a.end(), comps[c].begin(), comps[c].end());
        std::sort(a.begin(), a.end());
      }
      if (imbalance == 0) break;
    }
    if (!connected_set(a) || !connected_set(b)) progress("warning: a side is not connected");
    return {a, b};
  }

  EventResult heal() {
    auto w0 = Clock::now();
    double c0 = cpu_secs();
    std::vector<int> live = net_->alive_peers();
    auto [a, b] = halves();
    int64_t cut_at = net_->now();
    progress("heal: partitioning into " + std::to_string(a.size()) + " + " +
             std::to_string(b.size()) + " (each connected on its own)");
    net_->partition(a, b);
    // Dead-peer detection across the cut (7 s), then each side drops the other half: the most
    // expensive stretch to simulate, so it gets twice the usual wall-clock budget.
    bool split = run_until([&] { return side_converged(a) && side_converged(b); }, 60'000, 250, w0,
                           nullptr, 2);
    int64_t sides_ms = net_->now() - cut_at;
    if (split) {
      progress("each side agrees on itself; waiting for quiet, then healing");
      settle();
    } else {
      // Healing a cut whose sides are still busy would measure both at once: not measured.
      progress("THE SIDES DID NOT CONVERGE; the heal is not measured");
      EventResult r;
      r.topology = topo_name();
      r.peers = n_;
      r.event = "partition heal";
      r.converged = false;
      r.measured = false;
      r.sides_agreed = false;
      r.sides_ms = net_->now() - cut_at;
      r.partition_ms = r.sides_ms;
      r.wall_s = secs_since(w0);
      r.cpu_s = cpu_secs() - c0;
      net_->heal_all();
      return r;
    }
    int64_t cut_ms = net_->now() - cut_at;
    meter_.side.assign(net_->size(), 0);
    for (int i : a) meter_.side[i] = 1;
    for (int i : b) meter_.side[i] = 2;
    start_meter();
    int64_t t0 = net_->now();
    net_->heal_all();
    // The heal gets a wall-clock budget of its own, three times the usual: re-meshing a full
    // mesh is the most expensive thing to simulate.
    EventResult r = measure("partition heal", live, -1, 60'000, Clock::now(), 3);
    r.partition_ms = cut_ms;
    r.sides_agreed = split;
    r.sides_ms = sides_ms;
    r.reconnect_ms = meter_.first_cross_ms < 0 ? -1 : meter_.first_cross_ms - t0;
    meter_.side.clear();
    r.wall_s = secs_since(w0);
    r.cpu_s = cpu_secs() - c0;
    return r;
  }

  const ScenarioResult& scenario() const { return res_; }

 private:
  bool full_;
  int n_;
  std::mt19937_64 rng_;
  std::unique_ptr<SimNetwork> net_;
  Meter meter_;
  ScenarioResult res_;
  int joiner_ = -1;
  double wall_budget_s_;
  Clock::time_point deadline_;
  Clock::time_point start_ = Clock::now();
};

// ---- report ------------------------------------------------------------------------------------

std::string machine() {
  std::ifstream cpu("/proc/cpuinfo");
  std::string line, model;
  int cpus = 0;
  while (std::getline(cpu, line)) {
    if (line.rfind("processor", 0) == 0) ++cpus;
    if (model.empty() && line.rfind("model name", 0) == 0) model = line.substr(line.find(':') + 2);
  }
  std::ifstream mem("/proc/meminfo");
  std::string memline;
  std::getline(mem, memline);
  long kb = 0;
  std::sscanf(memline.c_str(), "MemTotal: %ld", &kb);
  std::ostringstream o;
  o << (model.empty() ? "unknown CPU" : model) << ", " << cpus
    << " logical CPUs (shared with other work), " << fixed(kb / 1048576.0, 0) << " GiB RAM; "
    << "compiler " << __VERSION__;
#ifdef WEFT_BENCH_BUILD_TYPE
  o << ", " << WEFT_BENCH_BUILD_TYPE << " build";
#endif
  return o.str();
}

std::string report(const std::vector<ScenarioResult>& sc, const std::vector<EventResult>& ev,
                   uint64_t seed, double total_wall) {
  std::ostringstream o;
  o << "Generated by `build/bench/weft_bench_mesh` (seed " << seed << ") on " << machine()
    << ". Total wall time " << fixed(total_wall, 0) << " s (CPU " << fixed(cpu_secs(), 0)
    << " s; the difference is other work on the machine).\n\n";
  o << "Event traffic = messages delivered between the event and convergence, without heartbeats "
       "and anti-entropy digests (periodic, see the idle table). Per-peer figures are what each "
       "peer received; for a join they cover the peers already there, and the new peer's own "
       "intake is in the last column. Convergence is checked every "
    << kCheckMs << " ms of virtual time; a gossip round is " << kGossipIntervalMs << " ms.\n\n";
  o << "| topology | peers | event | converged after (virtual) | ≈ gossip rounds | messages | "
       "bytes | msgs/peer mean / max | bytes/peer mean / max | new peer received | wall / CPU (CPU "
       "per peer) |\n";
  o << "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const auto& r : ev) {
    if (!r.measured) {
      o << "| " << r.topology << " | " << r.peers << " | " << r.event << " | **not measured**: "
        << "the halves still disagreed " << fixed(r.sides_ms / 1000.0, 1)
        << " s (virtual) after the cut, when the wall-clock budget ran out | | | | | | | "
        << fixed(r.wall_s, 1) << " s / " << fixed(r.cpu_s, 1) << " s |\n";
      continue;
    }
    o << "| " << r.topology << " | " << r.peers << " | " << r.event;
    if (r.event == "partition heal")
      o << " (sides "
        << (r.sides_agreed ? "agreed " + fixed(r.sides_ms / 1000.0, 1) + " s after the cut"
                           : "**never agreed** (gave up " + fixed(r.sides_ms / 1000.0, 0) +
                                 " s after the cut)")
        << "; healed after " << fixed(r.partition_ms / 1000.0, 1) << " s; first reconnect +"
        << (r.reconnect_ms < 0 ? std::string("never") : std::to_string(r.reconnect_ms) + " ms")
        << ")";
    o << " | "
      << (r.converged ? std::to_string(r.virt_ms) + " ms"
                      : "**not within " + std::to_string(r.virt_ms) + " ms**" +
                            (r.out_of_time ? " (wall budget)" : ""))
      << " | " << fixed(r.virt_ms / static_cast<double>(kGossipIntervalMs), 1) << " | " << r.msgs
      << " | " << human_bytes(static_cast<double>(r.bytes)) << " | " << fixed(r.mean_msgs, 1)
      << " / " << r.max_msgs << " | " << human_bytes(r.mean_bytes) << " / "
      << human_bytes(static_cast<double>(r.max_bytes)) << " | "
      << (r.subject_msgs < 0 ? std::string("–")
                             : std::to_string(r.subject_msgs) + " msgs, " +
                                   human_bytes(static_cast<double>(r.subject_bytes)))
      << " | " << fixed(r.wall_s, 1) << " s / " << fixed(r.cpu_s, 1) << " s ("
      << fixed(r.cpu_s * 1000 / std::max(1, r.peers), 1) << " ms) |\n";
  }
  o << "\nTraffic by kind during each event window (messages / bytes; periodic kinds included "
       "here for reference):\n\n";
  o << "| topology | peers | event |";
  std::vector<int> kinds;
  for (int k = 0; k < kKinds; ++k) {
    bool any = false;
    for (const auto& r : ev) any = any || r.kind_msgs[k];
    if (any) kinds.push_back(k);
  }
  for (int k : kinds) o << " " << kKindName[k] << " |";
  o << "\n|---|---:|---|";
  for (size_t i = 0; i < kinds.size(); ++i) o << "---:|";
  o << "\n";
  for (const auto& r : ev) {
    if (!r.measured) continue;
    o << "| " << r.topology << " | " << r.peers << " | " << r.event << " |";
    for (int k : kinds)
      o << " " << r.kind_msgs[k] << " / " << human_bytes(static_cast<double>(r.kind_bytes[k]))
        << " |";
    o << "\n";
  }
  o << "\nBuilding each mesh (all peers started at t=0) and its idle background afterwards, per "
       "peer and second of virtual time:\n\n";
  o << "| topology | peers | built in (virtual) | build wall | degree mean / max | idle "
       "msgs/peer/s "
       "(heartbeats, digests) | idle bytes/peer/s | scenario wall (CPU) |\n";
  o << "|---|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const auto& s : sc) {
    if (!s.note.empty()) {
      o << "| " << s.topology << " | " << s.peers << " | " << s.note << " | | | | | |\n";
      continue;
    }
    o << "| " << s.topology << " | " << s.peers << " | "
      << (s.built ? std::to_string(s.build_virt_ms) + " ms"
                  : "**not within " + std::to_string(s.build_virt_ms) + " ms**")
      << " | " << fixed(s.build_wall_s, 1) << " s | " << fixed(s.mean_degree, 1) << " / "
      << s.max_degree << " | " << fixed(s.idle_msgs, 2) << " (" << fixed(s.idle_heartbeats, 2)
      << ", " << fixed(s.idle_digests, 2) << ") | " << fixed(s.idle_bytes, 0) << " | "
      << fixed(s.wall_s, 1) << " s (" << fixed(s.cpu_s, 1) << " s) |\n";
  }
  return o.str();
}

const char* const kBegin =
    "<!-- weft_bench_mesh:begin (generated by build/bench/weft_bench_mesh; edits inside are "
    "overwritten) -->";
const char* const kEnd = "<!-- weft_bench_mesh:end -->";

// The shared writer (bench/bench_report.h) puts the block between the markers.
bool write_results(const std::string& path, const std::string& block) {
  return weft::bench::write_block(path, kBegin, kEnd, "Mesh convergence (simulated)", block);
}

std::vector<int> parse_sizes(const std::string& s) {
  std::vector<int> v;
  std::stringstream ss(s);
  std::string x;
  while (std::getline(ss, x, ',')) v.push_back(std::stoi(x));
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> sizes{50, 200, 1000};
  std::string topology = "both";
  std::string results = WEFT_BENCH_RESULTS;
  bool subset = false, results_given = false;
  uint64_t seed = 1;
  // The largest full mesh simulated: each of N peers holds N records of N-1 edges, so 1000 peers
  // would need ~10^6 edges per peer (~100 GB for the simulated mesh).
  int max_full = 200;
  double budget = 50;         // wall-clock seconds per phase (build and heal: twice that)
  double total_budget = 540;  // for the whole run; what does not fit is cut short or skipped
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto val = [&](const char* key) -> std::optional<std::string> {
      std::string k = std::string(key) + "=";
      if (a.rfind(k, 0) == 0) return a.substr(k.size());
      return std::nullopt;
    };
    if (auto v = val("--sizes")) {
      sizes = parse_sizes(*v);
      subset = true;
    } else if (auto t = val("--topology")) {
      topology = *t;
      subset = true;
    } else if (auto r = val("--results")) {
      results = *r;
      results_given = true;
    } else if (auto s = val("--seed")) {
      seed = std::stoull(*s);
      subset = true;
    } else if (auto bu = val("--budget")) {
      budget = std::stod(*bu);
    } else if (auto tb = val("--total-budget")) {
      total_budget = std::stod(*tb);
    } else if (auto m = val("--max-full")) {
      max_full = std::stoi(*m);
      subset = true;
    } else {
      std::cerr
          << "usage: " << argv[0]
          << " [--sizes=50,200,1000] [--topology=full|sparse|both] [--seed=N]"
             " [--max-full=200]\n        [--budget=SECONDS per phase] [--total-budget=SECONDS]"
             " [--results=PATH|-]\n"
             "Without options runs everything and writes the tables into "
          << WEFT_BENCH_RESULTS << ".\n";
      return 2;
    }
  }
  // A partial run does not overwrite the recorded figures unless asked to.
  if (subset && !results_given) results = "-";

  auto w0 = Clock::now();
  auto deadline = w0 + std::chrono::milliseconds(static_cast<int64_t>(total_budget * 1000));
  // Cheapest first, so that a slow machine loses the biggest scenario, not the small ones.
  std::vector<std::pair<bool, int>> plan;
  for (bool full : {true, false}) {
    if ((full && topology == "sparse") || (!full && topology == "full")) continue;
    for (int n : sizes) {
      if (full && n > max_full) {
        std::cerr << "[full mesh n=" << n << "] skipped: a full mesh of " << n << " peers means ~"
                  << (static_cast<long>(n) * n / 2)
                  << " edges in every peer's view; too big to simulate on one host\n";
        continue;
      }
      plan.emplace_back(full, n);
    }
  }
  std::stable_sort(plan.begin(), plan.end(), [](const auto& x, const auto& y) {
    return x.second * (x.first ? 4 : 1) < y.second * (y.first ? 4 : 1);
  });
  std::vector<ScenarioResult> scenarios;
  std::vector<EventResult> events;
  for (auto [full, n] : plan) {
    auto s0 = Clock::now();
    double c0 = cpu_secs();
    if (s0 > deadline) {
      ScenarioResult sr;
      sr.topology = full ? "full mesh" : "sparse";
      sr.peers = n;
      sr.note = "skipped: the run's time budget was used up";
      scenarios.push_back(sr);
      std::cerr << "[" << sr.topology << " n=" << n << "] " << sr.note << std::endl;
      continue;
    }
    auto b = std::make_unique<Bench>(full, n, seed, budget, deadline);
    bool ok = b->build();
    ScenarioResult sr = b->scenario();
    // Each event starts from a converged, quiet mesh: after one that did not converge, the
    // next gets a freshly built mesh (same seed, so the same mesh).
    auto next = [&](const EventResult& r) {
      events.push_back(r);
      if (r.converged) return b->settle(), true;
      if (Clock::now() > deadline) return false;
      b->progress("rebuilding the mesh for the next event");
      b = std::make_unique<Bench>(full, n, seed, budget, deadline);
      return b->build();
    };
    if (ok && next(b->join()) && next(b->leave())) events.push_back(b->heal());
    sr.wall_s = secs_since(s0);
    sr.cpu_s = cpu_secs() - c0;
    scenarios.push_back(sr);
    std::cerr << "[" << sr.topology << " n=" << n << "] done in " << fixed(sr.wall_s, 1)
              << " s wall (total " << fixed(secs_since(w0), 0) << " s)" << std::endl;
  }
  auto order = [](const auto& x, const auto& y) {
    return std::make_pair(x.topology, x.peers) < std::make_pair(y.topology, y.peers);
  };
  std::stable_sort(scenarios.begin(), scenarios.end(), order);
  std::stable_sort(events.begin(), events.end(), order);
  std::string block = report(scenarios, events, seed, secs_since(w0));
  std::cout << block << std::flush;
  if (results != "-") {
    if (!write_results(results, block)) {
      std::cerr << "cannot write " << results << "\n";
      return 1;
    }
    std::cerr << "wrote " << results << "\n";
  }
  return 0;
}
