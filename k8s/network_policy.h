#pragma once
// The networking.k8s.io/v1 NetworkPolicy: its model, strict decoding from JSON and validation
// exactly as the API server validates it (pkg/apis/networking/validation: ValidateNetworkPolicy,
// with ObjectMeta's name/namespace/labels/annotations rules), and its canonical JSON form.
//
// The canonical form keeps the spec as the user wrote it (YAML converted to JSON; no defaults
// added) with apiVersion, kind and metadata {name, namespace, labels and annotations if given}:
// applying the same text twice yields equal JSON, so "unchanged" is a comparison. The model
// beside it is the decoded spec with the API defaults applied (protocol TCP, inferred
// policyTypes), which is what enforcement reads. Pure.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "k8s/field_error.h"
#include "k8s/label_selector.h"
#include "k8s/labels.h"

namespace weft::k8s {

inline constexpr const char* kNetworkPolicyApiVersion = "networking.k8s.io/v1";
inline constexpr const char* kNetworkPolicyKind = "NetworkPolicy";
// ObjectMeta's limit on all annotations together (TotalAnnotationSizeLimitB).
inline constexpr int64_t kTotalAnnotationSizeLimit = 256 * 1024;

// One entry of a rule's `ports`. Absent port = every port of the protocol.
struct PolicyPort {
  std::string protocol = "TCP";     // "TCP", "UDP" or "SCTP" (absent means TCP)
  std::optional<int32_t> port;      // a numeric port
  std::string named_port;           // or a named port (resolved per destination workload)
  std::optional<int32_t> end_port;  // with a numeric port: the range port..end_port
  bool all_ports() const { return !port && named_port.empty(); }
  bool operator==(const PolicyPort&) const = default;
};

struct IpBlock {
  std::string cidr;                 // "10.0.0.0/8" or "2001:db8::/64"
  std::vector<std::string> except;  // each strictly inside cidr
  bool operator==(const IpBlock&) const = default;
};

// One entry of `from`/`to`: a podSelector (in the policy's namespace unless namespaceSelector is
// given too: then AND), a namespaceSelector (all pods of the selected namespaces), or an ipBlock.
struct PolicyPeer {
  std::optional<LabelSelector> pod_selector;
  std::optional<LabelSelector> namespace_selector;
  std::optional<IpBlock> ip_block;
  bool operator==(const PolicyPeer&) const = default;
};

// An ingress rule (peers = `from`) or an egress rule (peers = `to`). Empty ports = all ports;
// empty peers = every source or destination. The rule admits a flow when a peer matches AND a
// port matches.
struct PolicyRule {
  std::vector<PolicyPort> ports;
  std::vector<PolicyPeer> peers;
  bool operator==(const PolicyRule&) const = default;
};

struct NetworkPolicy {
  std::string name;
  std::string ns;                     // namespace
  std::optional<Labels> labels;       // as given (kept in the canonical form only if given)
  std::optional<Labels> annotations;  // likewise

  LabelSelector pod_selector;             // empty: every workload of the namespace
  std::vector<std::string> policy_types;  // as written ("Ingress", "Egress"); may be empty
  std::vector<PolicyRule> ingress;
  std::vector<PolicyRule> egress;

  nlohmann::json spec = nlohmann::json::object();  // exactly as written

  // The effective policyTypes (the API server's defaulting): as written when given; otherwise
  // Ingress always, and Egress when the spec has at least one egress rule.
  bool isolates_ingress() const;
  bool isolates_egress() const;
  // "namespace/name"
  std::string key() const { return ns + "/" + name; }
};

// Equal canonical forms (to_json).
bool operator==(const NetworkPolicy& a, const NetworkPolicy& b);

// Decodes one NetworkPolicy object (apiVersion, kind, metadata, spec) and validates it, appending
// every error, in the API server's order (metadata, then spec). A missing metadata.namespace
// takes `default_namespace`. The result is meaningful only when no error was added.
NetworkPolicy decode_network_policy(const nlohmann::json& object,
                                    const std::string& default_namespace, FieldErrors& errors);

// The canonical form (see the file comment).
nlohmann::json to_json(const NetworkPolicy& policy);

// Thrown by network_policy_from_json for anything but a valid canonical policy; what() lists
// the field errors, one per line.
struct InvalidPolicy : std::invalid_argument {
  InvalidPolicy(const FieldErrors& errors_);
  FieldErrors errors;
};

// Parses a stored canonical form (to_json's output). Throws InvalidPolicy.
NetworkPolicy network_policy_from_json(const nlohmann::json& object);

}  // namespace weft::k8s
