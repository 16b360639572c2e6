// The port guard driven by the router's workload registry (router/os/port_guard_service.h):
// what it asks the backend to do as this host's workloads come, change and go, and at a
// restart; other hosts' workloads are never bound here. A fake backend records the calls;
// tests/integration/test_attack_workload_spoof.sh runs the real thing.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "router/os/port_guard_service.h"
#include "state/entry.h"

using weft::PortBinding;
using weft::PortGuardCounts;
using weft::PortGuardService;
namespace state = weft::state;

namespace {

constexpr weft::PeerName kSelf = 0x0a0000000001ull, kOther = 0x0a0000000002ull;

struct FakeBackend : weft::PortGuardBackend {
  std::vector<std::string> calls;  // "bind vethX ips", "unbind vethX", "sync N"
  std::vector<PortBinding> synced;
  std::map<std::string, PortGuardCounts> counters;
  std::string fail;  // returned by every call when set
  std::string bind(const PortBinding& b) override {
    weft::port_guard_rules::bind(b);  // throws for names weft would not create, as PortGuard does
    calls.push_back("bind " + b.veth + " " + std::to_string(b.ips.size()));
    return fail;
  }
  std::string unbind(const std::string& veth) override {
    calls.push_back("unbind " + veth);
    counters.erase(veth);
    return fail;
  }
  std::string sync(const std::vector<PortBinding>& all) override {
    calls.push_back("sync " + std::to_string(all.size()));
    synced = all;
    return fail;
  }
  std::map<std::string, PortGuardCounts> counts() override { return counters; }
};

std::string workload(const std::string& veth, const std::string& mac, std::vector<std::string> ips,
                     const std::string& label = "a") {
  return nlohmann::json{
      {"id", veth}, {"veth", veth}, {"mac", mac}, {"ips", ips}, {"labels", {{"app", label}}}}
      .dump();
}

state::Change change(weft::PeerName host, const std::string& id, const std::string& value) {
  state::Change c;
  c.kind = state::Kind::kWorkload;
  c.key = state::workload_key(host, id);
  c.deleted = value.empty();
  c.value = value;
  return c;
}

state::Entry entry(weft::PeerName host, const std::string& id, const std::string& value) {
  state::Entry e;
  e.kind = state::Kind::kWorkload;
  e.key = state::workload_key(host, id);
  e.version = {1, kSelf};
  e.value = value;
  return e;
}

uint64_t metric(const std::string& text, const std::string& series) {
  auto at = text.find("\n" + series + " ");
  REQUIRE(at != std::string::npos);
  return std::stoull(text.substr(at + series.size() + 2));
}

}  // namespace

TEST_CASE("port guard service: attach binds, a label edit runs nothing, detach unbinds") {
  FakeBackend be;
  PortGuardService g(kSelf, be, [] { return int64_t{0}; });
  g.start(state::ObjectTable{});
  CHECK(be.calls == std::vector<std::string>{"sync 0"});
  g.on_change(change(kSelf, "w1", workload("vethwe0001", "02:00:00:00:00:01", {"10.32.0.1/12"})));
  g.on_change(change(kOther, "w9", workload("vethwe0009", "02:00:00:00:00:09", {"10.32.0.9/12"})));
  CHECK(be.calls.back() == "bind vethwe0001 1");  // another host's workload: nothing here
  CHECK(g.bound_ports() == 1);
  g.on_change(
      change(kSelf, "w1", workload("vethwe0001", "02:00:00:00:00:01", {"10.32.0.1/12"}, "b")));
  CHECK(be.calls.size() == 2);  // a label changed: the binding did not
  g.on_change(change(
      kSelf, "w1", workload("vethwe0001", "02:00:00:00:00:01", {"10.32.0.1/12", "10.32.0.2/12"})));
  CHECK(be.calls.back() == "bind vethwe0001 2");
  be.counters["vethwe0001"] = {5, 7};
  std::string m = g.metrics_text();
  CHECK(metric(m, "weft_port_guard_bound_ports") == 1);
  CHECK(metric(m, "weft_port_guard_dropped_total{reason=\"spoofed\"}") == 5);
  CHECK(metric(m, "weft_port_guard_dropped_total{reason=\"broadcast_limit\"}") == 7);
  g.on_change(change(kSelf, "w1", ""));  // detached
  CHECK(be.calls.back() == "unbind vethwe0001");
  CHECK(g.bound_ports() == 0);
  // The detached port's drops stay counted.
  m = g.metrics_text();
  CHECK(metric(m, "weft_port_guard_bound_ports") == 0);
  CHECK(metric(m, "weft_port_guard_dropped_total{reason=\"spoofed\"}") == 5);
  CHECK(metric(m, "weft_port_guard_errors_total") == 0);
}

TEST_CASE("port guard service: a restart binds exactly this host's live workloads") {
  state::ObjectTable t;
  t.put(entry(kSelf, "w1", workload("vethwe0001", "02:00:00:00:00:01", {"10.32.0.1/12"})));
  t.put(entry(kSelf, "w2", workload("vethwe0002", "02:00:00:00:00:02", {"10.32.0.2/12"})));
  t.put(entry(kOther, "w9", workload("vethwe0009", "02:00:00:00:00:09", {"10.32.0.9/12"})));
  state::Entry gone = entry(kSelf, "w3", "");
  gone.deleted = true;
  t.put(gone);
  t.put(entry(kSelf, "w4",
              nlohmann::json{{"id", "w4"}, {"ips", {"10.32.0.4/12"}}}.dump()));  // no port
  FakeBackend be;
  PortGuardService g(kSelf, be, [] { return int64_t{0}; });
  g.start(t);
  REQUIRE(be.synced.size() == 2);
  CHECK(be.synced[0].veth == "vethwe0001");
  CHECK(be.synced[1].veth == "vethwe0002");
  CHECK(be.synced[1].ips == std::vector<uint32_t>{0x0a200002});
  CHECK(g.bound_ports() == 2);
}

TEST_CASE("port guard service: failures are counted and the next change tries again") {
  FakeBackend be;
  be.fail = "nft: No such file or directory";
  PortGuardService g(kSelf, be, [] { return int64_t{0}; });
  g.start(state::ObjectTable{});
  g.on_change(change(kSelf, "w1", workload("vethwe0001", "02:00:00:00:00:01", {"10.32.0.1/12"})));
  // A name weft never creates is refused before it reaches nft.
  g.on_change(change(kSelf, "w2", workload("eth0", "02:00:00:00:00:02", {"10.32.0.2/12"})));
  CHECK(g.errors() == 3);
  CHECK(metric(g.metrics_text(), "weft_port_guard_errors_total") == 3);
  be.fail.clear();
  g.on_change(change(kSelf, "w1", ""));
  CHECK(be.calls.back() == "unbind vethwe0001");
  CHECK(g.errors() == 3);
}

TEST_CASE("port guard service: a port name two records share keeps its binding") {
  FakeBackend be;
  PortGuardService g(kSelf, be, [] { return int64_t{0}; });
  g.start(state::ObjectTable{});
  g.on_change(change(kSelf, "old", workload("vethwe0001", "02:00:00:00:00:01", {"10.32.0.1/12"})));
  g.on_change(change(kSelf, "new", workload("vethwe0001", "02:00:00:00:00:05", {"10.32.0.5/12"})));
  g.on_change(change(kSelf, "old", ""));  // the stale record goes; the live one keeps the port
  CHECK(be.calls.back() == "bind vethwe0001 1");
  CHECK(g.bound_ports() == 1);
}
