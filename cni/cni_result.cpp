#include "cni/cni_result.h"

#include <algorithm>

#include "cni/cni_version.h"

namespace weft::cni {

namespace {

using nlohmann::json;

[[noreturn]] void bad_prev(const std::string& why) {
  throw CniError(CniCode::kInvalidNetworkConfig, "invalid prevResult: " + why,
                 "the runtime passes the result of the container's last ADD as prevResult");
}

json dns_json(const Dns& d) {
  json j = json::object();
  if (!d.nameservers.empty()) j["nameservers"] = d.nameservers;
  if (!d.domain.empty()) j["domain"] = d.domain;
  if (!d.search.empty()) j["search"] = d.search;
  if (!d.options.empty()) j["options"] = d.options;
  return j;
}

void append_unique(std::vector<std::string>& to, const std::vector<std::string>& from) {
  for (const auto& s : from) {
    if (std::find(to.begin(), to.end(), s) == to.end()) to.push_back(s);
  }
}

Dns merged(const Dns& a, const Dns& b) {
  Dns d = a;
  append_unique(d.nameservers, b.nameservers);
  if (d.domain.empty()) d.domain = b.domain;
  append_unique(d.search, b.search);
  append_unique(d.options, b.options);
  return d;
}

// A result's array `key`, or an empty one; bad_prev when present but not an array.
json array_of(const json& r, const char* key) {
  if (!r.contains(key)) return json::array();
  if (!r[key].is_array()) bad_prev(std::string("\"") + key + "\" is not a list");
  return r[key];
}

std::string string_of(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_string()) return "";
  return j[key].get<std::string>();
}

// The strings of `j[key]`, skipping anything else.
std::vector<std::string> strings_of(const json& j, const char* key) {
  std::vector<std::string> out;
  if (!j.is_object() || !j.contains(key) || !j[key].is_array()) return out;
  for (const auto& s : j[key]) {
    if (s.is_string()) out.push_back(s.get<std::string>());
  }
  return out;
}

Dns dns_of(const json& d) {
  return {strings_of(d, "nameservers"), string_of(d, "domain"), strings_of(d, "search"),
          strings_of(d, "options")};
}

}  // namespace

json render_result(const std::string& version, const std::string& ifname, const std::string& netns,
                   const Attachment& a, const Dns& extra_dns, const std::optional<json>& prev) {
  const bool old_shape = compare_versions(version, "1.0.0") < 0;
  json interfaces = json::array(), ips = json::array(), routes = json::array();
  Dns dns;
  if (prev && prev->is_object()) {
    interfaces = array_of(*prev, "interfaces");
    ips = array_of(*prev, "ips");
    routes = array_of(*prev, "routes");
    if (prev->contains("dns")) dns = dns_of((*prev)["dns"]);
  }
  if (!a.host_ifname.empty()) interfaces.push_back(json::object({{"name", a.host_ifname}}));
  json container = {{"name", ifname}, {"sandbox", netns}};
  if (!a.mac.empty()) container["mac"] = a.mac;
  interfaces.push_back(container);
  const size_t index = interfaces.size() - 1;
  for (const auto& ip : a.ips) {
    json j = {{"address", ip}, {"interface", index}};
    if (old_shape) j["version"] = "4";
    if (!a.gateway.empty()) j["gateway"] = a.gateway;
    ips.push_back(j);
  }
  for (const auto& r : a.routes) {
    json j = {{"dst", r.dst}};
    if (!r.gw.empty()) j["gw"] = r.gw;
    routes.push_back(j);
  }
  json out = {{"cniVersion", version}, {"interfaces", interfaces}, {"ips", ips}};
  if (!routes.empty()) out["routes"] = routes;
  dns = merged(merged(dns, a.dns), extra_dns);
  out["dns"] = dns_json(dns);  // required by 0.3.x/0.4.0 result decoders; {} means none
  return out;
}

Attachment parse_result(const json& result, const std::string& ifname) {
  if (!result.is_object()) bad_prev("not an object");
  json interfaces = array_of(result, "interfaces");
  std::optional<size_t> index;
  Attachment a;
  for (size_t i = 0; i < interfaces.size(); ++i) {
    if (string_of(interfaces[i], "name") == ifname &&
        !string_of(interfaces[i], "sandbox").empty()) {
      index = i;
      a.mac = string_of(interfaces[i], "mac");
    }
  }
  if (!index) bad_prev("no container interface named " + ifname.substr(0, 16));
  json ips = array_of(result, "ips");
  for (const auto& ip : ips) {
    if (!ip.is_object()) bad_prev("an entry of \"ips\" is not an object");
    std::string address = string_of(ip, "address");
    if (address.empty()) bad_prev("an entry of \"ips\" has no address");
    bool ours = !ip.contains("interface") ||
                (ip["interface"].is_number_unsigned() && ip["interface"].get<size_t>() == *index);
    if (!ours) continue;
    a.ips.push_back(address);
    if (a.gateway.empty()) a.gateway = string_of(ip, "gateway");
  }
  for (const auto& r : array_of(result, "routes")) {
    if (!r.is_object() || string_of(r, "dst").empty()) bad_prev("a route has no \"dst\"");
    a.routes.push_back({string_of(r, "dst"), string_of(r, "gw")});
  }
  return a;
}

json render_error(const std::string& version, const CniError& e) {
  json j = {{"cniVersion", version}, {"code", static_cast<int>(e.code)}, {"msg", e.what()}};
  if (!e.details.empty()) j["details"] = e.details;
  return j;
}

json render_version(const std::string& version) {
  return {{"cniVersion", version}, {"supportedVersions", supported_versions()}};
}

}  // namespace weft::cni
