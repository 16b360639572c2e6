#include "k8s/network_policy.h"

#include <algorithm>

#include "k8s/ip_cidr.h"
#include "k8s/json_decode.h"

namespace weft::k8s {

namespace {

const char* const kInvalidCidr = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)";

// ValidateObjectMeta for a namespaced object whose name is a DNS-1123 subdomain, with the
// decoding of the metadata fields an apply may carry (server-set ones are accepted and dropped).
void decode_metadata(const ObjectFields& top, const std::string& default_namespace,
                     NetworkPolicy& np, FieldErrors& errors) {
  const nlohmann::json null;
  const nlohmann::json* m = top.get("metadata");
  ObjectFields meta(
      m ? *m : null, "metadata", errors,
      {"name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation",
       "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "labels",
       "annotations", "ownerReferences", "finalizers", "managedFields"});
  np.name = meta.string("name").value_or("");
  np.ns = meta.string("namespace").value_or("");
  if (np.ns.empty()) np.ns = default_namespace;
  np.labels = meta.string_map("labels");
  np.annotations = meta.string_map("annotations");

  if (np.name.empty())
    errors.push_back(FieldError::required("metadata.name", "name or generateName is required"));
  else
    add_rule_errors(dns1123_subdomain_errors(np.name), "metadata.name", np.name, errors);
  if (np.ns.empty())
    errors.push_back(FieldError::required("metadata.namespace"));
  else
    add_rule_errors(dns1123_label_errors(np.ns), "metadata.namespace", np.ns, errors);
  if (np.labels) validate_labels(*np.labels, "metadata.labels", errors);
  if (np.annotations) {
    int64_t total = 0;
    for (const auto& [k, v] : *np.annotations) {
      std::string lower = k;
      std::transform(lower.begin(), lower.end(), lower.begin(),
                     [](unsigned char c) { return char(std::tolower(c)); });
      for (const std::string& msg : qualified_name_errors(lower))
        errors.push_back(FieldError::invalid("metadata.annotations", k, msg));
      total += int64_t(k.size() + v.size());
    }
    if (total > kTotalAnnotationSizeLimit)
      errors.push_back(FieldError::too_long("metadata.annotations", kTotalAnnotationSizeLimit));
  }
}

PolicyPort decode_port(const nlohmann::json& value, const std::string& path, FieldErrors& errors) {
  PolicyPort p;
  ObjectFields f(value, path, errors, {"protocol", "port", "endPort"});
  if (auto proto = f.string("protocol")) {
    p.protocol = *proto;
    if (p.protocol != "TCP" && p.protocol != "UDP" && p.protocol != "SCTP")
      errors.push_back(
          FieldError::unsupported(f.at("protocol"), p.protocol, {"TCP", "UDP", "SCTP"}));
  }
  bool port_given = false, port_numeric = false;
  if (const nlohmann::json* port = f.get("port")) {
    if (port->is_string()) {
      port_given = true;
      p.named_port = port->get<std::string>();
    } else if (auto n = as_int32(*port, f.at("port"), errors)) {
      port_given = port_numeric = true;
      p.port = *n;
    }
  }
  if (const nlohmann::json* end = f.get("endPort"))
    p.end_port = as_int32(*end, f.at("endPort"), errors);

  // ValidateNetworkPolicyPort.
  if (port_numeric) {
    for (const std::string& m : port_number_errors(*p.port))
      errors.push_back(FieldError::invalid_number(f.at("port"), *p.port, m));
    if (p.end_port) {
      if (*p.end_port < *p.port)
        errors.push_back(FieldError::invalid_number(f.at("endPort"), *p.port,
                                                    "must be greater than or equal to `port`"));
      for (const std::string& m : port_number_errors(*p.end_port))
        errors.push_back(FieldError::invalid_number(f.at("endPort"), *p.end_port, m));
    }
  } else if (port_given) {
    if (p.end_port)
      errors.push_back(FieldError::invalid_number(
          f.at("endPort"), *p.end_port, "may not be specified when `port` is non-numeric"));
    add_rule_errors(port_name_errors(p.named_port), f.at("port"), p.named_port, errors);
  } else if (p.end_port) {
    errors.push_back(FieldError::invalid_number(
        f.at("endPort"), *p.end_port, "may not be specified when `port` is not specified"));
  }
  return p;
}

IpBlock decode_ip_block(const nlohmann::json& value, const std::string& path, FieldErrors& errors) {
  IpBlock b;
  ObjectFields f(value, path, errors, {"cidr", "except"});
  b.cidr = f.string("cidr").value_or("");
  b.except = f.string_list("except");
  // ValidateIPBlock.
  if (b.cidr.empty()) {
    errors.push_back(FieldError::required(f.at("cidr")));
    return b;
  }
  std::optional<IpCidr> cidr = parse_ip_cidr(b.cidr);
  if (!cidr) {
    errors.push_back(FieldError::invalid(f.at("cidr"), b.cidr, kInvalidCidr));
    return b;
  }
  for (size_t i = 0; i < b.except.size(); ++i) {
    std::string p = index(f.at("except"), i);
    std::optional<IpCidr> ex = parse_ip_cidr(b.except[i]);
    if (!ex) {
      errors.push_back(FieldError::invalid(p, b.except[i], kInvalidCidr));
      continue;
    }
    if (!cidr->contains(ex->network) || cidr->prefix >= ex->prefix)
      errors.push_back(FieldError::invalid(p, b.except[i], "must be a strict subset of `cidr`"));
  }
  return b;
}

PolicyPeer decode_peer(const nlohmann::json& value, const std::string& path, FieldErrors& errors) {
  PolicyPeer peer;
  ObjectFields f(value, path, errors, {"podSelector", "namespaceSelector", "ipBlock"});
  int peers = 0;
  if (const nlohmann::json* s = f.get("podSelector")) {
    ++peers;
    peer.pod_selector = label_selector_from_json(*s, f.at("podSelector"), errors);
  }
  if (const nlohmann::json* s = f.get("namespaceSelector")) {
    ++peers;
    peer.namespace_selector = label_selector_from_json(*s, f.at("namespaceSelector"), errors);
  }
  if (const nlohmann::json* b = f.get("ipBlock")) {
    ++peers;
    peer.ip_block = decode_ip_block(*b, f.at("ipBlock"), errors);
  }
  if (peers == 0)
    errors.push_back(FieldError::required(path, "must specify a peer"));
  else if (peers > 1 && peer.ip_block)
    errors.push_back(FieldError::forbidden(path, "may not specify both ipBlock and another peer"));
  return peer;
}

std::vector<PolicyRule> decode_rules(const ObjectFields& spec, const char* field,
                                     const char* peers_field, FieldErrors& errors) {
  std::vector<PolicyRule> rules;
  std::vector<const nlohmann::json*> items = spec.list(field);
  for (size_t i = 0; i < items.size(); ++i) {
    std::string path = index(spec.at(field), i);
    ObjectFields r(*items[i], path, errors, {"ports", peers_field});
    PolicyRule rule;
    std::vector<const nlohmann::json*> ports = r.list("ports");
    for (size_t j = 0; j < ports.size(); ++j)
      rule.ports.push_back(decode_port(*ports[j], index(r.at("ports"), j), errors));
    std::vector<const nlohmann::json*> peers = r.list(peers_field);
    for (size_t j = 0; j < peers.size(); ++j)
      rule.peers.push_back(decode_peer(*peers[j], index(r.at(peers_field), j), errors));
    rules.push_back(std::move(rule));
  }
  return rules;
}

// Go's %#v of a []networking.PolicyType, as the API server prints it for too many policyTypes.
std::string go_policy_types(const std::vector<std::string>& types) {
  std::string s = "[]networking.PolicyType{";
  for (size_t i = 0; i < types.size(); ++i) s += (i ? ", " : "") + go_quote(types[i]);
  return s + "}";
}

void decode_spec(const ObjectFields& top, NetworkPolicy& np, FieldErrors& errors) {
  const nlohmann::json* s = top.get("spec");
  np.spec = s ? *s : nlohmann::json::object();
  ObjectFields spec(np.spec, "spec", errors, {"podSelector", "policyTypes", "ingress", "egress"});
  if (const nlohmann::json* sel = spec.get("podSelector"))
    np.pod_selector = label_selector_from_json(*sel, spec.at("podSelector"), errors);
  np.ingress = decode_rules(spec, "ingress", "from", errors);
  np.egress = decode_rules(spec, "egress", "to", errors);
  np.policy_types = spec.string_list("policyTypes");
  if (np.policy_types.size() > 2) {
    errors.push_back(FieldError::invalid_raw(spec.at("policyTypes"),
                                             go_policy_types(np.policy_types),
                                             "may not specify more than two policyTypes"));
    return;
  }
  for (size_t i = 0; i < np.policy_types.size(); ++i) {
    const std::string& t = np.policy_types[i];
    if (t != "Ingress" && t != "Egress")
      errors.push_back(
          FieldError::unsupported(index(spec.at("policyTypes"), i), t, {"Ingress", "Egress"}));
  }
}

}  // namespace

bool NetworkPolicy::isolates_ingress() const {
  if (policy_types.empty()) return true;
  return std::find(policy_types.begin(), policy_types.end(), "Ingress") != policy_types.end();
}

bool NetworkPolicy::isolates_egress() const {
  if (policy_types.empty()) return !egress.empty();
  return std::find(policy_types.begin(), policy_types.end(), "Egress") != policy_types.end();
}

bool operator==(const NetworkPolicy& a, const NetworkPolicy& b) {
  return to_json(a) == to_json(b);
}

NetworkPolicy decode_network_policy(const nlohmann::json& object,
                                    const std::string& default_namespace, FieldErrors& errors) {
  NetworkPolicy np;
  ObjectFields top(object, "", errors, {"apiVersion", "kind", "metadata", "spec"});
  std::string api = top.string("apiVersion").value_or("");
  std::string kind = top.string("kind").value_or("");
  if (api != kNetworkPolicyApiVersion)
    errors.push_back(FieldError::unsupported("apiVersion", api, {kNetworkPolicyApiVersion}));
  if (kind != kNetworkPolicyKind)
    errors.push_back(FieldError::unsupported("kind", kind, {kNetworkPolicyKind}));
  decode_metadata(top, default_namespace, np, errors);
  decode_spec(top, np, errors);
  return np;
}

nlohmann::json to_json(const NetworkPolicy& policy) {
  nlohmann::json meta = {{"name", policy.name}, {"namespace", policy.ns}};
  if (policy.labels) meta["labels"] = *policy.labels;
  if (policy.annotations) meta["annotations"] = *policy.annotations;
  return {{"apiVersion", kNetworkPolicyApiVersion},
          {"kind", kNetworkPolicyKind},
          {"metadata", std::move(meta)},
          {"spec", policy.spec}};
}

InvalidPolicy::InvalidPolicy(const FieldErrors& errors_)
    : std::invalid_argument(join_errors(errors_)), errors(errors_) {}

NetworkPolicy network_policy_from_json(const nlohmann::json& object) {
  FieldErrors errors;
  NetworkPolicy np = decode_network_policy(object, "", errors);
  if (!errors.empty()) throw InvalidPolicy(errors);
  return np;
}

}  // namespace weft::k8s
