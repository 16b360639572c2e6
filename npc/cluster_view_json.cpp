#include "npc/cluster_view_json.h"

#include "k8s/ip_cidr.h"

namespace weft::npc {

namespace {

std::string str(const nlohmann::json& obj, const char* name, const std::string& dflt = "") {
  auto it = obj.find(name);
  if (it == obj.end() || it->is_null()) return dflt;
  if (!it->is_string())
    throw std::invalid_argument(std::string("\"") + name + "\" is not a string");
  return it->get<std::string>();
}

k8s::Labels labels(const nlohmann::json& obj, const char* name) {
  k8s::Labels out;
  auto it = obj.find(name);
  if (it == obj.end() || it->is_null()) return out;
  if (!it->is_object())
    throw std::invalid_argument(std::string("\"") + name + "\" is not an object");
  for (const auto& [k, v] : it->items()) {
    if (!v.is_string()) throw std::invalid_argument("label \"" + k + "\" is not a string");
    out[k] = v.get<std::string>();
  }
  return out;
}

const nlohmann::json& list(const nlohmann::json& obj, const char* name) {
  static const nlohmann::json empty = nlohmann::json::array();
  auto it = obj.find(name);
  if (it == obj.end() || it->is_null()) return empty;
  if (!it->is_array()) throw std::invalid_argument(std::string("\"") + name + "\" is not a list");
  return *it;
}

}  // namespace

Workload parse_workload(const nlohmann::json& e) {
  if (!e.is_object()) throw std::invalid_argument("not an object");
  Workload w;
  w.name = str(e, "name");
  w.ns = str(e, "namespace", "default");
  w.labels = labels(e, "labels");
  w.host = str(e, "host");
  w.veth = str(e, "veth");
  w.mac = str(e, "mac");
  for (const nlohmann::json& p : list(e, "ports")) {
    if (!p.is_object()) throw std::invalid_argument("a port is not an object");
    NamedPort np;
    np.name = str(p, "name");
    np.protocol = str(p, "protocol", "TCP");
    auto port = p.find("port");
    if (port == p.end() || !port->is_number_integer() || port->get<int64_t>() < 1 ||
        port->get<int64_t>() > 65535)
      throw std::invalid_argument("port \"" + np.name + "\" has no number in 1..65535");
    np.port = port->get<int>();
    w.ports.push_back(np);
  }
  for (const nlohmann::json& ip : list(e, "ips")) {
    if (!ip.is_string()) throw std::invalid_argument("an address is not a string");
    std::string a = ip.get<std::string>();
    a = a.substr(0, a.find('/'));
    if (!k8s::parse_ip(a)) throw std::invalid_argument("bad address \"" + a + "\"");
    w.ips.push_back(a);
  }
  return w;
}

Namespace parse_namespace(const nlohmann::json& e) {
  if (!e.is_object()) throw std::invalid_argument("not an object");
  Namespace n;
  n.name = str(e, "name");
  n.labels = labels(e, "labels");
  n.labels[kNamespaceNameLabel] = n.name;
  return n;
}

ClusterSnapshot parse_cluster_snapshot(const nlohmann::json& state) {
  if (!state.is_object()) throw std::invalid_argument("the cluster state is not a JSON object");
  ClusterSnapshot s;
  auto rev = state.find("revision");
  if (rev != state.end() && !rev->is_null()) {
    if (!rev->is_number_unsigned() && !(rev->is_number_integer() && rev->get<int64_t>() >= 0))
      throw std::invalid_argument("\"revision\" is not a non-negative integer");
    s.revision = rev->get<uint64_t>();
  }
  const nlohmann::json& workloads = list(state, "workloads");
  for (size_t i = 0; i < workloads.size(); ++i) {
    try {
      s.view.workloads.push_back(parse_workload(workloads[i]));
    } catch (const std::invalid_argument& e) {
      s.problems.push_back("workload " + std::to_string(i) + ": " + e.what());
    }
  }
  for (const nlohmann::json& n : list(state, "namespaces")) {
    try {
      s.view.namespaces.push_back(parse_namespace(n));
    } catch (const std::invalid_argument& e) {
      s.problems.push_back(std::string("namespace: ") + e.what());
    }
  }
  for (const nlohmann::json& p : list(state, "policies")) {
    try {
      s.view.policies.push_back(k8s::network_policy_from_json(p));
    } catch (const std::invalid_argument& e) {
      std::string name = "?";
      try {
        if (p.is_object() && p.contains("metadata") && p["metadata"].is_object())
          name = str(p["metadata"], "namespace", "?") + "/" + str(p["metadata"], "name", "?");
      } catch (const std::invalid_argument&) {
      }
      s.problems.push_back("policy " + name + " is not enforced: " + e.what());
    }
  }
  return s;
}

}  // namespace weft::npc
