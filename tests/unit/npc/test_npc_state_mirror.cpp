// weft-npc's view of the router's watch stream: the chunked NDJSON decoder and the state mirror.
#include <doctest/doctest.h>

#include "npc/state_mirror.h"
#include "npc/watch_stream.h"

using namespace weft::npc;
using nlohmann::json;

namespace {

std::string chunked(const std::vector<std::string>& chunks, bool last = false) {
  std::string out;
  for (const std::string& c : chunks) {
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", c.size());
    out += size + c + "\r\n";
  }
  if (last) out += "0\r\n\r\n";
  return out;
}

const std::string kHead =
    "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n";

json workload(const std::string& host, const std::string& id, const std::string& name,
              const std::string& ns, const std::string& ip, const std::string& pod) {
  return {{"host", host},        {"id", id},
          {"name", name},        {"namespace", ns},
          {"ips", {ip + "/12"}}, {"labels", {{"pod", pod}}}};
}

json policy(const std::string& ns, const std::string& name, const std::string& pod) {
  return {
      {"apiVersion", "networking.k8s.io/v1"},
      {"kind", "NetworkPolicy"},
      {"metadata", {{"name", name}, {"namespace", ns}}},
      {"spec", {{"podSelector", {{"matchLabels", {{"pod", pod}}}}}, {"policyTypes", {"Ingress"}}}}};
}

json snapshot_event(uint64_t rev, const json& workloads, const json& policies) {
  return {{"type", "snapshot"},
          {"revision", rev},
          {"epoch", "e1"},
          {"state",
           {{"workloads", workloads},
            {"namespaces", json::array({{{"name", "x"}, {"labels", {{"ns", "x"}}}}})},
            {"policies", policies}}}};
}

json change(uint64_t rev, const std::string& kind, const std::string& key, const json& object) {
  json c = {{"type", "change"}, {"revision", rev}, {"kind", kind}, {"key", key}};
  c["op"] = object.is_null() ? "delete" : "upsert";
  if (!object.is_null()) c["object"] = object;
  return c;
}

}  // namespace

TEST_CASE("watch stream: the same lines whatever pieces the bytes come in") {
  std::string lines = R"({"type":"snapshot"})"
                      "\n"
                      R"({"a":1})"
                      "\n\n"
                      R"({"b":2})"
                      "\n";
  // Chunk boundaries fall inside lines on purpose.
  std::string wire = kHead + chunked({lines.substr(0, 7), lines.substr(7, 15), lines.substr(22)});
  for (size_t piece : {size_t{1}, size_t{2}, size_t{3}, size_t{7}, wire.size()}) {
    CAPTURE(piece);
    WatchStreamDecoder d;
    std::vector<std::string> out;
    for (size_t i = 0; i < wire.size(); i += piece)
      d.feed(std::string_view(wire).substr(i, piece), out);
    REQUIRE(out.size() == 3);
    CHECK(out[0] == R"({"type":"snapshot"})");
    CHECK(out[2] == R"({"b":2})");
    CHECK_FALSE(d.ended());
  }
  WatchStreamDecoder d;
  std::vector<std::string> out;
  d.feed(kHead + chunked({"x\n"}, true), out);
  CHECK(d.ended());
  CHECK(out == std::vector<std::string>{"x"});
}

TEST_CASE("watch stream: refusals, malformed chunking and oversized lines are errors") {
  std::vector<std::string> out;
  {
    WatchStreamDecoder d;
    CHECK_THROWS_WITH_AS(
        d.feed("HTTP/1.1 403 Forbidden\r\nContent-Length: 20\r\n\r\n{\"error\":\"no\"}", out),
        doctest::Contains("answered 403: {\"error\":\"no\"}"), WatchStreamError);
  }
  {
    WatchStreamDecoder d;
    CHECK_THROWS_AS(d.feed(kHead + "zz\r\n", out), WatchStreamError);
  }
  {
    WatchStreamDecoder d;
    CHECK_THROWS_AS(d.feed(kHead + "2\r\nabXY", out), WatchStreamError);  // no CRLF after data
  }
  {
    WatchStreamDecoder d;
    CHECK_THROWS_AS(d.feed("SSH-2.0-OpenSSH\r\n\r\n", out), WatchStreamError);
  }
  {
    WatchStreamDecoder d(16);
    CHECK_THROWS_WITH_AS(d.feed(kHead + chunked({std::string(17, 'a')}), out),
                         doctest::Contains("over 16 bytes"), WatchStreamError);
    WatchStreamDecoder ok(16);
    CHECK_NOTHROW(ok.feed(kHead + chunked({std::string(16, 'a') + "\n"}), out));
  }
  // A body without chunking (an older router) is read as lines too.
  WatchStreamDecoder d;
  out.clear();
  d.feed("HTTP/1.1 200 OK\r\n\r\na\nb\n", out);
  CHECK(out == std::vector<std::string>{"a", "b"});
}

TEST_CASE("state mirror: a snapshot, then changes, equals a snapshot of the final state") {
  const json wa = workload("h1", "nsa", "a", "x", "10.32.0.1", "a");
  const json wb = workload("h2", "nsb", "b", "x", "10.32.0.2", "b");
  StateMirror m;
  CHECK_FALSE(m.synced());
  CHECK_THROWS_AS(m.apply(change(1, "policy", "x/p", policy("x", "p", "a"))),
                  std::invalid_argument);  // never a change before the state it changes

  CHECK(m.apply(snapshot_event(5, json::array({wa}), json::array())));
  CHECK(m.synced());
  CHECK(m.revision() == 5);
  CHECK(m.epoch() == "e1");
  CHECK(m.snapshot().view.workloads.size() == 1);

  CHECK(m.apply(change(6, "workload", "h2/nsb", wb)));
  CHECK(m.apply(change(7, "policy", "x/p", policy("x", "p", "a"))));
  CHECK_FALSE(m.apply(change(8, "policy", "x/p", policy("x", "p", "a"))));  // same again
  CHECK(m.apply(change(9, "policy", "x/p", policy("x", "p", "b"))));
  CHECK(m.apply(change(10, "workload", "h1/nsa", nullptr)));  // detached (key from the snapshot)
  CHECK_FALSE(m.apply(change(11, "dns_record", "web", json{{"ips", {"1.2.3.4"}}})));
  CHECK(m.revision() == 11);

  StateMirror fresh;
  fresh.apply(snapshot_event(11, json::array({wb}), json::array({policy("x", "p", "b")})));
  CHECK(m.snapshot().view.workloads == fresh.snapshot().view.workloads);
  REQUIRE(m.snapshot().view.policies.size() == 1);
  CHECK(m.snapshot().view.policies[0].name == "p");
  CHECK(m.snapshot().view.workloads[0].name == "b");

  // A resume must be of our own run; a new snapshot replaces everything.
  CHECK_FALSE(m.apply({{"type", "resume"}, {"revision", 11}, {"epoch", "e1"}}));
  CHECK_THROWS_AS(m.apply({{"type", "resume"}, {"revision", 3}, {"epoch", "other"}}),
                  std::invalid_argument);
  CHECK(m.apply(snapshot_event(1, json::array(), json::array())));
  CHECK(m.snapshot().view.workloads.empty());
  CHECK(m.snapshot().view.policies.empty());
}

TEST_CASE("state mirror: malformed events are refused, bad entries become problems") {
  StateMirror m;
  for (const json& bad :
       {json(1), json{{"type", "snapshot"}}, json{{"type", "bogus"}, {"revision", 1}},
        json{{"type", "snapshot"}, {"revision", -1}, {"epoch", "e"}, {"state", {}}},
        json{{"type", "snapshot"}, {"revision", 1}, {"epoch", "e"}, {"state", 3}}}) {
    CAPTURE(bad.dump());
    CHECK_THROWS_AS(m.apply(bad), std::invalid_argument);
  }
  CHECK_FALSE(m.synced());
  json broken = policy("x", "broken", "a");
  broken["spec"]["podSelector"] = "not a selector";
  m.apply(snapshot_event(1, json::array(), json::array({broken, policy("x", "ok", "a")})));
  ClusterSnapshot s = m.snapshot();
  CHECK(s.view.policies.size() == 1);
  REQUIRE(s.problems.size() == 1);
  CHECK(s.problems[0].find("x/broken is not enforced") != std::string::npos);
  json odd = change(2, "workload", "h1/a", nullptr);
  odd["op"] = "explode";
  CHECK_THROWS_AS(m.apply(odd), std::invalid_argument);
}
