#include "cni/attach_api.h"

#include "cni/cni_error.h"

namespace weft::cni {

namespace {

using nlohmann::json;

std::string string_of(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_string()) return "";
  return j[key].get<std::string>();
}

[[noreturn]] void broken(const std::string& why) {
  throw CniError(CniCode::kWeftRefused, "the weft router's answer is not understood: " + why,
                 "is weft-router the same version as weft-cni (" WEFT_VERSION ")?");
}

}  // namespace

json attach_body(const WorkloadRequest& req) {
  json b = {{"container_id", req.container_id},
            {"netns_path", req.netns_path},
            {"ifname", req.ifname},
            {"network", req.network},
            {"name", req.name},
            {"namespace", req.namespace_},
            {"labels", json::object()}};
  for (const auto& [k, v] : req.labels) b["labels"][k] = v;
  if (req.mtu > 0) b["mtu"] = req.mtu;
  if (!req.requested.empty()) b["ips"] = req.requested;
  return b;
}

Attachment parse_attach_answer(const json& j) {
  if (!j.is_object()) broken("not a JSON object");
  Attachment a;
  a.mac = string_of(j, "mac");
  if (a.mac.empty()) broken("no \"mac\"");
  if (!j.contains("ips") || !j["ips"].is_array() || j["ips"].empty()) broken("no \"ips\"");
  for (const auto& ip : j["ips"]) {
    if (!ip.is_string()) broken("an entry of \"ips\" is not a string");
    a.ips.push_back(ip.get<std::string>());
  }
  a.gateway = string_of(j, "gateway");
  a.host_ifname = string_of(j, "host_ifname");
  if (j.contains("routes") && j["routes"].is_array()) {
    for (const auto& r : j["routes"]) {
      if (r.is_string()) {
        a.routes.push_back({r.get<std::string>(), ""});
      } else if (!string_of(r, "dst").empty()) {
        a.routes.push_back({string_of(r, "dst"), string_of(r, "gw")});
      }
    }
  }
  if (j.contains("dns") && j["dns"].is_object()) {
    const json& d = j["dns"];
    auto strings = [&](const char* k) {
      std::vector<std::string> out;
      if (d.contains(k) && d[k].is_array()) {
        for (const auto& s : d[k]) {
          if (s.is_string()) out.push_back(s.get<std::string>());
        }
      }
      return out;
    };
    a.dns = {strings("nameservers"), string_of(d, "domain"), strings("search"), strings("options")};
  }
  return a;
}

std::vector<WorkloadSummary> parse_workloads_answer(const json& j) {
  const json* list = &j;
  if (j.is_object() && j.contains("workloads")) list = &j["workloads"];
  if (!list->is_array()) broken("GET /workloads did not return a list of workloads");
  std::vector<WorkloadSummary> out;
  for (const auto& w : *list) {
    if (!w.is_object()) continue;
    WorkloadSummary s{
        string_of(w, "container_id"), string_of(w, "network"), string_of(w, "mac"), {}};
    if (w.contains("ips") && w["ips"].is_array()) {
      for (const auto& ip : w["ips"]) {
        if (ip.is_string()) s.ips.push_back(ip.get<std::string>());
      }
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace weft::cni
