// Reading `policy apply` input: YAML and JSON, several documents, Lists, other kinds skipped,
// the model's defaults and inferred policyTypes, the canonical form's round trips, and the
// bounds on untrusted input.
#include <doctest/doctest.h>

#include <string>

#include "k8s/policy_documents.h"

using namespace weft::k8s;

namespace {

const char* const kWeb = R"(
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: web
  namespace: x
  labels: {team: a}
spec:
  podSelector:
    matchLabels: {pod: a}
  ingress:
  - from:
    - podSelector: {matchLabels: {pod: b}}
      namespaceSelector: {matchLabels: {ns: "y"}}
    - ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}
    ports:
    - port: serve-80-tcp
    - {protocol: UDP, port: 81}
    - {port: 1000, endPort: 2000}
  egress:
  - {}
)";

void check_round_trip(const NetworkPolicy& p) {
  nlohmann::json j = to_json(p);
  NetworkPolicy back = network_policy_from_json(nlohmann::json::parse(j.dump()));
  CHECK(back == p);
  CHECK(to_json(back) == j);
  PolicyDocuments again = parse_policy_documents(to_yaml(j));
  REQUIRE(again.policies.size() == 1);
  CHECK(again.policies[0] == p);
}

}  // namespace

TEST_CASE("a complete policy decodes with the API's defaults and round-trips") {
  PolicyDocuments d = parse_policy_documents(kWeb);
  REQUIRE(d.policies.size() == 1);
  const NetworkPolicy& p = d.policies[0];
  CHECK(p.key() == "x/web");
  CHECK(p.pod_selector.match_labels == Labels{{"pod", "a"}});
  REQUIRE(p.ingress.size() == 1);
  REQUIRE(p.ingress[0].peers.size() == 2);
  CHECK(p.ingress[0].peers[0].pod_selector->match_labels == Labels{{"pod", "b"}});
  CHECK(p.ingress[0].peers[0].namespace_selector->match_labels == Labels{{"ns", "y"}});
  CHECK(p.ingress[0].peers[1].ip_block->except == std::vector<std::string>{"10.1.0.0/16"});
  REQUIRE(p.ingress[0].ports.size() == 3);
  CHECK(p.ingress[0].ports[0].named_port == "serve-80-tcp");
  CHECK(p.ingress[0].ports[0].protocol == "TCP");
  CHECK(p.ingress[0].ports[1].protocol == "UDP");
  CHECK(p.ingress[0].ports[2].end_port == 2000);
  CHECK(p.isolates_ingress());
  CHECK(p.isolates_egress());  // inferred from the egress rule
  // The spec is kept as written: no protocol was added.
  CHECK_FALSE(p.spec["ingress"][0]["ports"][0].contains("protocol"));
  check_round_trip(p);
}

TEST_CASE("policyTypes inferred and explicit") {
  auto one = [](const std::string& spec) {
    return parse_policy_documents(
               "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
               "metadata: {name: p}\nspec: " +
               spec)
        .policies.at(0);
  };
  NetworkPolicy deny_in = one("{podSelector: {}}");
  CHECK(deny_in.isolates_ingress());
  CHECK_FALSE(deny_in.isolates_egress());
  CHECK_FALSE(one("{egress: []}").isolates_egress());
  NetworkPolicy deny_out = one("{policyTypes: [Egress]}");
  CHECK_FALSE(deny_out.isolates_ingress());
  CHECK(deny_out.isolates_egress());
  CHECK(one("{}").key() == "default/p");
  // `ports: [{}]` is every TCP port, not every port.
  NetworkPolicy tcp = one("{ingress: [{ports: [{}]}]}");
  CHECK(tcp.ingress[0].ports[0].all_ports());
  CHECK(tcp.ingress[0].ports[0].protocol == "TCP");
}

TEST_CASE("several documents, a List, JSON, other kinds skipped, empty documents ignored") {
  std::string text = std::string("---\n") + kWeb +
                     "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n---\n"
                     "---\n" +
                     R"({"apiVersion": "v1", "kind": "List", "items": [
                          {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                           "metadata": {"name": "a"}, "spec": {}},
                          {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}}]})";
  PolicyDocuments d = parse_policy_documents(text, "ns1");
  REQUIRE(d.policies.size() == 2);
  CHECK(d.policies[1].key() == "ns1/a");
  CHECK(d.skipped ==
        std::vector<std::string>{"Deployment/web (document 2): not a NetworkPolicy, skipped",
                                 "Service/s (document 4, item 2): not a NetworkPolicy, skipped"});
  PolicyDocuments j = parse_policy_documents(
      R"({"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"j"},)"
      R"("spec":{"ingress":[{"ports":[{"port":80}]}]}})");
  REQUIRE(j.policies.size() == 1);
  CHECK(j.policies[0].ingress[0].ports[0].port == 80);
  check_round_trip(j.policies[0]);
  CHECK(parse_policy_documents("").policies.empty());
}

TEST_CASE("applying the same text twice compares equal; a change does not") {
  NetworkPolicy a = parse_policy_documents(kWeb).policies.at(0);
  NetworkPolicy b = parse_policy_documents(kWeb).policies.at(0);
  CHECK(a == b);
  std::string changed = kWeb;
  changed.replace(changed.find("port: 81"), 8, "port: 82");
  CHECK_FALSE(parse_policy_documents(changed).policies.at(0) == a);
}

TEST_CASE("YAML scalars resolve as kubectl resolves them") {
  CHECK(resolve_plain_scalar("80") == 80);
  CHECK(resolve_plain_scalar("0x50") == 80);
  CHECK(resolve_plain_scalar("0120") == 80);  // go-yaml v2 reads a leading 0 as octal
  CHECK(resolve_plain_scalar("1_000") == 1000);
  CHECK(resolve_plain_scalar("80.0") == 80);  // integral floats are integers in JSON
  CHECK(resolve_plain_scalar("yes") == true);
  CHECK(resolve_plain_scalar("Off") == false);
  CHECK(resolve_plain_scalar("~").is_null());
  CHECK(resolve_plain_scalar("http") == "http");
  CHECK(resolve_plain_scalar("1.2.3.4") == "1.2.3.4");
  nlohmann::json tricky = {{"a", "yes"}, {"b", "80"}, {"c", ""}, {"d", "null"}, {"e", "x: y"}};
  CHECK(parse_yaml_documents(to_yaml(tricky)).at(0).value == tricky);
}

TEST_CASE("untrusted input is bounded") {
  YamlLimits small;
  small.max_bytes = 100;
  CHECK_THROWS_AS(parse_policy_documents(std::string(101, ' '), "default", small),
                  PolicyInputError);
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "{a: ";
  CHECK_THROWS_WITH_AS(parse_policy_documents(deep + "1" + std::string(100, '}')),
                       doctest::Contains("nested deeper"), PolicyInputError);
  CHECK_THROWS_AS(parse_policy_documents(std::string(100000, '[')), PolicyInputError);
  // A billion laughs: each level doubles the nodes an alias expands to.
  std::string laughs = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 12; ++i) {
    std::string prev = "*a" + std::to_string(i - 1);
    laughs += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [" + prev;
    for (int k = 1; k < 10; ++k) laughs += ", " + prev;
    laughs += "]\n";
  }
  CHECK_THROWS_WITH_AS(parse_policy_documents(laughs), doctest::Contains("too many nodes"),
                       PolicyInputError);
  std::string many;
  for (int i = 0; i < 10'001; ++i) many += "---\na: 1\n";
  CHECK_THROWS_WITH_AS(parse_policy_documents(many), doctest::Contains("documents"),
                       PolicyInputError);
}
