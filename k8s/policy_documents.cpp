#include "k8s/policy_documents.h"

namespace weft::k8s {

namespace {

std::string render(const std::vector<DocumentErrors>& documents) {
  std::string out;
  for (const DocumentErrors& d : documents) {
    std::string prefix = d.document.empty() ? "" : d.document + ": ";
    if (!d.message.empty()) out += (out.empty() ? "" : "\n") + prefix + d.message;
    for (const FieldError& e : d.errors) out += (out.empty() ? "" : "\n") + prefix + e.to_string();
  }
  return out;
}

std::string string_field(const nlohmann::json& obj, const char* name) {
  auto it = obj.find(name);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : "";
}

class Reader {
 public:
  Reader(const std::string& default_namespace, PolicyDocuments& out,
         std::vector<DocumentErrors>& failures)
      : default_namespace_(default_namespace), out_(out), failures_(failures) {}

  // One object: `where` is "document N" or "document N, item M".
  void object(const nlohmann::json& obj, const std::string& where, bool in_list) {
    if (!obj.is_object()) {
      failures_.push_back({where,
                           {},
                           "not a Kubernetes object (expected a mapping with apiVersion "
                           "and kind)"});
      return;
    }
    std::string api = string_field(obj, "apiVersion"), kind = string_field(obj, "kind");
    std::string name;
    if (auto m = obj.find("metadata"); m != obj.end() && m->is_object())
      name = string_field(*m, "name");
    if (api.empty() || kind.empty()) {
      std::string missing = api.empty() && kind.empty() ? "apiVersion not set, kind not set"
                            : api.empty()               ? "apiVersion not set"
                                                        : "kind not set";
      failures_.push_back({where, {}, missing});
      return;
    }
    if (kind == "List" && !in_list) {
      auto items = obj.find("items");
      if (items == obj.end() || items->is_null()) return;
      if (!items->is_array()) {
        failures_.push_back({where, {}, "items: must be a list"});
        return;
      }
      for (size_t i = 0; i < items->size(); ++i)
        object((*items)[i], where + ", item " + std::to_string(i + 1), true);
      return;
    }
    if (kind != kNetworkPolicyKind) {
      out_.skipped.push_back(kind + "/" + name + " (" + where + "): not a NetworkPolicy, skipped");
      return;
    }
    if (api != kNetworkPolicyApiVersion) {
      failures_.push_back({where + " (NetworkPolicy " + name + ")",
                           {},
                           "no matches for kind \"NetworkPolicy\" in version \"" + api + "\""});
      return;
    }
    FieldErrors errors;
    NetworkPolicy np = decode_network_policy(obj, default_namespace_, errors);
    std::string label = where + " (NetworkPolicy " + np.ns + "/" + np.name + ")";
    if (!errors.empty()) {
      failures_.push_back({label, std::move(errors), ""});
      return;
    }
    out_.policies.push_back(std::move(np));
  }

 private:
  const std::string& default_namespace_;
  PolicyDocuments& out_;
  std::vector<DocumentErrors>& failures_;
};

}  // namespace

PolicyInputError::PolicyInputError(std::vector<DocumentErrors> documents_)
    : std::runtime_error(render(documents_)), documents(std::move(documents_)) {}

PolicyDocuments parse_policy_documents(std::string_view text, const std::string& default_namespace,
                                       const YamlLimits& limits) {
  std::vector<YamlDocument> docs;
  try {
    docs = parse_yaml_documents(text, limits);
  } catch (const YamlError& e) {
    throw PolicyInputError({{"", {}, e.what()}});
  }
  PolicyDocuments out;
  std::vector<DocumentErrors> failures;
  Reader reader(default_namespace, out, failures);
  for (size_t i = 0; i < docs.size(); ++i) {
    if (docs[i].value.is_null()) continue;
    reader.object(docs[i].value, "document " + std::to_string(i + 1), false);
  }
  if (!failures.empty()) throw PolicyInputError(std::move(failures));
  return out;
}

}  // namespace weft::k8s
