#include "k8s/label_selector.h"

#include <algorithm>

#include "k8s/json_decode.h"

namespace weft::k8s {

const char* to_string(SelectorOperator op) {
  switch (op) {
    case SelectorOperator::kIn:
      return "In";
    case SelectorOperator::kNotIn:
      return "NotIn";
    case SelectorOperator::kExists:
      return "Exists";
    case SelectorOperator::kDoesNotExist:
      return "DoesNotExist";
  }
  return "In";
}

bool LabelSelector::matches(const Labels& labels) const {
  for (const auto& [k, v] : match_labels) {
    auto it = labels.find(k);
    if (it == labels.end() || it->second != v) return false;
  }
  for (const LabelSelectorRequirement& r : match_expressions) {
    auto it = labels.find(r.key);
    bool has = it != labels.end();
    bool listed = has && std::find(r.values.begin(), r.values.end(), it->second) != r.values.end();
    switch (r.op) {
      case SelectorOperator::kIn:
        if (!listed) return false;
        break;
      case SelectorOperator::kNotIn:
        if (listed) return false;
        break;
      case SelectorOperator::kExists:
        if (!has) return false;
        break;
      case SelectorOperator::kDoesNotExist:
        if (has) return false;
        break;
    }
  }
  return true;
}

std::string LabelSelector::canonical() const {
  std::vector<std::string> parts;
  for (const auto& [k, v] : match_labels) parts.push_back(k + "=" + v);
  for (const LabelSelectorRequirement& r : match_expressions) {
    std::vector<std::string> vals = r.values;
    std::sort(vals.begin(), vals.end());
    vals.erase(std::unique(vals.begin(), vals.end()), vals.end());
    std::string list;
    for (size_t i = 0; i < vals.size(); ++i) list += (i ? "," : "") + vals[i];
    switch (r.op) {
      case SelectorOperator::kIn:
        parts.push_back(r.key + " in (" + list + ")");
        break;
      case SelectorOperator::kNotIn:
        parts.push_back(r.key + " notin (" + list + ")");
        break;
      case SelectorOperator::kExists:
        parts.push_back(r.key);
        break;
      case SelectorOperator::kDoesNotExist:
        parts.push_back("!" + r.key);
        break;
    }
  }
  std::sort(parts.begin(), parts.end());
  parts.erase(std::unique(parts.begin(), parts.end()), parts.end());
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? "," : "") + parts[i];
  return out;
}

LabelSelector label_selector_from_json(const nlohmann::json& value, const std::string& path,
                                       FieldErrors& errors) {
  LabelSelector sel;
  ObjectFields f(value, path, errors, {"matchLabels", "matchExpressions"});
  if (auto m = f.string_map("matchLabels")) {
    sel.match_labels = *m;
    validate_labels(sel.match_labels, f.at("matchLabels"), errors);
  }
  std::vector<const nlohmann::json*> exprs = f.list("matchExpressions");
  for (size_t i = 0; i < exprs.size(); ++i) {
    std::string p = index(f.at("matchExpressions"), i);
    ObjectFields e(*exprs[i], p, errors, {"key", "operator", "values"});
    LabelSelectorRequirement r;
    r.key = e.string("key").value_or("");
    std::string op = e.string("operator").value_or("");
    r.values = e.string_list("values");
    if (op == "In" || op == "NotIn") {
      r.op = op == "In" ? SelectorOperator::kIn : SelectorOperator::kNotIn;
      if (r.values.empty())
        errors.push_back(FieldError::required(
            e.at("values"), "must be specified when `operator` is 'In' or 'NotIn'"));
    } else if (op == "Exists" || op == "DoesNotExist") {
      r.op = op == "Exists" ? SelectorOperator::kExists : SelectorOperator::kDoesNotExist;
      if (!r.values.empty())
        errors.push_back(FieldError::forbidden(
            e.at("values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
    } else {
      errors.push_back(FieldError::invalid(e.at("operator"), op, "not a valid selector operator"));
    }
    validate_label_key(r.key, e.at("key"), errors);
    for (size_t j = 0; j < r.values.size(); ++j)
      add_rule_errors(label_value_errors(r.values[j]), index(e.at("values"), j), r.values[j],
                      errors);
    sel.match_expressions.push_back(std::move(r));
  }
  return sel;
}

nlohmann::json to_json(const LabelSelector& selector) {
  nlohmann::json j = nlohmann::json::object();
  if (!selector.match_labels.empty()) j["matchLabels"] = selector.match_labels;
  if (!selector.match_expressions.empty()) {
    nlohmann::json list = nlohmann::json::array();
    for (const LabelSelectorRequirement& r : selector.match_expressions) {
      nlohmann::json e = {{"key", r.key}, {"operator", to_string(r.op)}};
      if (!r.values.empty()) e["values"] = r.values;
      list.push_back(std::move(e));
    }
    j["matchExpressions"] = std::move(list);
  }
  return j;
}

}  // namespace weft::k8s
