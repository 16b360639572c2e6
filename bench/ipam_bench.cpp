// IPAM benchmark (issue 4): allocation latency and ring convergence, on the in-process simulator
// (tests/sim/lib): real IpamCores on real MeshCores, virtual clock, every link 2 ms one way, no
// loss, IPAM timers fired every 10 ms. Virtual times and message counts are deterministic for a
// seed; wall and CPU times are not.
//
// 1. Local allocation: one peer that owns the whole range allocates K addresses one after the
//    other (virtual latency, CPU per allocation as the number held grows), then releases them;
//    with no store (the core alone), with the state serialised to JSON on every save as the
//    router does, and with that JSON written to a file (write, fsync, rename) as the router does.
// 2. Cluster scenarios, for each size N: a sparse mesh (each peer dials up to 3 random earlier
//    peers, discovery off), range 10.32.0.0/12, bootstrapped with 3 explicit seeds; then, one
//    after the other, each from a quiet cluster:
//      donation (existing)  a peer that has the ring but no space allocates its first address
//      donation (new peer)  a new peer joins and allocates its first address at once
//      rmpeer               that new peer stops; once the operator's peer sees it unreachable,
//                           rmpeer there takes its space
//      fill                 every peer still without space allocates at once (the ring grows to
//                           about 2 tokens per peer)
//      donation, rmpeer     again, now that every peer owns space (a ring of ~2N tokens)
//    and, on a fresh cluster, bootstrap by consensus=N (all N peers launched together).
//    For each: when all live rings hold the same digest (for good: the last time they came to
//    agree, checked every 10 ms), and the traffic on the "ipam" channel until it has been quiet
//    for 2.5 s (free counts are published 2 s after they change), by message kind and per
//    receiving peer. Anti-entropy digests are periodic and listed apart.
//
//   build/bench/weft_bench_ipam                         everything; writes bench/RESULTS.md
//   build/bench/weft_bench_ipam --sizes=200 --results=-  a subset, stdout only
#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "bench/bench_report.h"
#include "common/atomic_file.h"
#include "ipam/ipam_core.h"
#include "ipam/messages.h"
#include "ipam/state_file.h"
#include "router/wire/mesh_message.h"
#include "tests/sim/lib/ipam_cluster.h"

#ifndef WEFT_BENCH_RESULTS
#define WEFT_BENCH_RESULTS "bench/RESULTS.md"
#endif

using namespace weft;
using namespace weft::ipam;
using namespace weft::sim;
using namespace weft::bench;

namespace {

constexpr int64_t kCheckMs = 10;    // resolution of the virtual times
constexpr int64_t kQuietMs = 2500;  // no IPAM news for this long: the event is over
constexpr int64_t kEventMaxMs = 60'000;
const char* const kRange = "10.32.0.0/12";

// ---- traffic on the "ipam" channel -------------------------------------------------------------

enum Kind {
  kRingBroadcast,
  kRingNeighbor,
  kRingUnicast,
  kDigest,
  kProposal,
  kRequest,
  kGrant,
  kRefuse,
  kOtherIpam,
  kKinds
};
const char* const kKindName[kKinds] = {"ring (broadcast)",
                                       "ring (to a neighbour)",
                                       "ring (unicast)",
                                       "digest",
                                       "proposal",
                                       "request",
                                       "grant",
                                       "refuse",
                                       "other"};
bool periodic(int k) {
  return k == kDigest;
}

// The first byte of an IPAM message is its type, 1 + the index of its alternative in
// ipam::Message (ipam/messages.cpp); checked once at start-up by check_ipam_wire_types().
enum WireType : uint8_t {
  kWireRing = 1,
  kWireDigest,
  kWireProposal,
  kWireRequest,
  kWireGrant,
  kWireRefuse
};

bool check_ipam_wire_types() {
  Ring r = Ring::seeded(parse_ipv4_cidr("10.0.0.0/24"), {1}, 0);
  std::vector<Message> one_of_each{RingMsg{r},        DigestMsg{1},   ProposalMsg{},
                                   RequestMsg{1, {}}, GrantMsg{1, r}, RefuseMsg{}};
  for (const Message& m : one_of_each)
    if (static_cast<size_t>(encode(m).at(0)) != m.index() + 1) return false;
  return true;
}

// The kind of an IPAM message, or -1 for anything else (heartbeats, other channels).
int classify(ByteView m) {
  auto t = m.empty() ? 0 : m[0];
  if (t < static_cast<uint8_t>(MeshMessageType::kGossipNeighbor) ||
      t > static_cast<uint8_t>(MeshMessageType::kGossipBroadcast))
    return -1;
  MeshMessage mm;
  try {
    mm = decode_mesh_message(m);
  } catch (const DecodeError&) {
    return -1;
  }
  if (mm.text != IpamCore::kChannel) return -1;
  if (mm.payload.empty()) return kOtherIpam;
  switch (mm.payload[0]) {
    case kWireRing:
      if (mm.type == MeshMessageType::kGossipBroadcast) return kRingBroadcast;
      return mm.type == MeshMessageType::kGossipNeighbor ? kRingNeighbor : kRingUnicast;
    case kWireDigest:
      return kDigest;
    case kWireProposal:
      return kProposal;
    case kWireRequest:
      return kRequest;
    case kWireGrant:
      return kGrant;
    case kWireRefuse:
      return kRefuse;
    default:
      return kOtherIpam;
  }
}

struct Traffic {
  std::array<uint64_t, kKinds> msgs{}, bytes{};
  uint64_t news_msgs() const {
    uint64_t s = 0;
    for (int k = 0; k < kKinds; ++k) s += periodic(k) ? 0 : msgs[k];
    return s;
  }
  uint64_t news_bytes() const {
    uint64_t s = 0;
    for (int k = 0; k < kKinds; ++k) s += periodic(k) ? 0 : bytes[k];
    return s;
  }
};

// What is delivered while `on`, per kind and per receiving peer (periodic kinds left out).
struct Meter {
  bool on = false;
  Traffic total;
  std::vector<uint64_t> peer_msgs, peer_bytes;
  int64_t last_news_ms = -1;

  void reset(size_t peers) {
    total = {};
    peer_msgs.assign(peers, 0);
    peer_bytes.assign(peers, 0);
    last_news_ms = -1;
  }
  void observe(int to, int kind, size_t size, int64_t now) {
    if (!on) return;
    ++total.msgs[kind];
    total.bytes[kind] += size;
    if (periodic(kind)) return;
    if (static_cast<size_t>(to) >= peer_msgs.size()) {
      peer_msgs.resize(to + 1, 0);
      peer_bytes.resize(to + 1, 0);
    }
    ++peer_msgs[to];
    peer_bytes[to] += size;
    last_news_ms = now;
  }
};

// ---- results -----------------------------------------------------------------------------------

// CPU and wall microseconds per call over a window of calls.
struct PerCall {
  double cpu_us = 0, wall_us = 0;
};

struct LocalResult {
  std::string store;
  int count = 0, window = 0;
  int64_t virt_ms_max = 0;              // allocate() to done, virtual
  PerCall alloc_first, alloc_last;      // the first and last `window` allocations
  PerCall release_first, release_last;  // the first and last `window` releases
  uint64_t state_bytes = 0;             // the JSON state with `count` addresses held
};

struct Latency {
  std::string what;
  int peers = 0;
  int count = 0, ok = 0;
  std::vector<int64_t> ms;              // of the successful ones
  std::map<std::string, int> failures;  // error message (addresses and names cut) -> count
  uint64_t requests = 0, grants = 0, refusals = 0;
  Traffic until_done;
  bool measured = true;
  std::string note;
};

struct Convergence {
  std::string event;
  int peers = 0;
  bool measured = true;
  bool agreed = false;
  bool out_of_time = false;
  int64_t agree_ms = 0, last_news_ms = 0, ran_ms = 0;
  Traffic traffic;
  double mean_msgs = 0, mean_bytes = 0;
  uint64_t max_msgs = 0, max_bytes = 0;
  size_t live = 0;
  size_t ring_tokens = 0, ring_bytes = 0, ring_owners = 0;
  double wall_s = 0, cpu_s = 0;
  std::string note;
};

struct Background {
  int peers = 0;
  double digests_per_peer_s = 0, bytes_per_peer_s = 0, news_msgs = 0;
  int64_t mesh_ms = -1;
};

// ---- 1. local allocation -----------------------------------------------------------------------

// What the router does on every save (only while `active`), or nothing.
struct BenchStore : IpamStore {
  enum Mode { kNone, kJson, kFile } mode = kNone;
  bool active = true;
  std::string path;
  void save(const IpamState& s) override {
    if (mode == kNone || !active) return;
    std::string j = state_json(s);
    if (mode == kFile) write_file_atomic(path, j, 0600);
  }
};

// Times `calls` calls of f(k) for k in [from, from + calls).
PerCall time_calls(int from, int calls, const std::function<void(int)>& f) {
  double c0 = cpu_secs();
  auto w0 = Clock::now();
  for (int k = from; k < from + calls; ++k) f(k);
  return {(cpu_secs() - c0) * 1e6 / calls, secs_since(w0) * 1e6 / calls};
}

// One peer owning the whole range allocates `count` addresses, then releases them. The store
// works only during the first and last `window` calls of each (serialising 10,000 allocations
// on every save would take minutes); in between it does nothing.
LocalResult local_allocation(BenchStore::Mode mode, int count, int window, const std::string& dir) {
  LocalResult res;
  res.store = mode == BenchStore::kNone   ? "none (the core alone)"
              : mode == BenchStore::kJson ? "the state serialised to JSON (as the router does)"
                                          : "that JSON written to a file: write, fsync, rename";
  res.count = count;
  res.window = window = std::min(window, count / 2);
  SimOptions o;
  o.discovery = false;
  SimNetwork net(o);
  int p = net.add_peer({});
  SimIpamEnv env;
  env.net = &net;
  env.index = p;
  BenchStore store;
  store.mode = mode;
  store.path = dir + "/ipam.json";
  IpamConfig c;
  c.self = net.name(p);
  c.range = parse_ipv4_cidr(kRange);
  c.init.kind = InitMode::Kind::kSeed;
  c.init.seeds = {format_peer_name(c.self)};
  IpamCore core(c, net.core(p), env, store);
  core.start(net.now());
  if (core.ring().empty()) throw std::runtime_error("local allocation: no ring");
  auto allocate = [&](int k) {
    int64_t called = net.now();
    bool done = false;
    core.allocate("w" + std::to_string(k), called, [&](const AllocResult& r) {
      if (!r.ok()) throw std::runtime_error("local allocation failed: " + r.message);
      res.virt_ms_max = std::max(res.virt_ms_max, net.now() - called);
      done = true;
    });
    if (!done) throw std::runtime_error("local allocation: the callback did not run at once");
  };
  auto release = [&](int k) { core.release("w" + std::to_string(k), net.now()); };
  res.alloc_first = time_calls(0, window, allocate);
  store.active = false;
  time_calls(window, count - 2 * window, allocate);
  store.active = true;
  res.alloc_last = time_calls(count - window, window, allocate);
  res.state_bytes = state_json(IpamState{core.ring(), core.allocations()}).size();
  res.release_first = time_calls(0, window, release);
  store.active = false;
  time_calls(window, count - 2 * window, release);
  store.active = true;
  res.release_last = time_calls(count - window, window, release);
  return res;
}

// ---- 2. cluster scenarios ----------------------------------------------------------------------

// An error message up to its first ';' (the rest names peers and addresses).
std::string first_clause(const std::string& m) {
  return m.substr(0, m.find(';'));
}

// Which live rings may have changed since their digest was taken: the receivers of IPAM
// messages, peers whose IPAM timer fired, and peers the benchmark called.
class RingWatch {
 public:
  explicit RingWatch(IpamCluster& c) : c_(c) {}
  void mark(int i) {
    if (static_cast<size_t>(i) >= dirty_.size()) grow(i + 1);
    dirty_[i] = 1;
  }
  bool agree() {
    grow(c_.ipam.size());
    std::optional<uint64_t> d;
    for (size_t i = 0; i < c_.ipam.size(); ++i) {
      if (!c_.ipam[i]) continue;
      const Ring& r = c_.ipam[i]->ring();
      if (r.empty()) return false;
      if (dirty_[i]) {
        digest_[i] = r.digest();
        dirty_[i] = 0;
      }
      if (d && *d != digest_[i]) return false;
      d = digest_[i];
    }
    return d.has_value();
  }

 private:
  void grow(size_t n) {
    if (dirty_.size() < n) {
      dirty_.resize(n, 1);
      digest_.resize(n, 0);
    }
  }
  IpamCluster& c_;
  std::vector<char> dirty_;
  std::vector<uint64_t> digest_;
};

class Scale {
 public:
  Scale(int n, uint64_t seed, InitMode init, double budget_s, Clock::time_point deadline)
      : n_(n),
        rng_(seed * 7919 + static_cast<uint64_t>(n)),
        budget_s_(budget_s),
        deadline_(deadline),
        c_(options(seed, n), parse_ipv4_cidr(kRange), std::move(init)),
        watch_(c_) {
    c_.net.set_delivery_observer([this](int, int to, ByteView m) {
      int k = classify(m);
      if (k < 0) return;
      watch_.mark(to);
      if (trace_ && meter_.on && !periodic(k))
        std::cerr << "  " << c_.net.now() << " ms: " << kKindName[k] << " to peer " << to << ", "
                  << m.size() << " B\n";
      meter_.observe(to, k, m.size(), c_.net.now());
    });
    c_.timer_fired = [this](int i) { watch_.mark(i); };
  }

  std::string tag() const { return "[n=" + std::to_string(n_) + "] "; }
  void progress(const std::string& s) const {
    std::cerr << tag() << "t=" << c_.net.now() << " ms (wall " << fixed(secs_since(start_), 1)
              << " s)  " << s << std::endl;
  }
  bool out_of_time(Clock::time_point w0, double factor = 1) const {
    return secs_since(w0) > budget_s_ * factor || Clock::now() > deadline_;
  }

  // Up to 3 distinct random peers among those already there.
  std::vector<int> targets() {
    std::vector<int> live = c_.net.alive_peers();
    std::shuffle(live.begin(), live.end(), rng_);
    live.resize(std::min<size_t>(live.size(), 3));
    return live;
  }

  // Starts all N peers at t=0 and measures the bootstrap. `seeds`: explicit seeds (the first
  // three peers), else the cluster's InitMode as given (consensus).
  Convergence build(bool seeds, const std::string& event, Background* bg) {
    auto w0 = Clock::now();
    double c0 = cpu_secs();
    progress("building: " + std::to_string(n_) + " peers, " + event);
    for (int i = 0; i < n_; ++i) c_.net.add_peer(targets());
    if (seeds)
      for (int i = 0; i < 3; ++i) c_.init.seeds.push_back(format_peer_name(c_.net.name(i)));
    meter_.reset(static_cast<size_t>(n_));
    meter_.on = true;
    for (int i = 0; i < n_; ++i) c_.attach_ipam(i, 1000);
    int64_t mesh_ms = -1;
    Convergence r = converge(event, 0, w0, 3, [&] {
      if (mesh_ms < 0 && c_.net.now() % 250 == 0 && c_.net.views_agree()) mesh_ms = c_.net.now();
      return mesh_ms >= 0;
    });
    r.wall_s = secs_since(w0);
    r.cpu_s = cpu_secs() - c0;
    if (bg) bg->mesh_ms = mesh_ms;
    // With explicit seeds the rings agree at once: the mesh must have converged too.
    built_ = r.agreed && !r.out_of_time && mesh_ms >= 0;
    if (r.agreed && !built_) {
      r.note = "the mesh had not converged when the wall-clock budget ran out";
      progress("the mesh did not converge: no further scenarios at this size");
    }
    return r;
  }

  // Runs from `t0` (the meter already on) until the rings agree, `also()` holds (it is called
  // every step) and no IPAM news has been delivered for kQuietMs; at most kEventMaxMs.
  Convergence converge(
      const std::string& event, int64_t t0, Clock::time_point w0, double budget_factor = 1,
      const std::function<bool()>& also = [] { return true; }) {
    Convergence r;
    r.event = event;
    r.peers = n_;
    int64_t agree_since = -1;
    while (true) {
      int64_t now = c_.net.now();
      bool agree = watch_.agree();
      if (!agree) agree_since = -1;
      if (agree && agree_since < 0) agree_since = now;
      bool extra = also();  // every step: it may watch something of its own
      int64_t quiet_from = std::max(meter_.last_news_ms, t0);
      if (agree && extra && now - quiet_from >= kQuietMs) break;
      if (now - t0 >= kEventMaxMs) break;
      if (out_of_time(w0, budget_factor)) {
        r.out_of_time = true;
        progress(event + ": giving up, wall-clock budget used");
        break;
      }
      c_.run(kCheckMs);
    }
    meter_.on = false;
    r.agreed = agree_since >= 0;
    r.agree_ms = r.agreed ? agree_since - t0 : c_.net.now() - t0;
    r.last_news_ms = meter_.last_news_ms < 0 ? -1 : meter_.last_news_ms - t0;
    r.ran_ms = c_.net.now() - t0;
    r.traffic = meter_.total;
    std::vector<int> live = c_.live();
    r.live = live.size();
    uint64_t sm = 0, sb = 0;
    for (int i : live) {
      uint64_t m = static_cast<size_t>(i) < meter_.peer_msgs.size() ? meter_.peer_msgs[i] : 0;
      uint64_t b = static_cast<size_t>(i) < meter_.peer_bytes.size() ? meter_.peer_bytes[i] : 0;
      sm += m;
      sb += b;
      r.max_msgs = std::max(r.max_msgs, m);
      r.max_bytes = std::max(r.max_bytes, b);
    }
    r.mean_msgs = live.empty() ? 0 : static_cast<double>(sm) / static_cast<double>(live.size());
    r.mean_bytes = live.empty() ? 0 : static_cast<double>(sb) / static_cast<double>(live.size());
    ring_size(r);
    progress(event + (r.agreed ? ": rings agree after " : ": RINGS DO NOT AGREE after ") +
             std::to_string(r.agree_ms) + " ms; " + std::to_string(r.traffic.news_msgs()) +
             " ipam messages, " + human_bytes(static_cast<double>(r.traffic.news_bytes())) +
             "; ring " + std::to_string(r.ring_tokens) + " tokens, " +
             human_bytes(static_cast<double>(r.ring_bytes)));
    return r;
  }

  void ring_size(Convergence& r) {
    std::vector<int> live = c_.live();
    if (live.empty()) return;
    const Ring& ring = c_.ipam[live.front()]->ring();
    r.ring_tokens = ring.tokens().size();
    r.ring_bytes = encode(RingMsg{ring}).size();
    r.ring_owners = ring.free_by_owner().size();
  }

  // 5 s of a quiet cluster: the periodic anti-entropy digests.
  void idle(Background& bg) {
    const int64_t window = 5000;
    meter_.reset(c_.net.size());
    meter_.on = true;
    c_.run(window);
    meter_.on = false;
    double per = 1.0 / (static_cast<double>(c_.live().size()) * (window / 1000.0));
    bg.peers = n_;
    bg.digests_per_peer_s = static_cast<double>(meter_.total.msgs[kDigest]) * per;
    bg.bytes_per_peer_s = static_cast<double>(meter_.total.bytes[kDigest]) * per;
    bg.news_msgs = static_cast<double>(meter_.total.news_msgs());
  }

  IpamCounters counters() const {
    IpamCounters s;
    for (int i : c_.live()) {
      const IpamCounters& k = c_.ipam[i]->counters();
      s.requests_sent += k.requests_sent;
      s.grants_given += k.grants_given;
      s.refusals_received += k.refusals_received;
    }
    return s;
  }

  bool without_space(int i) const {
    return c_.ipam[i] && c_.ipam[i]->ring().owned_by(c_.net.name(i)).empty();
  }
  // Live peers that own no space.
  std::vector<int> without_space() const {
    std::vector<int> out;
    for (int i : c_.live())
      if (without_space(i)) out.push_back(i);
    return out;
  }
  // Up to k of `v`, chosen at random, in index order.
  std::vector<int> sample(std::vector<int> v, int k) {
    std::shuffle(v.begin(), v.end(), rng_);
    v.resize(std::min(v.size(), static_cast<size_t>(k)));
    std::sort(v.begin(), v.end());
    return v;
  }

  // `who` each allocate one address at t0; measures until all are done, then the convergence.
  // A new peer (join) is added first and allocates at once.
  std::pair<Latency, Convergence> allocate(const std::string& what, const std::string& event,
                                           std::vector<int> who, bool join) {
    auto w0 = Clock::now();
    double c0 = cpu_secs();
    Latency lat;
    lat.what = what;
    lat.peers = n_;
    IpamCounters k0 = counters();
    meter_.reset(c_.net.size() + 1);
    meter_.on = true;
    int64_t t0 = c_.net.now();
    if (join) {
      int j = c_.net.add_peer(targets());
      c_.attach_ipam(j, 5000);
      who = {j};
      joined_ = j;
    }
    progress(what + ": " + std::to_string(who.size()) + " peer(s) allocate");
    lat.count = static_cast<int>(who.size());
    // Shared with the callbacks, which may run after this returns (an allocation still waiting
    // when the budget ran out).
    struct Done {
      int finished = 0;
      std::vector<int64_t> ms;
      std::map<std::string, int> failures;
    };
    auto done = std::make_shared<Done>();
    for (int i : who) {
      watch_.mark(i);
      c_.ipam[i]->allocate("first-" + std::to_string(i), t0,
                           [done, t0, &net = c_.net](const AllocResult& r) {
                             ++done->finished;
                             if (r.ok())
                               done->ms.push_back(net.now() - t0);
                             else
                               ++done->failures[first_clause(r.message)];
                           });
    }
    bool all = true;
    while (done->finished < lat.count) {
      if (c_.net.now() - t0 >= kEventMaxMs || out_of_time(w0, 2)) {
        all = false;
        break;
      }
      c_.run(kCheckMs);  // the latencies are read in the callbacks, at message granularity
    }
    int finished = done->finished;
    lat.ms = done->ms;
    lat.failures = done->failures;
    lat.ok = static_cast<int>(lat.ms.size());
    lat.until_done = meter_.total;
    IpamCounters k1 = counters();
    lat.requests = k1.requests_sent - k0.requests_sent;
    lat.grants = k1.grants_given - k0.grants_given;
    lat.refusals = k1.refusals_received - k0.refusals_received;
    if (!all)
      lat.note = std::to_string(lat.count - finished) + " still waiting when the " +
                 (out_of_time(w0, 2) ? "wall-clock budget" : "60 s limit") + " ran out";
    std::sort(lat.ms.begin(), lat.ms.end());
    progress(what + ": " + std::to_string(lat.ok) + "/" + std::to_string(lat.count) +
             " allocated, slowest after " + (lat.ms.empty() ? "-" : std::to_string(lat.ms.back())) +
             " ms");
    if (!all) {
      Convergence r;
      r.event = event;
      r.peers = n_;
      r.measured = false;
      r.note = lat.note;
      r.wall_s = secs_since(w0);
      r.cpu_s = cpu_secs() - c0;
      meter_.on = false;
      return {lat, r};
    }
    Convergence r = converge(event, t0, w0, 2);
    r.wall_s = secs_since(w0);
    r.cpu_s = cpu_secs() - c0;
    return {lat, r};
  }

  // The last peer that joined stops; once a peer that was its neighbour sees it unreachable (and
  // 2 s more of mesh churn), rmpeer there.
  Convergence rmpeer(const std::string& event) {
    auto w0 = Clock::now();
    int victim = joined_;
    std::vector<PeerName> nb = c_.net.core(victim).neighbors();
    int by = -1;
    for (int i : c_.live())
      if (i != victim && std::find(nb.begin(), nb.end(), c_.net.name(i)) != nb.end()) by = i;
    c_.net.stop_peer(victim);
    c_.ipam[victim].reset();
    PeerName gone = c_.net.name(victim);
    c_.run_until([&] { return !c_.net.core(by).topology().reachable(gone); }, 20'000, kCheckMs);
    c_.run(2000);
    double c0 = cpu_secs();
    w0 = Clock::now();
    meter_.reset(c_.net.size());
    meter_.on = true;
    int64_t t0 = c_.net.now();
    watch_.mark(by);
    RmpeerResult res = c_.ipam[by]->rmpeer(format_peer_name(gone), t0);
    progress(event + ": rmpeer " +
             (res.ok ? "took " + std::to_string(res.addresses) + " addresses"
                     : "refused: " + res.message));
    Convergence r = converge(event, t0, w0);
    if (!res.ok) r.note = "rmpeer refused: " + res.message;
    r.wall_s = secs_since(w0);
    r.cpu_s = cpu_secs() - c0;
    return r;
  }

  // Lets the cluster go quiet (no IPAM news for kQuietMs, rings agreeing) between events.
  void settle() {
    meter_.reset(c_.net.size());
    meter_.on = true;
    converge("settle", c_.net.now(), Clock::now());
  }

  bool built() const { return built_; }
  Clock::time_point deadline() const { return deadline_; }

 private:
  static SimOptions options(uint64_t seed, int n) {
    SimOptions o;
    o.seed = seed * 1000 + static_cast<uint64_t>(n);
    o.discovery = false;
    return o;
  }

  int n_;
  std::mt19937_64 rng_;
  double budget_s_;
  Clock::time_point deadline_;
  IpamCluster c_;
  RingWatch watch_;
  Meter meter_;
  bool built_ = false;
  int joined_ = -1;
  bool trace_ = std::getenv("WEFT_BENCH_IPAM_TRACE") != nullptr;  // every IPAM message measured
  Clock::time_point start_ = Clock::now();
};

Convergence skipped(const std::string& event, int n, const std::string& why) {
  Convergence r;
  r.event = event;
  r.peers = n;
  r.measured = false;
  r.note = why;
  return r;
}

struct Run {
  std::vector<LocalResult> local;
  std::vector<Latency> latency;
  std::vector<Convergence> convergence;
  std::vector<Background> background;
};

void run_scale(Run& out, int n, int fill, uint64_t seed, double budget,
               Clock::time_point deadline) {
  InitMode seeds;
  seeds.kind = InitMode::Kind::kSeed;
  Scale s(n, seed, seeds, budget, deadline);
  Background bg;
  out.convergence.push_back(s.build(true, "bootstrap, 3 explicit seeds", &bg));
  if (!s.built()) {
    out.convergence.push_back(
        skipped("donations, rmpeer, fill", n, "not measured: the cluster was not built in time"));
    return;
  }
  s.idle(bg);
  out.background.push_back(bg);
  // What no longer fits in the run's time is listed as skipped.
  auto time_left = [&](const std::string& event) {
    if (Clock::now() < deadline) return true;
    out.convergence.push_back(skipped(event, n, "skipped: the run's time budget was used up"));
    return false;
  };
  auto record = [&](const std::pair<Latency, Convergence>& r) {
    out.latency.push_back(r.first);
    out.convergence.push_back(r.second);
    if (r.second.measured) s.settle();
    return r.second.measured && r.second.agreed;
  };
  std::vector<int> bare = s.without_space();
  record(s.allocate("a peer with the ring but no space", "donation (existing peer)",
                    {bare.at(bare.size() / 2)}, false));
  if (time_left("donation (new peer joins)"))
    record(s.allocate("a new peer joins and allocates at once", "donation (new peer joins)", {},
                      true));
  if (time_left("rmpeer of that new peer")) {
    out.convergence.push_back(s.rmpeer("rmpeer of that new peer"));
    s.settle();
  }
  if (!time_left("fill")) return;
  std::vector<int> who = s.sample(s.without_space(), fill);
  std::string f = std::to_string(who.size()) + " peers without space";
  bool filled =
      record(s.allocate("fill: " + f + " allocate at once", "fill (" + f + ")", who, false));
  std::vector<int> failed;
  for (int i : who)
    if (s.without_space(i)) failed.push_back(i);
  if (filled && !failed.empty() && time_left("fill, second attempt"))
    // Those whose first attempt failed try again, now that the rings show the new owners.
    filled = record(
        s.allocate("fill, second attempt by the " + std::to_string(failed.size()) + " that failed",
                   "fill, second attempt", failed, false));
  if (filled && time_left("donation into the filled ring"))
    record(s.allocate("a new peer joins the filled cluster", "donation into the filled ring", {},
                      true));
  if (filled && time_left("rmpeer of that new peer (filled ring)"))
    out.convergence.push_back(s.rmpeer("rmpeer of that new peer (filled ring)"));
}

void run_consensus(Run& out, int n, uint64_t seed, double budget, Clock::time_point deadline) {
  InitMode m;
  m.quorum = n;
  Scale s(n, seed, m, budget, deadline);
  out.convergence.push_back(s.build(
      false, "bootstrap, consensus=" + std::to_string(n) + " (all launched at once)", nullptr));
}

// ---- report ------------------------------------------------------------------------------------

std::string pct(const std::vector<int64_t>& v, double p) {
  if (v.empty()) return "–";
  size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  return std::to_string(v[i]);
}

std::string kinds_cell(const Traffic& t) {
  std::string s;
  for (int k = 0; k < kKinds; ++k) {
    if (!t.msgs[k]) continue;
    s += (s.empty() ? "" : ", ") + std::to_string(t.msgs[k]) + " " + kKindName[k];
  }
  return s.empty() ? "none" : s;
}

std::string report(const Run& run, uint64_t seed, double wall, const std::string& command) {
  std::ostringstream o;
  o << "Generated by `" << command << "` (seed " << seed << ") on " << machine()
    << ". Total wall time " << fixed(wall, 0) << " s (CPU " << fixed(cpu_secs(), 0) << " s).\n\n";
  o << "**Local allocation** (one peer owning all of " << kRange
    << ", allocating addresses one after the other, then releasing them): virtual time from "
       "`allocate()` to its callback, and CPU / wall time per call for the first and the last "
       "calls (how the cost grows with the addresses held). The store does its work only in "
       "those windows.\n\n";
  o << "| store, on every save | addresses | virtual ms (max) | allocate, first calls: CPU / "
       "wall µs | allocate, last calls | release, first calls | release, last calls | state "
       "JSON when all are held |\n";
  o << "|---|---:|---:|---:|---:|---:|---:|---:|\n";
  auto call = [](const PerCall& c) { return fixed(c.cpu_us, 1) + " / " + fixed(c.wall_us, 1); };
  for (const auto& r : run.local)
    o << "| " << r.store << " | " << r.count << " (windows of " << r.window << ") | "
      << r.virt_ms_max << " | " << call(r.alloc_first) << " | " << call(r.alloc_last) << " | "
      << call(r.release_first) << " | " << call(r.release_last) << " | "
      << human_bytes(static_cast<double>(r.state_bytes)) << " |\n";
  o << "\n**Allocation that needs space from another peer** (sparse mesh, 3 explicit seeds; "
       "virtual ms from `allocate()` to its callback; IPAM messages are deliveries, so a unicast "
       "relayed over 3 hops counts 3):\n\n";
  o << "| peers | who allocates | done / asked | virtual ms p50 / p90 / max | requests, grants, "
       "refusals | IPAM messages until the last was done | failures |\n";
  o << "|---:|---|---:|---:|---:|---|---|\n";
  for (const auto& l : run.latency) {
    if (!l.measured) {
      o << "| " << l.peers << " | " << l.what << " | " << l.note << " | | | | |\n";
      continue;
    }
    o << "| " << l.peers << " | " << l.what << " | " << l.ok << " / " << l.count
      << (l.note.empty() ? "" : " (" + l.note + ")") << " | " << pct(l.ms, 0.5) << " / "
      << pct(l.ms, 0.9) << " / " << (l.ms.empty() ? "–" : std::to_string(l.ms.back())) << " | "
      << l.requests << ", " << l.grants << ", " << l.refusals << " | " << kinds_cell(l.until_done)
      << " | ";
    for (const auto& [m, k] : l.failures) o << k << " × \"" << m << "\" ";
    o << (l.failures.empty() ? "none" : "") << " |\n";
  }
  o << "\n**Ring convergence** (rings agree = every live peer holds the same ring digest, for "
       "good, checked every "
    << kCheckMs << " ms; traffic = IPAM messages delivered from the event until none for "
    << kQuietMs
    << " ms, anti-entropy digests left out; per peer = received, over the live peers):\n\n";
  o << "| peers | event | rings agree after (virtual) | last IPAM message at | messages | bytes | "
       "msgs/peer mean / max | bytes/peer mean / max | ring after: tokens, owners, bytes | wall / "
       "CPU |\n";
  o << "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const auto& r : run.convergence) {
    if (!r.measured) {
      o << "| " << r.peers << " | " << r.event << " | " << r.note << " | | | | | | | "
        << (r.wall_s > 0 ? fixed(r.wall_s, 1) + " s / " + fixed(r.cpu_s, 1) + " s" : "") << " |\n";
      continue;
    }
    o << "| " << r.peers << " | " << r.event << (r.note.empty() ? "" : " (" + r.note + ")") << " | "
      << (r.agreed ? std::to_string(r.agree_ms) + " ms"
                   : "**not within " + std::to_string(r.agree_ms) + " ms**" +
                         (r.out_of_time ? " (wall budget)" : ""))
      << " | " << (r.last_news_ms < 0 ? std::string("–") : std::to_string(r.last_news_ms) + " ms")
      << " | " << r.traffic.news_msgs() << " | "
      << human_bytes(static_cast<double>(r.traffic.news_bytes())) << " | " << fixed(r.mean_msgs, 1)
      << " / " << r.max_msgs << " | " << human_bytes(r.mean_bytes) << " / "
      << human_bytes(static_cast<double>(r.max_bytes)) << " | " << r.ring_tokens << ", "
      << r.ring_owners << ", " << human_bytes(static_cast<double>(r.ring_bytes)) << " | "
      << fixed(r.wall_s, 1) << " s / " << fixed(r.cpu_s, 1) << " s |\n";
  }
  o << "\nIPAM traffic by kind in each convergence window (messages / bytes):\n\n";
  std::vector<int> kinds;
  for (int k = 0; k < kKinds; ++k) {
    bool any = false;
    for (const auto& r : run.convergence) any = any || (r.measured && r.traffic.msgs[k]);
    if (any) kinds.push_back(k);
  }
  o << "| peers | event |";
  for (int k : kinds) o << " " << kKindName[k] << " |";
  o << "\n|---:|---|";
  for (size_t i = 0; i < kinds.size(); ++i) o << "---:|";
  o << "\n";
  for (const auto& r : run.convergence) {
    if (!r.measured) continue;
    o << "| " << r.peers << " | " << r.event << " |";
    for (int k : kinds)
      o << " " << r.traffic.msgs[k] << " / " << human_bytes(static_cast<double>(r.traffic.bytes[k]))
        << " |";
    o << "\n";
  }
  o << "\nIdle background after the bootstrap (a quiet cluster, 5 s): anti-entropy digests on "
       "the IPAM channel.\n\n";
  o << "| peers | mesh views agreed after | digests per peer per s | bytes per peer per s | other "
       "IPAM messages |\n|---:|---:|---:|---:|---:|\n";
  for (const auto& b : run.background)
    o << "| " << b.peers << " | " << b.mesh_ms << " ms | " << fixed(b.digests_per_peer_s, 2)
      << " | " << fixed(b.bytes_per_peer_s, 1) << " | " << fixed(b.news_msgs, 0) << " |\n";
  return o.str();
}

const char* const kBegin =
    "<!-- weft_bench_ipam:begin (generated by build/bench/weft_bench_ipam; edits inside are "
    "overwritten) -->";
const char* const kEnd = "<!-- weft_bench_ipam:end -->";

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> sizes{200, 1000};
  std::string results = WEFT_BENCH_RESULTS;
  bool partial = false, results_given = false;
  uint64_t seed = 1;
  int allocs = 10'000, json_window = 200, file_window = 100, consensus_max = 200, fill = 200;
  double budget = 45, total_budget = 290;
  std::string command = "build/bench/weft_bench_ipam";
  auto integer = [](int& v, int lowest) {
    return [&v, lowest](const std::string& x) { v = std::max(lowest, std::stoi(x)); };
  };
  std::vector<Option> options{
      {"sizes", "200,1000", [&](const std::string& x) { sizes = parse_int_list(x); }},
      {"seed", "1", [&](const std::string& x) { seed = std::stoull(x); }},
      {"allocs", "10000", integer(allocs, 10)},
      {"json-window", "200", integer(json_window, 0)},
      {"file-window", "100", integer(file_window, 0)},
      {"fill", "200", integer(fill, 1)},
      {"consensus-max", "200", integer(consensus_max, 0)},
      {"budget", "SECONDS per scenario", [&](const std::string& x) { budget = std::stod(x); },
       false},
      {"total-budget", "SECONDS", [&](const std::string& x) { total_budget = std::stod(x); },
       false},
      {"results", "PATH|-",
       [&](const std::string& x) {
         results = x;
         results_given = true;
       },
       false},
  };
  if (!parse_options(argc, argv, options, partial, command)) {
    std::cerr << usage(argv[0], options)
              << "Without options runs everything and writes the tables into " << WEFT_BENCH_RESULTS
              << ".\n";
    return 2;
  }
  if (partial && !results_given) results = "-";
  if (!check_ipam_wire_types()) {
    std::cerr << "the IPAM message type bytes changed: update classify() in " << __FILE__ << "\n";
    return 1;
  }

  auto w0 = Clock::now();
  auto deadline = w0 + std::chrono::milliseconds(static_cast<int64_t>(total_budget * 1000));
  Run run;
  std::string dir = (std::filesystem::temp_directory_path() / "weft_bench_ipam.XXXXXX").string();
  if (!mkdtemp(dir.data())) {
    std::cerr << "cannot create a temporary directory\n";
    return 1;
  }
  for (auto [mode, window] :
       {std::pair{BenchStore::kNone, allocs / 10}, std::pair{BenchStore::kJson, json_window},
        std::pair{BenchStore::kFile, file_window}}) {
    if (window <= 0) continue;
    const LocalResult& r = run.local.emplace_back(local_allocation(mode, allocs, window, dir));
    std::cerr << "local allocation, store: " << r.store << ": " << fixed(r.alloc_first.cpu_us, 1)
              << " → " << fixed(r.alloc_last.cpu_us, 1) << " µs CPU per allocation" << std::endl;
  }
  std::filesystem::remove_all(dir);
  // Smallest first, each size's consensus bootstrap after its other scenarios: a slow machine
  // loses the biggest scenarios, not the small ones.
  std::sort(sizes.begin(), sizes.end());
  for (int n : sizes) {
    if (Clock::now() > deadline)
      run.convergence.push_back(skipped("all", n, "skipped: the run's time budget was used up"));
    else
      run_scale(run, n, fill, seed, budget, deadline);
    std::string event = "bootstrap, consensus=" + std::to_string(n) + " (all launched at once)";
    if (n > consensus_max)
      run.convergence.push_back(
          skipped(event, n,
                  "skipped (--consensus-max=" + std::to_string(consensus_max) +
                      "): every peer broadcasts proposals of N names (8 B each) to every peer"));
    else if (Clock::now() > deadline)
      run.convergence.push_back(skipped(event, n, "skipped: the run's time budget was used up"));
    else
      run_consensus(run, n, seed, budget, deadline);
  }
  std::stable_sort(run.latency.begin(), run.latency.end(),
                   [](const auto& x, const auto& y) { return x.peers < y.peers; });
  std::stable_sort(run.convergence.begin(), run.convergence.end(),
                   [](const auto& x, const auto& y) { return x.peers < y.peers; });
  std::string block = report(run, seed, secs_since(w0), command);
  std::cout << block << std::flush;
  if (results != "-") {
    if (!write_block(results, kBegin, kEnd, "IPAM (simulated)", block)) {
      std::cerr << "cannot write " << results << "\n";
      return 1;
    }
    std::cerr << "wrote " << results << "\n";
  }
  return 0;
}
