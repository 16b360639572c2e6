#pragma once
// What `weft policy apply -f FILE` reads: what `kubectl apply -f` takes for NetworkPolicies.
// YAML or JSON; one document or several separated by `---`; or a `kind: List` whose items are
// the objects. NetworkPolicies are decoded and validated (network_policy.h); other kinds are
// reported and skipped; empty documents are ignored. Everything is validated before anything is
// returned, so an invalid document rejects the whole input. Untrusted input: bounded as
// yaml_json.h says. Pure.
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "k8s/field_error.h"
#include "k8s/network_policy.h"
#include "k8s/yaml_json.h"

namespace weft::k8s {

struct PolicyDocuments {
  std::vector<NetworkPolicy> policies;  // in input order (a later copy of one NS/NAME wins when
                                        // applied in order, as with kubectl)
  // One line per object skipped: "Deployment/web (document 2): not a NetworkPolicy, skipped".
  std::vector<std::string> skipped;
};

// One document (or List item) that failed: its label and its errors.
struct DocumentErrors {
  // "document 1 (NetworkPolicy default/web)", "document 2, item 3 (NetworkPolicy x/y)",
  // "document 4" when it has no name.
  std::string document;
  FieldErrors errors;   // empty when `message` says what is wrong instead
  std::string message;  // a document-level problem ("apiVersion not set", a YAML error)
};

// what(): one line per error, each prefixed with its document, e.g.
//   document 1 (NetworkPolicy default/web): spec.ingress[0].ports[1].port: Invalid value: "-http":
//   ... line 3, column 7: illegal map value          (a YAML syntax error)
struct PolicyInputError : std::runtime_error {
  explicit PolicyInputError(std::vector<DocumentErrors> documents_);
  std::vector<DocumentErrors> documents;
};

// Parses and validates `text`. A policy without metadata.namespace takes `default_namespace`.
// Throws PolicyInputError (never anything else for bad input).
PolicyDocuments parse_policy_documents(std::string_view text,
                                       const std::string& default_namespace = "default",
                                       const YamlLimits& limits = {});

}  // namespace weft::k8s
