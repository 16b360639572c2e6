// MeshCore's dialer (router/mesh/mesh_core.h), issue 10: however many unreachable targets, at
// most max_concurrent_dials connections are open at once; a dial that does not finish its
// handshake in time is closed; forgetting (or replacing) a target closes its dial in progress.
// A fake MeshIo records which connections are open.
#include <doctest/doctest.h>

#include <set>
#include <string>
#include <vector>

#include "router/mesh/mesh_core.h"

namespace {

struct FakeIo : weft::MeshIo {
  std::set<weft::ConnId> open;
  size_t max_open = 0;
  void dial(weft::ConnId id, const std::string&) override {
    open.insert(id);
    max_open = std::max(max_open, open.size());
  }
  void send(weft::ConnId, weft::Bytes) override {}
  void close(weft::ConnId id) override { open.erase(id); }
  void log(weft::LogLevel, const std::string&) override {}
  void targets_changed(const std::vector<std::string>&) override {}
};

std::vector<std::string> unreachable(int n) {
  std::vector<std::string> t;
  for (int i = 0; i < n; ++i)
    t.push_back("10.77." + std::to_string(i / 250) + "." + std::to_string(1 + i % 250));
  return t;
}

weft::MeshConfig config() {
  weft::MeshConfig cfg;
  cfg.self.name = 0x0a0000000001;
  cfg.self.nickname = "self";
  cfg.max_concurrent_dials = 64;
  return cfg;
}

}  // namespace

TEST_CASE("3,000 unreachable targets never hold more than max_concurrent_dials connections") {
  FakeIo io;
  weft::MeshCore mesh(config(), io);
  mesh.start({}, 0);
  auto targets = unreachable(3000);
  mesh.connect(targets, false, 0);
  CHECK(io.open.size() == 64);
  CHECK(mesh.metrics().dials_waiting == 3000 - 64);
  // Nothing ever answers: dials time out (8 s) and the next wave starts, for two minutes.
  int64_t t = 0;
  for (; t <= 120'000; t += 250) mesh.on_timer(t);
  CHECK(io.max_open == 64);
  CHECK(mesh.metrics().dials_started > 64 * 10);
  // Forgetting every target closes the dials in progress at once.
  mesh.forget(targets, t);
  CHECK(io.open.empty());
  CHECK(mesh.targets().empty());
  CHECK(mesh.metrics().dials_abandoned == 64);
  for (int64_t u = t; u <= t + 20'000; u += 250) mesh.on_timer(u);
  CHECK(io.open.empty());  // and nothing is dialed again
}

TEST_CASE("replacing the targets closes the dials of the replaced ones") {
  FakeIo io;
  weft::MeshCore mesh(config(), io);
  mesh.start({}, 0);
  mesh.connect(unreachable(10), false, 0);
  CHECK(io.open.size() == 10);
  mesh.connect({"10.88.0.1"}, true, 100);
  CHECK(io.open.size() == 1);
  CHECK(mesh.targets() == std::vector<std::string>{"10.88.0.1:6783"});
}
