// The router's /state snapshot read into a ClusterView.
#include <doctest/doctest.h>

#include "npc/cluster_view_json.h"

using namespace weft::npc;

TEST_CASE("a snapshot with workloads, namespaces and policies") {
  nlohmann::json state = nlohmann::json::parse(R"({
    "revision": 42,
    "workloads": [{"host": "h1", "netns": "/run/netns/a", "pid": 0, "name": "a", "namespace": "x",
                   "labels": {"pod": "a"}, "ports": [{"name": "serve-80-tcp", "port": 80, "protocol": "TCP"}],
                   "mac": "02:00:00:00:00:01", "ips": ["10.32.0.5/12"], "veth": "vethwe1234abcd"},
                  {"host": "h2", "name": "b", "ips": ["10.32.0.6/12"], "ports": [{"name": "p", "port": 0}]}],
    "namespaces": [{"name": "x", "labels": {"ns": "x"}}],
    "policies": [{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                  "metadata": {"name": "p", "namespace": "x"}, "spec": {"podSelector": {}}},
                 {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                  "metadata": {"name": "bad", "namespace": "x"}, "spec": {"podSelector": 3}}],
    "future": true})");
  ClusterSnapshot s = parse_cluster_snapshot(state);
  CHECK(s.revision == 42);
  REQUIRE(s.view.workloads.size() == 1);
  const Workload& w = s.view.workloads[0];
  CHECK(w.key() == "x/a");
  CHECK(w.ips == std::vector<std::string>{"10.32.0.5"});
  CHECK(w.ports == std::vector<NamedPort>{{"serve-80-tcp", 80, "TCP"}});
  CHECK(w.veth == "vethwe1234abcd");
  CHECK(s.view.namespace_labels("x") ==
        weft::k8s::Labels{{"ns", "x"}, {"kubernetes.io/metadata.name", "x"}});
  CHECK(s.view.namespace_labels("other") ==
        weft::k8s::Labels{{"kubernetes.io/metadata.name", "other"}});
  REQUIRE(s.view.policies.size() == 1);
  CHECK(s.view.policies[0].key() == "x/p");
  REQUIRE(s.problems.size() == 2);
  CHECK(s.problems[0] == "workload 1: port \"p\" has no number in 1..65535");
  CHECK(s.problems[1].rfind("policy x/bad is not enforced: spec.podSelector: Invalid value: 3",
                            0) == 0);
  CHECK_THROWS_AS(parse_cluster_snapshot(nlohmann::json::array()), std::invalid_argument);
  CHECK_THROWS_AS(parse_cluster_snapshot({{"workloads", 1}}), std::invalid_argument);
}
