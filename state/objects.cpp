#include "state/objects.h"

#include <cctype>

namespace weft::state {

using nlohmann::json;

namespace {

bool dns1123_label(const std::string& s) {
  if (s.empty() || s.size() > 63) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool ok =
        (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c == '-' && i > 0 && i + 1 < s.size());
    if (!ok) return false;
  }
  return true;
}

bool label_name_part(const std::string& s) {
  if (s.empty() || s.size() > 63) return false;
  auto alnum = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
  if (!alnum(s.front()) || !alnum(s.back())) return false;
  for (char c : s)
    if (!alnum(c) && c != '-' && c != '_' && c != '.') return false;
  return true;
}

bool dns1123_subdomain(const std::string& s) {
  if (s.empty() || s.size() > 253) return false;
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    if (!dns1123_label(s.substr(start, dot - start))) return false;
    if (dot == std::string::npos) return true;
    start = dot + 1;
  }
}

std::string quote(const std::string& s) {
  return json(s).dump();
}

void check_label_key(const std::string& field, const std::string& k) {
  size_t slash = k.find('/');
  std::string name = slash == std::string::npos ? k : k.substr(slash + 1);
  if (slash != std::string::npos && !dns1123_subdomain(k.substr(0, slash)))
    throw ObjectError(field + ": Invalid value: " + quote(k) +
                      ": prefix part a lowercase RFC 1123 subdomain must consist of lower case "
                      "alphanumeric characters, '-' or '.', and must start and end with an "
                      "alphanumeric character");
  if (!label_name_part(name))
    throw ObjectError(field + ": Invalid value: " + quote(k) +
                      ": name part must consist of alphanumeric characters, '-', '_' or '.', and "
                      "must start and end with an alphanumeric character (e.g. 'MyName',  or "
                      "'my.name',  or '123-abc'), with at most 63 characters");
}

void check_label_value(const std::string& field, const std::string& v) {
  if (!v.empty() && !label_name_part(v))
    throw ObjectError(field + ": Invalid value: " + quote(v) +
                      ": a valid label must be an empty string or consist of alphanumeric "
                      "characters, '-', '_' or '.', and must start and end with an alphanumeric "
                      "character, with at most 63 characters");
}

// IANA service names (RFC 6335 §5.1), as Kubernetes checks port names.
void check_port_name(const std::string& field, const std::string& n) {
  auto bad = [&](const std::string& why) {
    throw ObjectError(field + ": Invalid value: " + quote(n) + ": " + why);
  };
  if (n.empty() || n.size() > 15) bad("must be no more than 15 characters");
  bool letter = false;
  for (size_t i = 0; i < n.size(); ++i) {
    char c = n[i];
    if (c >= 'a' && c <= 'z') letter = true;
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
      bad("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
    if (c == '-' && (i == 0 || i + 1 == n.size())) bad("must not begin or end with a hyphen");
    if (c == '-' && i > 0 && n[i - 1] == '-') bad("must not contain consecutive hyphens");
  }
  if (!letter) bad("must contain at least one letter (a-z)");
}

}  // namespace

void check_dns1123_label(const std::string& field, const std::string& s) {
  if (!dns1123_label(s))
    throw ObjectError(field + ": Invalid value: " + quote(s) +
                      ": a lowercase RFC 1123 label must consist of lower case alphanumeric "
                      "characters or '-', and must start and end with an alphanumeric character "
                      "(at most 63 characters)");
}

void check_labels(const std::string& field, const Labels& labels) {
  for (const auto& [k, v] : labels) {
    check_label_key(field, k);
    check_label_value(field + "[" + k + "]", v);
  }
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
      throw ObjectError("id: Invalid value: " + quote(id) + ": 1 to 256 characters");
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
    for (size_t i = 0; i < w["ports"].size(); ++i) {
      json& p = w["ports"][i];
      std::string f = "ports[" + std::to_string(i) + "]";
      std::string name = p.at("name").get<std::string>();
      check_port_name(f + ".name", name);
      if (seen[name]) throw ObjectError(f + ".name: Duplicate value: " + quote(name));
      seen[name] = true;
      int port = p.at("port").get<int>();
      if (port < 1 || port > 65535)
        throw ObjectError(f + ".port: Invalid value: " + std::to_string(port) +
                          ": must be between 1 and 65535, inclusive");
      std::string proto = p.value("protocol", std::string("TCP"));
      for (char& c : proto) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      if (proto != "TCP" && proto != "UDP" && proto != "SCTP")
        throw ObjectError(f + ".protocol: Unsupported value: " + quote(proto) +
                          ": supported values: \"SCTP\", \"TCP\", \"UDP\"");
      p["protocol"] = proto;
    }
    if (!w.contains("ips")) w["ips"] = json::array();
    (void)w["ips"].get<std::vector<std::string>>();
  } catch (const json::exception& e) {
    throw ObjectError(std::string("workload: ") + e.what());
  }
  return w;
}

json normalize_policy(const json& in, std::string& key, const std::string& default_ns) {
  if (!in.is_object()) throw ObjectError("policy: expected a JSON object");
  json p = in;
  try {
    if (p.value("apiVersion", "") != "networking.k8s.io/v1" ||
        p.value("kind", "") != "NetworkPolicy")
      throw ObjectError("not a networking.k8s.io/v1 NetworkPolicy");
    json& md = p.at("metadata");
    std::string name = md.value("name", "");
    if (name.empty()) throw ObjectError("metadata.name: Required value");
    std::string ns = md.value("namespace", "");
    if (ns.empty()) ns = default_ns;
    check_dns1123_label("metadata.namespace", ns);
    md["namespace"] = ns;
    if (!p.contains("spec") || !p["spec"].is_object()) throw ObjectError("spec: Required value");
    key = ns + "/" + name;
  } catch (const json::exception& e) {
    throw ObjectError(std::string("policy: ") + e.what());
  }
  return p;
}

LabelChanges parse_label_args(const std::vector<std::string>& args) {
  LabelChanges c;
  for (const std::string& a : args) {
    size_t eq = a.find('=');
    if (eq != std::string::npos) {
      std::string k = a.substr(0, eq), v = a.substr(eq + 1);
      check_label_key("labels", k);
      check_label_value("labels[" + k + "]", v);
      c.set[k] = v;
    } else if (!a.empty() && a.back() == '-') {
      std::string k = a.substr(0, a.size() - 1);
      check_label_key("labels", k);
      c.remove.push_back(k);
    } else {
      throw ObjectError("invalid label spec: " + a + " (use KEY=VALUE to set, KEY- to remove)");
    }
  }
  return c;
}

Labels apply_label_changes(Labels labels, const LabelChanges& c) {
  for (const std::string& k : c.remove) {
    if (c.set.count(k))
      throw ObjectError("can not both modify and remove a label in the same command: " + k);
    labels.erase(k);
  }
  for (const auto& [k, v] : c.set) labels[k] = v;
  return labels;
}

}  // namespace weft::state
