#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "common/status_render.h"

using nlohmann::json;
using weft::parse_status_view;
using weft::peer_label;
using weft::render_status;
using weft::render_status_json;
using weft::StatusView;

namespace {

bool has(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

const json kStatus = json::parse(R"({
  "version":"0.1.0","name":"ce:31:e0:06:45:1a","nickname":"h1","encryption":true,"port":6783,
  "discovery":true,
  "peers":[
    {"name":"ce:31:e0:06:45:1a","nickname":"h1","reachable":true,"connections":[
      {"name":"ce:31:e0:06:45:1b","nickname":"h2","address":"10.9.0.2:6783","outbound":true,
       "established":true}]},
    {"name":"ce:31:e0:06:45:1b","nickname":"h2","reachable":true,"connections":[
      {"name":"ce:31:e0:06:45:1a","nickname":"h1","address":"10.9.0.1:40122","outbound":false,
       "established":true}]},
    {"name":"ce:31:e0:06:45:1c","nickname":"h3","reachable":false,"connections":[]}],
  "connections":[
    {"address":"10.9.0.2:6783","outbound":true,"state":"established","peer":"ce:31:e0:06:45:1b",
     "nickname":"h2","info":"encrypted, protocol v1"},
    {"address":"10.9.0.3:6783","outbound":true,"state":"failed",
     "info":"authentication failed, do both hosts use the same secret?"}],
  "targets":["10.9.0.2:6783","10.9.0.3:6783"],
  "routes":[{"destination":"ce:31:e0:06:45:1b","nickname":"h2","next_hop":"ce:31:e0:06:45:1b",
             "hops":1}]})");

}  // namespace

TEST_CASE("parse_status_view knows the three views") {
  CHECK(parse_status_view("peers") == StatusView::kPeers);
  CHECK(parse_status_view("connections") == StatusView::kConnections);
  CHECK(parse_status_view("targets") == StatusView::kTargets);
  CHECK_FALSE(parse_status_view("routes"));
}

TEST_CASE("peer_label shows whatever is known") {
  CHECK(peer_label("ce:31:e0:06:45:1a", "h1") == "ce:31:e0:06:45:1a (h1)");
  CHECK(peer_label("ce:31:e0:06:45:1a", "") == "ce:31:e0:06:45:1a");
  CHECK(peer_label("", "h1") == "(h1)");
  CHECK(peer_label("", "") == "-");
}

TEST_CASE("the summary shows identity, counts and the connections table") {
  std::string s = render_status(kStatus, StatusView::kSummary);
  CHECK(has(s, "Name: ce:31:e0:06:45:1a (h1)\n"));
  CHECK(has(s, "Version: 0.1.0\n"));
  CHECK(has(s, "Encryption: on\n"));
  CHECK(has(s, "Peers: 3 (2 reachable)\n"));
  CHECK(has(s, "Connections: 2 (1 established, 1 failed)\n"));
  CHECK(has(s, "Targets: 2\n"));
  CHECK(has(s, "ADDRESS        DIRECTION  STATE        PEER"));
  CHECK(has(s, "10.9.0.2:6783  outbound   established  ce:31:e0:06:45:1b (h2)  encrypted"));
  CHECK(has(s, "authentication failed, do both hosts use the same secret?"));
  CHECK_FALSE(has(s, "ENCRYPTION IS OFF"));
  // Labels are right-aligned on their colons.
  CHECK(has(s, "\n         Name: "));
  CHECK(has(s, "\n  Connections: "));
}

TEST_CASE("the summary puts an unencrypted mesh's warning first") {
  json st = kStatus;
  st["encryption"] = false;
  std::string s = render_status(st, StatusView::kSummary);
  CHECK(s.rfind("ENCRYPTION IS OFF: traffic between peers is readable on the network\n", 0) == 0);
  CHECK(has(s, "Encryption: off\n"));
}

TEST_CASE("missing or mistyped fields never throw") {
  for (const json& st : {json::object(), json::array(), json(nullptr), json::parse(R"({
         "name":7,"encryption":"yes","peers":{"x":1},"connections":[1,"x",{"state":3}],
         "targets":[1,"a"]})")}) {
    CAPTURE(st.dump());
    for (auto v : {StatusView::kSummary, StatusView::kPeers, StatusView::kConnections,
                   StatusView::kTargets}) {
      CHECK_NOTHROW(render_status(st, v));
      CHECK_NOTHROW(render_status_json(st, v));
    }
  }
  std::string s = render_status(json::object(), StatusView::kSummary);
  CHECK(has(s, "Encryption: unknown"));
  CHECK(has(s, "No connections, and no peers to connect to: `weft connect HOST` adds one."));
}

TEST_CASE("a connection before its handshake has no peer yet") {
  json st = {{"connections",
              {{{"address", "10.9.0.4:6783"}, {"outbound", true}, {"state", "connecting"}}}}};
  std::string s = render_status(st, StatusView::kConnections);
  CHECK(has(s, "10.9.0.4:6783  outbound   connecting  -"));
}

TEST_CASE("the peers view lists each peer's connections") {
  std::string s = render_status(kStatus, StatusView::kPeers);
  CHECK(has(
      s, "ce:31:e0:06:45:1a (h1)\n   ->  10.9.0.2:6783   ce:31:e0:06:45:1b (h2)  established\n"));
  CHECK(has(s, "   <-  10.9.0.1:40122  ce:31:e0:06:45:1a (h1)  established\n"));
  CHECK(has(s, "ce:31:e0:06:45:1c (h3)  (unreachable)\n   (no connections)\n"));
}

TEST_CASE("the targets view lists targets or says how to add one") {
  CHECK(render_status(kStatus, StatusView::kTargets) == "10.9.0.2:6783\n10.9.0.3:6783\n");
  CHECK(has(render_status(json::object(), StatusView::kTargets), "`weft connect HOST`"));
}

TEST_CASE("JSON output is the document or the view's member") {
  CHECK(json::parse(render_status_json(kStatus, StatusView::kSummary)) == kStatus);
  CHECK(json::parse(render_status_json(kStatus, StatusView::kTargets)) == kStatus["targets"]);
  CHECK(render_status_json(json::object(), StatusView::kPeers) == "[]\n");
}
