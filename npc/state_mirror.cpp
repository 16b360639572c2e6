#include "npc/state_mirror.h"

namespace weft::npc {

using nlohmann::json;

namespace {

const json& member(const json& obj, const char* name) {
  auto it = obj.find(name);
  if (it == obj.end()) throw std::invalid_argument(std::string("no \"") + name + "\"");
  return *it;
}

std::string string_member(const json& obj, const char* name) {
  const json& v = member(obj, name);
  if (!v.is_string()) throw std::invalid_argument(std::string("\"") + name + "\" is not a string");
  return v.get<std::string>();
}

// The state keys of a snapshot's objects (router/os/state_service.cpp renders them without):
// a workload is "HOST/ID", a policy "NS/NAME", a namespace its name.
std::string workload_key(const json& w) {
  return w.value("host", std::string()) + "/" + w.value("id", w.value("name", std::string()));
}
std::string policy_key(const json& p) {
  json meta = p.value("metadata", json::object());
  if (!meta.is_object()) return "?/?";
  return meta.value("namespace", std::string("default")) + "/" + meta.value("name", std::string());
}

void fill(std::map<std::string, json>& into, const json& list, std::string (*key)(const json&)) {
  into.clear();
  if (list.is_null()) return;
  if (!list.is_array()) throw std::invalid_argument("a snapshot list is not a list");
  for (const json& o : list) {
    if (!o.is_object()) throw std::invalid_argument("a snapshot entry is not an object");
    into[key(o)] = o;
  }
}

}  // namespace

bool StateMirror::apply(const json& event) {
  if (!event.is_object()) throw std::invalid_argument("a watch event is not a JSON object");
  std::string type = string_member(event, "type");
  const json& rev = member(event, "revision");
  if (!rev.is_number_unsigned() && !(rev.is_number_integer() && rev.get<int64_t>() >= 0))
    throw std::invalid_argument("\"revision\" is not a non-negative integer");
  uint64_t revision = rev.get<uint64_t>();

  if (type == "snapshot") {
    const json& state = member(event, "state");
    if (!state.is_object()) throw std::invalid_argument("\"state\" is not an object");
    std::map<std::string, json> w, n, p;
    fill(w, state.value("workloads", json::array()), workload_key);
    fill(n, state.value("namespaces", json::array()),
         [](const json& o) { return o.value("name", std::string()); });
    fill(p, state.value("policies", json::array()), policy_key);
    workloads_ = std::move(w);
    namespaces_ = std::move(n);
    policies_ = std::move(p);
    epoch_ = string_member(event, "epoch");
    revision_ = revision;
    synced_ = true;
    return true;
  }
  if (type == "resume") {
    // The router has every change after our revision and sends them next; nothing to do unless
    // it is a different run than ours (then it would have sent a snapshot).
    if (!synced_ || string_member(event, "epoch") != epoch_)
      throw std::invalid_argument("the router resumed a watch this mirror does not hold");
    revision_ = revision;
    return false;
  }
  if (type != "change") throw std::invalid_argument("unknown watch event type \"" + type + "\"");
  if (!synced_) throw std::invalid_argument("a change came before any snapshot");
  std::string kind = string_member(event, "kind"), key = string_member(event, "key");
  std::string op = string_member(event, "op");
  if (op != "upsert" && op != "delete") throw std::invalid_argument("unknown op \"" + op + "\"");
  std::map<std::string, json>* into = kind == "workload"    ? &workloads_
                                      : kind == "namespace" ? &namespaces_
                                      : kind == "policy"    ? &policies_
                                                            : nullptr;
  revision_ = std::max(revision_, revision);
  if (!into) return false;  // DNS records and kinds added later: not policy's business
  if (op == "delete") return into->erase(key) > 0;
  const json& object = member(event, "object");
  if (!object.is_object()) throw std::invalid_argument("\"object\" is not an object");
  json& slot = (*into)[key];
  if (slot == object) return false;
  slot = object;
  return true;
}

ClusterSnapshot StateMirror::snapshot() const {
  auto values = [](const std::map<std::string, json>& m) {
    json a = json::array();
    for (const auto& [k, v] : m) a.push_back(v);
    return a;
  };
  return parse_cluster_snapshot({{"revision", revision_},
                                 {"workloads", values(workloads_)},
                                 {"namespaces", values(namespaces_)},
                                 {"policies", values(policies_)}});
}

}  // namespace weft::npc
