#include "cni/cni_config.h"

#include <cctype>

#include "cni/cni_error.h"
#include "cni/cni_version.h"
#include "common/ipv4_cidr.h"

namespace weft::cni {

namespace {

using nlohmann::json;

// Deeper input than this is refused before parsing: nothing weft reads is nested past 6 levels,
// and nlohmann's recursive printing and comparison must not meet a 30,000-deep document.
constexpr int kMaxDepth = 64;

bool too_deep(std::string_view bytes) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (char c : bytes) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > kMaxDepth) return true;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return false;
}

json parse_object(std::string_view bytes, const char* what) {
  if (too_deep(bytes)) {
    throw CniError(CniCode::kDecodeFailure, std::string("the ") + what + " is nested too deeply",
                   "more than " + std::to_string(kMaxDepth) + " levels of objects and arrays");
  }
  json j = json::parse(bytes.begin(), bytes.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    throw CniError(CniCode::kDecodeFailure, std::string("the ") + what + " is not a JSON object",
                   "weft-cni reads its network configuration as JSON on stdin");
  }
  return j;
}

[[noreturn]] void invalid(const std::string& key, const std::string& expected) {
  throw CniError(CniCode::kInvalidNetworkConfig,
                 "invalid network configuration: \"" + key + "\" must be " + expected);
}

std::string string_at(const json& j, const char* key, const std::string& path) {
  if (!j.contains(key)) return "";
  if (!j[key].is_string()) invalid(path, "a string");
  return j[key].get<std::string>();
}

// The "name" of a configuration or list, validated.
std::string network_name_of(const json& j) {
  std::string name = string_at(j, "name", "name");
  if (!valid_cni_name(name)) {
    invalid("name", "the network's name: a letter or digit, then letters, digits, '_', '.', '-'");
  }
  return name;
}

// The "cniVersion", when present and supported; else CniError kIncompatibleVersion.
std::string supported_version_of(const json& j) {
  if (!j.contains("cniVersion") || !j["cniVersion"].is_string()) {
    throw CniError(CniCode::kIncompatibleVersion, "the network configuration has no cniVersion",
                   "weft-cni supports cniVersion 0.3.0 to 1.1.0; add \"cniVersion\": \"1.0.0\"");
  }
  std::string v = j["cniVersion"].get<std::string>();
  if (!is_supported_version(v)) {
    std::string list;
    for (const auto& s : supported_versions()) {
      if (!list.empty()) list += ", ";
      list += s;
    }
    throw CniError(CniCode::kIncompatibleVersion, "incompatible CNI version " + v.substr(0, 32),
                   "weft-cni " WEFT_VERSION " supports " + list +
                       "; set \"cniVersion\" in the network configuration to one of them");
  }
  return v;
}

// An address as the runtime or user gives it: IPv4, with or without a prefix.
std::string address_at(const json& v, const std::string& path) {
  if (!v.is_string()) invalid(path, "a string, an IPv4 address like \"10.32.1.5/12\"");
  std::string s = v.get<std::string>();
  try {
    (void)parse_ipv4_cidr(s, 32);
  } catch (const std::invalid_argument& e) {
    throw CniError(CniCode::kInvalidNetworkConfig,
                   "invalid network configuration: " + path + ": " + e.what());
  }
  return s;
}

void add_addresses(const json& list, const std::string& path, std::vector<std::string>& out) {
  if (!list.is_array()) invalid(path, "a list of addresses");
  for (size_t i = 0; i < list.size(); ++i) {
    std::string a = address_at(list[i], path + "[" + std::to_string(i) + "]");
    if (out.size() >= kMaxAddresses) invalid(path, "at most 16 addresses");
    out.push_back(a);
  }
}

void add_label(NetConf& c, const std::string& key, const std::string& value,
               const std::string& path) {
  if (key.empty()) invalid(path, "a label with a non-empty key");
  if (!c.labels.contains(key) && c.labels.size() >= kMaxLabels) invalid(path, "at most 64 labels");
  c.labels[key] = value;
}

void parse_ipam(const json& ipam, NetConf& c) {
  if (!ipam.is_object()) invalid("ipam", "an object");
  std::string type = string_at(ipam, "type", "ipam.type");
  if (!type.empty() && type != "weft") {
    throw CniError(CniCode::kUnsupportedField,
                   "unsupported field in network configuration: ipam.type=" + type.substr(0, 64),
                   "weft-cni allocates addresses from weft's own IPAM, shared by the whole "
                   "cluster; remove the ipam section, or keep it as {\"type\": \"weft\", "
                   "\"addresses\": [...]} to ask for given addresses");
  }
  if (ipam.contains("addresses")) add_addresses(ipam["addresses"], "ipam.addresses", c.requested);
}

void parse_runtime_config(const json& rc, NetConf& c) {
  if (!rc.is_object()) invalid("runtimeConfig", "an object");
  if (rc.contains("ips")) add_addresses(rc["ips"], "runtimeConfig.ips", c.requested);
  if (rc.contains("labels")) {
    const json& l = rc["labels"];
    if (!l.is_object()) invalid("runtimeConfig.labels", "an object of string values");
    for (const auto& [k, v] : l.items()) {
      if (!v.is_string()) invalid("runtimeConfig.labels." + k, "a string");
      add_label(c, k, v.get<std::string>(), "runtimeConfig.labels");
    }
  }
}

// "args": {"cni": {"ips": [..], "labels": [{"key": K, "value": V}]}} (CNI CONVENTIONS.md).
void parse_args(const json& args, NetConf& c) {
  if (!args.is_object()) invalid("args", "an object");
  if (!args.contains("cni")) return;
  const json& a = args["cni"];
  if (!a.is_object()) invalid("args.cni", "an object");
  if (a.contains("ips")) add_addresses(a["ips"], "args.cni.ips", c.requested);
  if (a.contains("labels")) {
    const json& l = a["labels"];
    if (!l.is_array()) invalid("args.cni.labels", "a list of {\"key\": K, \"value\": V}");
    for (size_t i = 0; i < l.size(); ++i) {
      std::string p = "args.cni.labels[" + std::to_string(i) + "]";
      if (!l[i].is_object()) invalid(p, "an object {\"key\": K, \"value\": V}");
      add_label(c, string_at(l[i], "key", p + ".key"), string_at(l[i], "value", p + ".value"), p);
    }
  }
}

std::vector<std::string> strings_at(const json& j, const char* key, const std::string& path) {
  std::vector<std::string> out;
  if (!j.contains(key)) return out;
  if (!j[key].is_array()) invalid(path, "a list of strings");
  for (const auto& v : j[key]) {
    if (!v.is_string()) invalid(path, "a list of strings");
    out.push_back(v.get<std::string>());
  }
  return out;
}

Dns parse_dns(const json& d) {
  if (!d.is_object()) invalid("dns", "an object");
  Dns dns;
  dns.nameservers = strings_at(d, "nameservers", "dns.nameservers");
  dns.domain = string_at(d, "domain", "dns.domain");
  dns.search = strings_at(d, "search", "dns.search");
  dns.options = strings_at(d, "options", "dns.options");
  return dns;
}

std::vector<AttachmentKey> parse_valid_attachments(const json& list, const std::string& key) {
  if (!list.is_array()) invalid(key, "a list of {\"containerID\": ID, \"ifname\": NAME}");
  std::vector<AttachmentKey> out;
  for (size_t i = 0; i < list.size(); ++i) {
    std::string p = key + "[" + std::to_string(i) + "]";
    if (!list[i].is_object()) invalid(p, "an object {\"containerID\": ID, \"ifname\": NAME}");
    out.push_back({string_at(list[i], "containerID", p + ".containerID"),
                   string_at(list[i], "ifname", p + ".ifname")});
  }
  return out;
}

}  // namespace

bool valid_cni_name(std::string_view s) {
  if (s.empty() || !std::isalnum(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-') {
      return false;
    }
  }
  return true;
}

std::optional<std::string> peek_cni_version(std::string_view bytes) {
  if (too_deep(bytes)) return std::nullopt;
  json j = json::parse(bytes.begin(), bytes.end(), nullptr, false);
  if (j.is_object() && j.contains("cniVersion") && j["cniVersion"].is_string()) {
    return j["cniVersion"].get<std::string>();
  }
  return std::nullopt;
}

NetConf parse_net_conf(std::string_view bytes) {
  json j = parse_object(bytes, "network configuration");
  NetConf c;
  c.cni_version = supported_version_of(j);
  c.name = network_name_of(j);
  c.type = string_at(j, "type", "type");
  if (c.type.empty()) invalid("type", "the plugin's name, \"weft-cni\"");
  if (j.contains("datadir")) {
    c.datadir = string_at(j, "datadir", "datadir");
    if (c.datadir.empty() || c.datadir[0] != '/') {
      invalid("datadir", "an absolute path, weft's data dir (default /var/lib/weft)");
    }
  }
  if (j.contains("mtu")) {
    const json& m = j["mtu"];
    if (!m.is_number_integer() || m.get<long long>() < kMinMtu || m.get<long long>() > kMaxMtu) {
      invalid("mtu", "a whole number from 576 to 65535 (or absent, for the overlay's MTU)");
    }
    c.mtu = static_cast<int>(m.get<long long>());
  }
  // Precedence of requested addresses: the runtime's per-container ones first.
  if (j.contains("runtimeConfig")) parse_runtime_config(j["runtimeConfig"], c);
  if (j.contains("args")) parse_args(j["args"], c);
  if (j.contains("ipam")) parse_ipam(j["ipam"], c);
  if (j.contains("dns")) c.dns = parse_dns(j["dns"]);
  if (j.contains("prevResult")) {
    if (!j["prevResult"].is_object()) invalid("prevResult", "an object, a CNI result");
    c.prev_result = j["prevResult"];
  }
  // libcni sends both names (the spec's first draft said cni.dev/attachments).
  for (const char* key : {"cni.dev/valid-attachments", "cni.dev/attachments"}) {
    if (j.contains(key) && !c.valid_attachments) {
      c.valid_attachments = parse_valid_attachments(j[key], key);
    }
  }
  return c;
}

NetConfList parse_conflist(std::string_view bytes) {
  json j = parse_object(bytes, "network configuration list");
  NetConfList l;
  l.cni_version = supported_version_of(j);
  l.name = network_name_of(j);
  if (j.contains("disableCheck")) {
    if (!j["disableCheck"].is_boolean()) invalid("disableCheck", "true or false");
    l.disable_check = j["disableCheck"].get<bool>();
  }
  if (!j.contains("plugins") || !j["plugins"].is_array() || j["plugins"].empty()) {
    invalid("plugins", "a non-empty list of plugin configurations");
  }
  for (size_t i = 0; i < j["plugins"].size(); ++i) {
    const json& p = j["plugins"][i];
    std::string path = "plugins[" + std::to_string(i) + "]";
    if (!p.is_object()) invalid(path, "an object");
    if (string_at(p, "type", path + ".type").empty()) invalid(path + ".type", "a plugin name");
    l.plugins.push_back(p);
  }
  return l;
}

json execution_config(const NetConfList& list, size_t index, const json& runtime_config) {
  json c = list.plugins.at(index);
  c.erase("capabilities");
  c["cniVersion"] = list.cni_version;
  c["name"] = list.name;
  if (!runtime_config.is_null()) c["runtimeConfig"] = runtime_config;
  return c;
}

std::string render_conflist(const std::string& network, const std::string& datadir, int mtu) {
  json plugin = {{"type", kPluginType}, {"datadir", datadir}};
  if (mtu > 0) plugin["mtu"] = mtu;
  json list = {{"cniVersion", "1.0.0"}, {"name", network}, {"plugins", json::array({plugin})}};
  return list.dump(2) + "\n";
}

}  // namespace weft::cni
