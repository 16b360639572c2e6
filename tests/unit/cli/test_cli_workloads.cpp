#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "common/text_table.h"
#include "common/workloads.h"

using weft::WorkloadRecord;
using weft::WorkloadRow;

namespace {

bool has(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

const WorkloadRecord kByName{
    "web-ns", 0, "web", "aa:bb:cc:dd:ee:01", {"10.32.1.5/12"}, "vethwe0123abcd", 4026532316};
const WorkloadRecord kByPid{
    "",        4242, "db", "aa:bb:cc:dd:ee:02", {"10.32.1.6/24", "10.32.1.7/24"}, "vethwe89abcdef",
    4026532400};

}  // namespace

TEST_CASE("workloads.json round-trips") {
  std::vector<WorkloadRecord> records{kByName, kByPid};
  std::string text = weft::workloads_json(records);
  CHECK(weft::parse_workloads_json(text) == records);
  auto j = nlohmann::json::parse(text);
  CHECK(j["workloads"][0]["netns"] == "web-ns");
  CHECK_FALSE(j["workloads"][0].contains("pid"));
  CHECK(j["workloads"][1]["pid"] == 4242);
  CHECK_FALSE(j["workloads"][1].contains("netns"));
  CHECK(weft::parse_workloads_json(R"({"workloads":[]})").empty());
  CHECK(kByName.netns_label() == "web-ns");
  CHECK(kByPid.netns_label() == "pid:4242");
}

TEST_CASE("parse_workloads_json rejects damaged documents") {
  for (const char* bad :
       {"", "{", "[]", R"({"workloads":{}})", R"({"workloads":[1]})",
        R"({"workloads":[{"name":"a","veth":"v","ips":[]}]})",  // neither netns nor pid
        R"({"workloads":[{"netns":"n","pid":3,"name":"a","veth":"v","ips":[]}]})",
        R"({"workloads":[{"netns":"n","name":"a","veth":"v"}]})",
        R"({"workloads":[{"netns":"n","name":"a","veth":"v","ips":[1]}]})",
        R"({"workloads":[{"pid":-1,"name":"a","veth":"v","ips":[]}]})",
        R"({"workloads":[{"netns":"n","veth":"v","ips":[]}]})"}) {
    CAPTURE(bad);
    CHECK_THROWS_AS(weft::parse_workloads_json(bad), std::invalid_argument);
  }
}

TEST_CASE("render_workloads: a table, stale rows marked with what to do") {
  WorkloadRecord labelled = kByName;
  labelled.labels = {{"app", "web"}, {"tier", "front"}};
  std::string out = weft::render_workloads({{labelled, false}, {kByPid, true}});
  CHECK(has(
      out,
      "NETNS            NAMESPACE  NAME  MAC                IPS                        LABELS\n"));
  CHECK(has(out,
            "web-ns           default    web   aa:bb:cc:dd:ee:01  10.32.1.5/12               "
            "app=web,tier=front\n"));
  CHECK(has(out,
            "pid:4242 (gone)  default    db    aa:bb:cc:dd:ee:02  10.32.1.6/24 10.32.1.7/24  -\n"));
  CHECK(has(out, "`weft detach --pid 4242` forgets it."));
  CHECK(has(weft::render_workloads({}), "No workloads attached"));
  // Every host's, with the host's nickname first.
  WorkloadRecord remote = kByName;
  remote.host = "ce:31:e0:06:45:1a";
  remote.host_nickname = "h2";
  remote.ns = "shop";
  std::string all = weft::render_workloads({{remote, false}}, /*all_hosts=*/true);
  CHECK(has(all, "HOST  NETNS   NAMESPACE  NAME"));
  CHECK(has(all, "h2    web-ns  shop       web "));
}

TEST_CASE("a workload's namespace, labels and ports round-trip through its JSON") {
  WorkloadRecord r = kByName;
  r.ns = "shop";
  r.labels = {{"app", "web"}};
  r.ports = {{"http", 8080, "TCP"}, {"dns", 53, "UDP"}};
  auto j = weft::workload_to_json(r);
  CHECK(j["id"] == "web-ns");
  CHECK(weft::workload_from_json(j) == r);
  // A workload from an older file has none: the defaults.
  auto old = weft::workload_from_json(
      nlohmann::json::parse(R"({"netns":"n","name":"a","veth":"v","ips":[]})"));
  CHECK(old.ns == "default");
  CHECK(old.labels.empty());
  CHECK(old.ports.empty());
}

TEST_CASE("render_workloads_json adds stale") {
  auto j = nlohmann::json::parse(weft::render_workloads_json({{kByName, false}, {kByPid, true}}));
  REQUIRE(j.size() == 2);
  CHECK(j[0]["stale"] == false);
  CHECK(j[1]["stale"] == true);
  CHECK(j[1]["ips"].size() == 2);
}

TEST_CASE("text_table pads columns but not the last") {
  CHECK(weft::text_table({{"A", "BB", "C"}, {"aaa", "b", ""}}, "  ") == "  A    BB  C\n  aaa  b\n");
}

TEST_CASE("a container's workload (CNI): keyed cni:ID, its id and network round-trip") {
  WorkloadRecord c = kByName;
  c.netns = "/run/netns/netns-1234";
  c.container_id = "3f2a9c";
  c.network = "weft";
  CHECK(c.id() == "cni:3f2a9c");
  CHECK(c.netns_label() == "/run/netns/netns-1234");
  CHECK(kByName.id() == "web-ns");
  CHECK(kByPid.id() == "pid:4242");
  auto j = weft::workload_to_json(c);
  CHECK(j["id"] == "cni:3f2a9c");
  CHECK(j["container_id"] == "3f2a9c");
  CHECK(j["network"] == "weft");
  CHECK(weft::workload_from_json(j) == c);
  CHECK_FALSE(weft::workload_to_json(kByName).contains("container_id"));
  CHECK(weft::cni_ipam_holder("3f2a9c") == "cni:3f2a9c");
}

TEST_CASE("container_workload_name: a DNS-1123 label from the runtime's name") {
  CHECK(weft::container_workload_name("web-1", "abc") == "web-1");
  CHECK(weft::container_workload_name("eager_turing", "abc") == "eager-turing");
  CHECK(weft::container_workload_name("Web.Front", "abc") == "web-front");
  CHECK(weft::container_workload_name("_x_", "abc") == "x");
  CHECK(weft::container_workload_name("", "3F2A9C0011223344") == "3f2a9c001122");
  CHECK(weft::container_workload_name("___", "___") == "container");
  CHECK(weft::container_workload_name("caf\xc3\xa9", "abc") == "caf");
  CHECK(weft::container_workload_name(std::string(80, 'a'), "abc") == std::string(63, 'a'));
}
