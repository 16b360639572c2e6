// Label selectors against a naive evaluator of the Kubernetes semantics, and `kubectl label`'s
// argument rules.
#include <doctest/doctest.h>

#include <random>
#include <set>

#include "k8s/label_selector.h"
#include "k8s/labels.h"

using namespace weft::k8s;

namespace {

// The Kubernetes definition, written as sets: the selector is the intersection of the sets of
// label maps each requirement admits (matchLabels k=v being "k In (v)").
bool naive_matches(const LabelSelector& s, const Labels& labels) {
  std::vector<LabelSelectorRequirement> reqs = s.match_expressions;
  for (const auto& [k, v] : s.match_labels) reqs.push_back({k, SelectorOperator::kIn, {v}});
  int admitted = 0;
  for (const LabelSelectorRequirement& r : reqs) {
    std::set<std::string> values(r.values.begin(), r.values.end());
    bool has = labels.count(r.key) > 0;
    std::string v = has ? labels.at(r.key) : "";
    bool ok = r.op == SelectorOperator::kIn       ? has && values.count(v)
              : r.op == SelectorOperator::kNotIn  ? !(has && values.count(v))
              : r.op == SelectorOperator::kExists ? has
                                                  : !has;
    admitted += ok ? 1 : 0;
  }
  return admitted == int(reqs.size());
}

}  // namespace

TEST_CASE("an empty selector selects everything; each operator as Kubernetes defines it") {
  LabelSelector all;
  CHECK(all.matches({}));
  CHECK(all.matches({{"a", "b"}}));
  LabelSelector in{{}, {{"pod", SelectorOperator::kIn, {"a", "b"}}}};
  CHECK(in.matches({{"pod", "a"}}));
  CHECK_FALSE(in.matches({{"pod", "c"}}));
  CHECK_FALSE(in.matches({}));
  LabelSelector notin{{}, {{"pod", SelectorOperator::kNotIn, {"a"}}}};
  CHECK(notin.matches({}));  // an absent key is "not in"
  CHECK(notin.matches({{"pod", "b"}}));
  CHECK_FALSE(notin.matches({{"pod", "a"}}));
  LabelSelector ex{{}, {{"pod", SelectorOperator::kExists, {}}}};
  CHECK(ex.matches({{"pod", ""}}));
  CHECK_FALSE(ex.matches({}));
  LabelSelector dne{{}, {{"pod", SelectorOperator::kDoesNotExist, {}}}};
  CHECK(dne.matches({}));
  CHECK_FALSE(dne.matches({{"pod", "a"}}));
  LabelSelector both{{{"ns", "x"}}, {{"pod", SelectorOperator::kIn, {"a"}}}};
  CHECK(both.matches({{"ns", "x"}, {"pod", "a"}}));
  CHECK_FALSE(both.matches({{"ns", "y"}, {"pod", "a"}}));
}

TEST_CASE("selector matching agrees with the naive evaluator on random selectors and labels") {
  std::mt19937 rng(42);
  const std::vector<std::string> keys = {"a", "b", "c"}, values = {"x", "y", "z"};
  auto pick = [&](const std::vector<std::string>& v) { return v[rng() % v.size()]; };
  int matched = 0;
  for (int round = 0; round < 5000; ++round) {
    LabelSelector s;
    for (int i = int(rng() % 3); i > 0; --i) s.match_labels[pick(keys)] = pick(values);
    for (int i = int(rng() % 3); i > 0; --i) {
      LabelSelectorRequirement r{pick(keys), SelectorOperator(rng() % 4), {}};
      if (r.op == SelectorOperator::kIn || r.op == SelectorOperator::kNotIn)
        for (int j = 1 + int(rng() % 2); j > 0; --j) r.values.push_back(pick(values));
      s.match_expressions.push_back(r);
    }
    Labels l;
    for (int i = int(rng() % 4); i > 0; --i) l[pick(keys)] = pick(values);
    CHECK(s.matches(l) == naive_matches(s, l));
    matched += s.matches(l);
    // The canonical form is the same however expressions are ordered.
    LabelSelector r = s;
    std::reverse(r.match_expressions.begin(), r.match_expressions.end());
    CHECK(r.canonical() == s.canonical());
  }
  CHECK(matched > 500);  // both outcomes are exercised
  CHECK(matched < 4500);
}

TEST_CASE("selectors decode from JSON and back") {
  FieldErrors errors;
  nlohmann::json j = {{"matchLabels", {{"pod", "a"}}},
                      {"matchExpressions",
                       {{{"key", "ns"}, {"operator", "NotIn"}, {"values", {"y", "z"}}},
                        {{"key", "env"}, {"operator", "Exists"}}}}};
  LabelSelector s = label_selector_from_json(j, "spec.podSelector", errors);
  CHECK(errors.empty());
  CHECK(to_json(s) == j);
  CHECK(s.canonical() == "env,ns notin (y,z),pod=a");
  CHECK(label_selector_from_json(nlohmann::json::object(), "p", errors).empty());
}

TEST_CASE("kubectl label arguments") {
  LabelChanges c = parse_label_changes({"a=1", "b=", "c-", "a=2"});
  CHECK(c.set == Labels{{"a", "2"}, {"b", ""}});
  CHECK(c.remove == std::vector<std::string>{"c"});
  Labels l{{"c", "x"}, {"d", "y"}};
  CHECK(apply_label_changes(l, c).empty());
  CHECK(l == Labels{{"a", "2"}, {"b", ""}, {"d", "y"}});
  CHECK(apply_label_changes(l, parse_label_changes({"zz-"})) ==
        std::vector<std::string>{"label \"zz\" not found."});
  CHECK_THROWS_WITH_AS(apply_label_changes(l, parse_label_changes({"d=z"}), false),
                       "'d' already has a value (y), and --overwrite is false", LabelChangeError);
  CHECK(l.at("d") == "y");
  CHECK_THROWS_WITH_AS(parse_label_changes({"a=b=c"}), "invalid label spec: a=b=c",
                       LabelChangeError);
  CHECK_THROWS_WITH_AS(parse_label_changes({"a"}), "unknown label spec: a", LabelChangeError);
  CHECK_THROWS_WITH_AS(parse_label_changes({"a=1", "a-"}),
                       "can not both modify and remove a label in the same command",
                       LabelChangeError);
  CHECK_THROWS_WITH_AS(
      parse_label_changes({"a=-x"}),
      "invalid label value: \"a=-x\": a valid label must be an empty string or consist of "
      "alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
      "character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is "
      "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
      LabelChangeError);
  CHECK_THROWS_AS(parse_label_changes({"bad key=1"}), LabelChangeError);
}
