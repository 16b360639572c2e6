#include "k8s/labels.h"

#include <algorithm>

namespace weft::k8s {

void add_rule_errors(const std::vector<std::string>& messages, const std::string& path,
                     const std::string& value, FieldErrors& errors) {
  for (const std::string& m : messages) errors.push_back(FieldError::invalid(path, value, m));
}

void validate_label_key(const std::string& key, const std::string& path, FieldErrors& errors) {
  add_rule_errors(qualified_name_errors(key), path, key, errors);
}

void validate_labels(const Labels& labels, const std::string& path, FieldErrors& errors) {
  for (const auto& [k, v] : labels) {
    validate_label_key(k, path, errors);
    add_rule_errors(label_value_errors(v), path, v, errors);
  }
}

LabelChanges parse_label_changes(const std::vector<std::string>& args) {
  LabelChanges out;
  for (const std::string& arg : args) {
    size_t eq = arg.find('=');
    if (eq != std::string::npos) {
      if (arg.find('=', eq + 1) != std::string::npos)
        throw LabelChangeError("invalid label spec: " + arg);
      std::string k = arg.substr(0, eq), v = arg.substr(eq + 1);
      std::vector<std::string> errs = label_value_errors(v);
      if (!errs.empty()) {
        std::string joined;
        for (size_t i = 0; i < errs.size(); ++i) joined += (i ? ";" : "") + errs[i];
        throw LabelChangeError("invalid label value: " + go_quote(arg) + ": " + joined);
      }
      FieldErrors key_errors;
      validate_label_key(k, "metadata.labels", key_errors);
      if (!key_errors.empty()) throw LabelChangeError(join_errors(key_errors, "; "));
      out.set[k] = v;
    } else if (!arg.empty() && arg.back() == '-') {
      std::string k = arg.substr(0, arg.size() - 1);
      if (std::find(out.remove.begin(), out.remove.end(), k) == out.remove.end())
        out.remove.push_back(k);
    } else {
      throw LabelChangeError("unknown label spec: " + arg);
    }
  }
  for (const std::string& k : out.remove)
    if (out.set.count(k))
      throw LabelChangeError("can not both modify and remove a label in the same command");
  return out;
}

std::vector<std::string> apply_label_changes(Labels& labels, const LabelChanges& changes,
                                             bool overwrite) {
  if (!overwrite) {
    std::string msg;
    for (const auto& [k, v] : changes.set) {
      auto it = labels.find(k);
      if (it != labels.end() && it->second != v)
        msg += (msg.empty() ? "" : "; ") +
               ("'" + k + "' already has a value (" + it->second + "), and --overwrite is false");
    }
    if (!msg.empty()) throw LabelChangeError(msg);
  }
  std::vector<std::string> warnings;
  for (const std::string& k : changes.remove)
    if (labels.erase(k) == 0) warnings.push_back("label " + go_quote(k) + " not found.");
  for (const auto& [k, v] : changes.set) labels[k] = v;
  return warnings;
}

}  // namespace weft::k8s
