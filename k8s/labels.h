#pragma once
// Labels (string keys to string values, as on every Kubernetes object), their validation as the
// API server validates metadata.labels, and `kubectl label`'s command-line changes
// (`K=V` sets, `K-` removes) for `weft label` and `weft namespace label`. Pure.
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "k8s/field_error.h"
#include "k8s/name_rules.h"

namespace weft::k8s {

using Labels = std::map<std::string, std::string>;

// ValidateLabels: every key a qualified name, every value a valid label value. Errors go to
// `path` itself (Kubernetes does not index label errors by key): `metadata.labels: Invalid value:
// "-x": ...`, in key order.
void validate_labels(const Labels& labels, const std::string& path, FieldErrors& errors);
// ValidateLabelName: one key.
void validate_label_key(const std::string& key, const std::string& path, FieldErrors& errors);

// Appends FieldError::invalid(path, value, m) for each message m of a name rule (name_rules.h).
void add_rule_errors(const std::vector<std::string>& messages, const std::string& path,
                     const std::string& value, FieldErrors& errors);

// What `kubectl label` arguments ask for: labels to set and keys to remove.
struct LabelChanges {
  Labels set;
  std::vector<std::string> remove;  // in argument order, no duplicates
  bool operator==(const LabelChanges&) const = default;
};

// Thrown for a bad argument; what() is kubectl's message ("invalid label spec: a=b=c",
// "unknown label spec: a", "invalid label value: \"a=-x\": ...", "can not both modify and remove
// a label in the same command"); a bad key gets the API server's
// `metadata.labels: Invalid value: "K": ...` (kubectl leaves that check to the server).
struct LabelChangeError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

// Parses `K=V` and `K-` arguments as kubectl does (a later `K=V` for the same key wins).
LabelChanges parse_label_changes(const std::vector<std::string>& args);

// Applies changes to labels. Without `overwrite`, changing the value of an existing key throws
// LabelChangeError("'K' already has a value (V), and --overwrite is false") and changes nothing.
// Returns kubectl's warnings for keys to remove that were not there (`label "K" not found.`).
std::vector<std::string> apply_label_changes(Labels& labels, const LabelChanges& changes,
                                             bool overwrite = true);

}  // namespace weft::k8s
