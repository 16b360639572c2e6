#include "state/objects.h"

#include <cctype>

#include "k8s/name_rules.h"
#include "k8s/network_policy.h"

namespace weft::state {

using nlohmann::json;

namespace {

// Throws ObjectError with every error, one per line, when there are any.
void throw_if(const k8s::FieldErrors& errors) {
  if (!errors.empty()) throw ObjectError(k8s::join_errors(errors, "\n"));
}

void check_rule(const std::vector<std::string>& messages, const std::string& field,
                const std::string& value) {
  k8s::FieldErrors errors;
  k8s::add_rule_errors(messages, field, value, errors);
  throw_if(errors);
}

}  // namespace

void check_dns1123_label(const std::string& field, const std::string& s) {
  check_rule(k8s::dns1123_label_errors(s), field, s);
}

void check_labels(const std::string& field, const Labels& labels) {
  k8s::FieldErrors errors;
  k8s::validate_labels(labels, field, errors);
  throw_if(errors);
}

std::string workload_id(const json& w) {
  return w.at("id").get<std::string>();
}

json normalize_workload(const json& in, PeerName host) {
  if (!in.is_object()) throw ObjectError("workload: expected a JSON object");
  json w = in;
  try {
    std::string id = w.at("id").get<std::string>();
    if (id.empty() || id.size() > 256)
      throw ObjectError("id: Invalid value: " + json(id).dump() + ": 1 to 256 characters");
    for (char c : id)
      if (static_cast<unsigned char>(c) < 0x20) throw ObjectError("id: control characters");
    w["host"] = format_peer_name(host);
    if (!w.contains("namespace") || w["namespace"].get<std::string>().empty())
      w["namespace"] = kDefaultNamespace;
    check_dns1123_label("namespace", w["namespace"].get<std::string>());
    if (w.contains("name") && !w["name"].get<std::string>().empty())
      check_dns1123_label("name", w["name"].get<std::string>());
    if (!w.contains("labels")) w["labels"] = json::object();
    check_labels("labels", w["labels"].get<Labels>());
    if (!w.contains("ports")) w["ports"] = json::array();
    std::map<std::string, bool> seen;
    k8s::FieldErrors errors;
    for (size_t i = 0; i < w["ports"].size(); ++i) {
      json& p = w["ports"][i];
      std::string f = "ports[" + std::to_string(i) + "]";
      std::string name = p.at("name").get<std::string>();
      k8s::add_rule_errors(k8s::port_name_errors(name), f + ".name", name, errors);
      if (seen[name]) errors.push_back(k8s::FieldError::duplicate(f + ".name", name));
      seen[name] = true;
      int64_t port = p.at("port").get<int64_t>();
      for (const std::string& m : k8s::port_number_errors(port))
        errors.push_back(k8s::FieldError::invalid_number(f + ".port", port, m));
      std::string proto = p.value("protocol", std::string("TCP"));
      for (char& c : proto) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      if (proto != "TCP" && proto != "UDP" && proto != "SCTP")
        errors.push_back(
            k8s::FieldError::unsupported(f + ".protocol", proto, {"SCTP", "TCP", "UDP"}));
      p["protocol"] = proto;
    }
    throw_if(errors);
    if (!w.contains("ips")) w["ips"] = json::array();
    (void)w["ips"].get<std::vector<std::string>>();
  } catch (const json::exception& e) {
    throw ObjectError(std::string("workload: ") + e.what());
  }
  return w;
}

json normalize_policy(const json& in, std::string& key, const std::string& default_ns) {
  k8s::FieldErrors errors;
  k8s::NetworkPolicy p = k8s::decode_network_policy(in, default_ns, errors);
  throw_if(errors);
  key = p.key();
  return k8s::to_json(p);
}

Labels apply_label_changes(Labels labels, const json& body) {
  k8s::LabelChanges c;
  try {
    c.set = body.value("set", json::object()).get<Labels>();
    c.remove = body.value("remove", json::array()).get<std::vector<std::string>>();
  } catch (const json::exception& e) {
    throw ObjectError(std::string("expected {\"set\": {...}, \"remove\": [...]}: ") + e.what());
  }
  check_labels("labels", c.set);
  for (const std::string& k : c.remove) {
    k8s::FieldErrors errors;
    k8s::validate_label_key(k, "labels", errors);
    throw_if(errors);
  }
  try {
    k8s::apply_label_changes(labels, c);
  } catch (const k8s::LabelChangeError& e) {
    throw ObjectError(e.what());
  }
  return labels;
}

}  // namespace weft::state
