// NetworkPolicy validation: one golden message per rule of the API server
// (pkg/apis/networking/validation, apimachinery's ObjectMeta/LabelSelector/name rules), checked
// against the exact text kubectl shows, through parse_policy_documents as `weft policy apply`
// calls it.
#include <doctest/doctest.h>

#include <string>

#include "k8s/name_rules.h"
#include "k8s/policy_documents.h"

using namespace weft::k8s;

namespace {

// The error text of applying `yaml`, or "" when it is accepted.
std::string apply_error(const std::string& yaml) {
  try {
    parse_policy_documents(yaml);
    return "";
  } catch (const PolicyInputError& e) {
    return e.what();
  }
}

// A NetworkPolicy "web" in "default" with `spec` (YAML, indented by 2) as its spec.
std::string policy(const std::string& spec) {
  return "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: web\nspec:\n" +
         spec;
}

const std::string kDoc = "document 1 (NetworkPolicy default/web): ";

}  // namespace

TEST_CASE("field errors print as the API server prints them") {
  CHECK(FieldError::required("metadata.name").to_string() == "metadata.name: Required value");
  CHECK(FieldError::invalid("a.b", "x\"y\n", "bad").to_string() ==
        "a.b: Invalid value: \"x\\\"y\\n\": bad");
  CHECK(FieldError::invalid_number("p", 70000, "d").to_string() == "p: Invalid value: 70000: d");
  CHECK(FieldError::unsupported("t", "X", {"A", "B"}).to_string() ==
        "t: Unsupported value: \"X\": supported values: \"A\", \"B\"");
  CHECK(FieldError::forbidden("f", "no").to_string() == "f: Forbidden: no");
  CHECK(FieldError::unknown_field("spec.foo").to_string() == "unknown field \"spec.foo\"");
  CHECK(go_quote("\x01\xff\xc3\xa9") == "\"\\x01\\xff\xc3\xa9\"");
}

TEST_CASE("the issue's examples: a 16-character port name, a bad operator, an unknown field") {
  CHECK(apply_error(policy("  podSelector: {}\n  ingress:\n  - ports:\n    - port: 80\n    - port: "
                           "abcdefghijklmnop\n")) ==
        kDoc +
            "spec.ingress[0].ports[1].port: Invalid value: \"abcdefghijklmnop\": must be no "
            "more than 15 characters");
  CHECK(apply_error(policy("  podSelector: {}\n  ingress:\n  - ports:\n    - port: 80\n    - port: "
                           "-http\n")) ==
        kDoc +
            "spec.ingress[0].ports[1].port: Invalid value: \"-http\": must not begin or end "
            "with a hyphen");
  CHECK(apply_error(policy("  podSelector:\n    matchExpressions:\n    - key: app\n      operator: "
                           "Bogus\n      values: [a]\n")) ==
        kDoc +
            "spec.podSelector.matchExpressions[0].operator: Invalid value: \"Bogus\": not a "
            "valid selector operator");
  CHECK(apply_error(policy("  podSelector: {}\n  foo: 1\n")) ==
        kDoc + "unknown field \"spec.foo\"");
  CHECK(apply_error(policy("  podSelector: {}\n  ingress:\n  - fromm: []\n")) ==
        kDoc + "unknown field \"spec.ingress[0].fromm\"");
}

TEST_CASE("bad YAML is reported with its line and column") {
  std::string err = apply_error(
      "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n"
      "  name: web\n   bad: [\n");
  CHECK(err.rfind("line ", 0) == 0);
  CHECK(err.find("column") != std::string::npos);
  CHECK(apply_error("a: 1\na: 2\n") == "line 2, column 1: key \"a\" already set in map");
}

TEST_CASE("ports: numbers, names, protocols, endPort") {
  auto port_err = [](const std::string& port_yaml) {
    return apply_error(
        policy("  podSelector: {}\n  egress:\n  - ports:\n    - " + port_yaml + "\n"));
  };
  const std::string p = kDoc + "spec.egress[0].ports[0].";
  CHECK(port_err("port: 70000") ==
        p + "port: Invalid value: 70000: must be between 1 and 65535, inclusive");
  CHECK(port_err("port: 0") ==
        p + "port: Invalid value: 0: must be between 1 and 65535, inclusive");
  CHECK(port_err("protocol: ICMP") ==
        p + "protocol: Unsupported value: \"ICMP\": supported values: \"TCP\", \"UDP\", \"SCTP\"");
  CHECK(port_err("{port: http, endPort: 90}") ==
        p + "endPort: Invalid value: 90: may not be specified when `port` is non-numeric");
  CHECK(port_err("{endPort: 90}") ==
        p + "endPort: Invalid value: 90: may not be specified when `port` is not specified");
  CHECK(port_err("{port: 80, endPort: 79}") ==
        p + "endPort: Invalid value: 80: must be greater than or equal to `port`");
  CHECK(port_err("{port: 80, endPort: 70000}") ==
        p + "endPort: Invalid value: 70000: must be between 1 and 65535, inclusive");
  CHECK(port_err("{port: 80, endPort: 80}") == "");
  CHECK(port_err("port: \"80\"") ==
        p + "port: Invalid value: \"80\": must contain at least one letter (a-z)");
  CHECK(port_err("port: a--b") == p + "port: Invalid value: \"a--b\": must not contain consecutive "
                                      "hyphens");
  CHECK(port_err("port: Http") == p + "port: Invalid value: \"Http\": must contain only "
                                      "alpha-numeric characters (a-z, 0-9), and hyphens (-)");
  CHECK(port_err("port: serve-80-tcp") == "");
  CHECK(port_err("port: 1.5") ==
        p + "port: Invalid value: 1.5: must be a 32-bit integer, not number");
  CHECK(port_err("{protocol: SCTP, port: 9000}") == "");
}

TEST_CASE("peers and ipBlocks") {
  auto peer_err = [](const std::string& peer_yaml) {
    return apply_error(
        policy("  podSelector: {}\n  ingress:\n  - from:\n    - " + peer_yaml + "\n"));
  };
  const std::string p = kDoc + "spec.ingress[0].from[0]";
  CHECK(peer_err("{}") == p + ": Required value: must specify a peer");
  CHECK(peer_err("{ipBlock: {cidr: 10.0.0.0/8}, podSelector: {}}") ==
        p + ": Forbidden: may not specify both ipBlock and another peer");
  CHECK(peer_err("{podSelector: {}, namespaceSelector: {}}") == "");
  CHECK(peer_err("ipBlock: {cidr: 10.0.0.0/33}") ==
        p + ".ipBlock.cidr: Invalid value: \"10.0.0.0/33\": must be a valid CIDR value, (e.g. "
            "10.9.8.0/24 or 2001:db8::/64)");
  CHECK(peer_err("ipBlock: {except: [10.0.0.0/8]}") == p + ".ipBlock.cidr: Required value");
  CHECK(peer_err("ipBlock: {cidr: 10.0.0.0/8, except: [10.0.0.0/8, 11.0.0.0/16, 10.1.0.0/16]}") ==
        p +
            ".ipBlock.except[0]: Invalid value: \"10.0.0.0/8\": must be a strict subset of "
            "`cidr`\n" +
            p +
            ".ipBlock.except[1]: Invalid value: \"11.0.0.0/16\": must be a strict subset of "
            "`cidr`");
  CHECK(peer_err("ipBlock: {cidr: \"2001:db8::/64\", except: [\"2001:db8::/96\"]}") == "");
  CHECK(peer_err("ipBlock: {cidr: 10.1.2.3/8}") == "");  // host bits allowed, as in Go
}

TEST_CASE("selectors") {
  auto sel_err = [](const std::string& expr) {
    return apply_error(policy("  podSelector:\n    matchExpressions:\n    - " + expr + "\n"));
  };
  const std::string p = kDoc + "spec.podSelector.matchExpressions[0].";
  CHECK(sel_err("{key: app, operator: In}") ==
        p + "values: Required value: must be specified when `operator` is 'In' or 'NotIn'");
  CHECK(sel_err("{key: app, operator: Exists, values: [a]}") ==
        p + "values: Forbidden: may not be specified when `operator` is 'Exists' or "
            "'DoesNotExist'");
  CHECK(sel_err("{key: app, operator: In, values: [-a]}") ==
        p + "values[0]: Invalid value: \"-a\": a valid label must be an empty string or consist "
            "of alphanumeric characters, '-', '_' or '.', and must start and end with an "
            "alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for "
            "validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')");
  CHECK(sel_err("{key: a/b/c, operator: Exists}") ==
        p + "key: Invalid value: \"a/b/c\": a qualified name must consist of alphanumeric "
            "characters, '-', '_' or '.', and must start and end with an alphanumeric character "
            "(e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
            "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix "
            "and '/' (e.g. 'example.com/MyName')");
  CHECK(apply_error(policy("  podSelector:\n    matchLabels: {app: yes}\n")) ==
        kDoc +
            "spec.podSelector.matchLabels[app]: Invalid value: true: must be a string, not bool "
            "(YAML reads unquoted y/n, yes/no, on/off and true/false as booleans: quote it)");
}

TEST_CASE("metadata and policyTypes") {
  CHECK(apply_error("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nspec: {}\n") ==
        "document 1 (NetworkPolicy default/): metadata.name: Required value: name or "
        "generateName is required");
  CHECK(apply_error(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: Web}\n") ==
        "document 1 (NetworkPolicy default/Web): metadata.name: Invalid value: \"Web\": a "
        "lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
        "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex "
        "used for validation is "
        "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')");
  CHECK(apply_error("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: w, "
                    "namespace: a.b}\n") ==
        "document 1 (NetworkPolicy a.b/w): metadata.namespace: Invalid value: \"a.b\": must not "
        "contain dots");
  CHECK(apply_error("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: w, "
                    "labels: {-x: ok}}\n")
            .find("metadata.labels: Invalid value: \"-x\": name part must consist of") !=
        std::string::npos);
  CHECK(apply_error(policy("  policyTypes: [Ingress, Bogus]\n")) ==
        kDoc +
            "spec.policyTypes[1]: Unsupported value: \"Bogus\": supported values: "
            "\"Ingress\", \"Egress\"");
  CHECK(apply_error(policy("  policyTypes: [Ingress, Egress, Ingress]\n")) ==
        kDoc +
            "spec.policyTypes: Invalid value: []networking.PolicyType{\"Ingress\", \"Egress\", "
            "\"Ingress\"}: may not specify more than two policyTypes");
  CHECK(apply_error("apiVersion: extensions/v1beta1\nkind: NetworkPolicy\nmetadata: {name: w}\n") ==
        "document 1 (NetworkPolicy w): no matches for kind \"NetworkPolicy\" in version "
        "\"extensions/v1beta1\"");
  CHECK(apply_error("kind: NetworkPolicy\n") == "document 1: apiVersion not set");
}

TEST_CASE("every error of every document is reported") {
  std::string two = policy("  podSelector: {}\n  bar: 1\n") + "---\n" +
                    "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: "
                    "db, namespace: x}\nspec:\n  ingress:\n  - ports: [{port: -http}]\n";
  CHECK(apply_error(two) ==
        kDoc + "unknown field \"spec.bar\"\n" +
            "document 2 (NetworkPolicy x/db): spec.ingress[0].ports[0].port: Invalid value: "
            "\"-http\": must not begin or end with a hyphen");
}

TEST_CASE("name rules on their own") {
  CHECK(dns1123_label_errors("a-1").empty());
  CHECK(dns1123_label_errors(std::string(64, 'a')) ==
        std::vector<std::string>{"must be no more than 63 characters"});
  CHECK(dns1123_subdomain_errors("a.b-c.d").empty());
  CHECK(qualified_name_errors("example.com/My_Name.1").empty());
  CHECK(qualified_name_errors("/a") == std::vector<std::string>{"prefix part must be non-empty"});
  CHECK(label_value_errors("").empty());
  CHECK(label_value_errors(std::string(64, 'v')).size() == 1);
  CHECK(port_name_errors("a").empty());
  CHECK(port_name_errors("123").size() == 1);
}
