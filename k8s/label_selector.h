#pragma once
// metav1.LabelSelector: matchLabels plus matchExpressions (In, NotIn, Exists, DoesNotExist), all
// ANDed; an empty selector matches everything (as in a NetworkPolicy's podSelector and
// namespaceSelector). Decoded strictly from JSON and validated as ValidateLabelSelector does
// (apimachinery/pkg/apis/meta/v1/validation), with its messages. Pure.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "k8s/field_error.h"
#include "k8s/labels.h"

namespace weft::k8s {

enum class SelectorOperator { kIn, kNotIn, kExists, kDoesNotExist };

// "In", "NotIn", "Exists", "DoesNotExist".
const char* to_string(SelectorOperator op);

struct LabelSelectorRequirement {
  std::string key;
  SelectorOperator op = SelectorOperator::kIn;
  std::vector<std::string> values;  // In/NotIn: at least one; Exists/DoesNotExist: none
  bool operator==(const LabelSelectorRequirement&) const = default;
};

struct LabelSelector {
  Labels match_labels;
  std::vector<LabelSelectorRequirement> match_expressions;

  // No label and no expression: selects everything.
  bool empty() const { return match_labels.empty() && match_expressions.empty(); }
  // Every matchLabels pair is present and every expression holds: In = key present with one of
  // the values; NotIn = key absent or its value none of them; Exists; DoesNotExist.
  bool matches(const Labels& labels) const;
  // A canonical text form, the same for selectors that differ only in order of expressions or
  // values: "a=b,c in (x,y),d notin (z),e,!f" (kubectl's syntax); "" for the empty selector.
  // Equal strings mean equal selection (used to name and share ipsets).
  std::string canonical() const;
  bool operator==(const LabelSelector&) const = default;
};

// Decodes a LabelSelector at `path` (e.g. "spec.podSelector") and validates it, appending every
// decoding and validation error. Unknown operators are reported ("Invalid value: \"Bogus\": not
// a valid selector operator") and kept as In in the returned (then unusable) selector.
LabelSelector label_selector_from_json(const nlohmann::json& value, const std::string& path,
                                       FieldErrors& errors);

// {"matchLabels": {...}, "matchExpressions": [...]} with empty parts left out.
nlohmann::json to_json(const LabelSelector& selector);

}  // namespace weft::k8s
