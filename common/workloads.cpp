#include "common/workloads.h"

#include <cctype>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "common/text_table.h"

namespace weft {

using nlohmann::json;

namespace {

json to_json(const WorkloadRecord& r) {
  json j{{"id", r.id()},      {"name", r.name},    {"mac", r.mac},
         {"ips", r.ips},      {"veth", r.veth},    {"netns_inode", r.netns_inode},
         {"namespace", r.ns}, {"labels", r.labels}};
  json ports = json::array();
  for (const auto& p : r.ports)
    ports.push_back({{"name", p.name}, {"port", p.port}, {"protocol", p.protocol}});
  j["ports"] = ports;
  if (r.pid > 0) {
    j["pid"] = r.pid;
  } else {
    j["netns"] = r.netns;
  }
  if (!r.container_id.empty()) {
    j["container_id"] = r.container_id;
    j["network"] = r.network;
  }
  if (!r.host.empty()) j["host"] = r.host;
  if (!r.host_nickname.empty()) j["host_nickname"] = r.host_nickname;
  return j;
}

std::string get_string(const json& j, const char* key, bool required) {
  auto it = j.find(key);
  if (it == j.end() && !required) return "";
  if (it == j.end() || !it->is_string()) {
    throw std::invalid_argument(std::string("a workload without a string \"") + key + "\"");
  }
  return it->get<std::string>();
}

WorkloadRecord from_json(const json& j) {
  if (!j.is_object()) throw std::invalid_argument("a workload that is not an object");
  WorkloadRecord r;
  r.netns = get_string(j, "netns", false);
  if (auto it = j.find("pid"); it != j.end()) {
    if (!it->is_number_integer() || it->get<int64_t>() <= 0 || it->get<int64_t>() > 0x3fffffff) {
      throw std::invalid_argument("a workload whose \"pid\" is not a positive integer");
    }
    r.pid = it->get<int>();
  }
  if (auto it = j.find("pid"); it != j.end() && it->is_number_integer() && it->get<int64_t>() == 0)
    r.pid = 0;
  if (r.netns.empty() == (r.pid == 0)) {
    throw std::invalid_argument("a workload without exactly one of \"netns\" and \"pid\"");
  }
  r.name = get_string(j, "name", true);
  r.mac = get_string(j, "mac", false);
  r.veth = get_string(j, "veth", true);
  auto ips = j.find("ips");
  if (ips == j.end() || !ips->is_array()) {
    throw std::invalid_argument("a workload without an \"ips\" array");
  }
  for (const auto& ip : *ips) {
    if (!ip.is_string()) throw std::invalid_argument("a workload with a non-string address");
    r.ips.push_back(ip.get<std::string>());
  }
  if (auto it = j.find("netns_inode"); it != j.end() && it->is_number_unsigned()) {
    r.netns_inode = it->get<uint64_t>();
  }
  try {
    r.ns = j.value("namespace", std::string("default"));
    r.labels = j.value("labels", json::object()).get<std::map<std::string, std::string>>();
    for (const auto& p : j.value("ports", json::array()))
      r.ports.push_back({p.at("name").get<std::string>(), p.at("port").get<int>(),
                         p.value("protocol", std::string("TCP"))});
    r.host = j.value("host", std::string());
    r.host_nickname = j.value("host_nickname", std::string());
    r.container_id = j.value("container_id", std::string());
    r.network = j.value("network", std::string());
  } catch (const json::exception& e) {
    throw std::invalid_argument(std::string("a workload with malformed metadata: ") + e.what());
  }
  return r;
}

}  // namespace

std::string WorkloadRecord::netns_label() const {
  return pid > 0 ? "pid:" + std::to_string(pid) : netns;
}

std::string WorkloadRecord::id() const {
  return container_id.empty() ? netns_label() : "cni:" + container_id;
}

namespace {

std::string dns_label_of(const std::string& given) {
  std::string n;
  for (char c : given.substr(0, 63)) {
    auto u = static_cast<unsigned char>(std::tolower(static_cast<unsigned char>(c)));
    n += u < 0x80 && std::isalnum(u) ? static_cast<char>(u) : '-';
  }
  while (!n.empty() && n.front() == '-') n.erase(n.begin());
  while (!n.empty() && n.back() == '-') n.pop_back();
  return n;
}

}  // namespace

std::string container_workload_name(const std::string& given, const std::string& container_id) {
  std::string n = dns_label_of(given);
  if (n.empty()) n = dns_label_of(container_id.substr(0, 12));
  return n.empty() ? "container" : n;
}

std::string workloads_json(const std::vector<WorkloadRecord>& records) {
  json list = json::array();
  for (const auto& r : records) list.push_back(to_json(r));
  return json{{"workloads", list}}.dump(2) + "\n";
}

std::vector<WorkloadRecord> parse_workloads_json(std::string_view text) {
  json j = json::parse(text, nullptr, false);
  if (!j.is_object() || !j.contains("workloads") || !j["workloads"].is_array()) {
    throw std::invalid_argument("not a JSON object with a \"workloads\" array");
  }
  std::vector<WorkloadRecord> out;
  for (const auto& w : j["workloads"]) out.push_back(from_json(w));
  return out;
}

json workload_to_json(const WorkloadRecord& r) {
  return to_json(r);
}

WorkloadRecord workload_from_json(const json& j) {
  return from_json(j);
}

std::string render_workloads(const std::vector<WorkloadRow>& rows, bool all_hosts) {
  if (rows.empty()) {
    return all_hosts ? "No workloads attached anywhere in the cluster. `weft attach NETNS` "
                       "attaches one.\n"
                     : "No workloads attached on this host. `weft attach 10.32.1.5/12 NETNS` "
                       "attaches one.\n";
  }
  std::vector<std::vector<std::string>> table{
      {"NETNS", "NAMESPACE", "NAME", "MAC", "IPS", "LABELS"}};
  if (all_hosts) table[0].insert(table[0].begin(), "HOST");
  std::vector<std::string> stale;
  for (const auto& row : rows) {
    std::string ips;
    for (const auto& ip : row.record.ips) ips += (ips.empty() ? "" : " ") + ip;
    std::string ns = row.record.netns_label();
    if (row.stale) stale.push_back(ns);
    std::string labels;
    for (const auto& [k, v] : row.record.labels)
      labels += (labels.empty() ? "" : ",") + k + "=" + v;
    table.push_back({row.stale ? ns + " (gone)" : ns, row.record.ns, row.record.name,
                     row.record.mac.empty() ? "-" : row.record.mac, ips,
                     labels.empty() ? "-" : labels});
    if (all_hosts)
      table.back().insert(table.back().begin(), row.record.host_nickname.empty()
                                                    ? row.record.host
                                                    : row.record.host_nickname);
  }
  std::string out = text_table(table);
  if (!stale.empty()) {
    std::string cmds;
    for (const auto& ns : stale) {
      if (!cmds.empty()) cmds += "; ";
      cmds += ns.rfind("pid:", 0) == 0 ? "`weft detach --pid " + ns.substr(4) + "`"
                                       : "`weft detach " + ns + "`";
    }
    out += "(gone): the network namespace no longer exists, and its ethweft with it; " + cmds +
           (stale.size() == 1 ? " forgets it.\n" : " forget them.\n");
  }
  return out;
}

std::string render_workloads_json(const std::vector<WorkloadRow>& rows) {
  json list = json::array();
  for (const auto& row : rows) {
    json j = to_json(row.record);
    j["stale"] = row.stale;
    list.push_back(std::move(j));
  }
  return list.dump(2) + "\n";
}

}  // namespace weft
