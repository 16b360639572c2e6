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

template <class T>
T parse_as(const json& o);
template <>
Workload parse_as<Workload>(const json& o) {
  return parse_workload(o);
}
template <>
Namespace parse_as<Namespace>(const json& o) {
  return parse_namespace(o);
}
template <>
k8s::NetworkPolicy parse_as<k8s::NetworkPolicy>(const json& o) {
  return k8s::network_policy_from_json(o);
}

// Stores `object` under `key`, parsed; false when it was already there unchanged.
template <class Slot>
bool store(std::map<std::string, Slot>& into, const std::string& key, const json& object,
           const char* what) {
  Slot& slot = into[key];
  if (slot.raw == object) return false;  // a new slot's raw is null, never an object
  slot.raw = object;
  slot.problem.clear();
  try {
    slot.parsed = parse_as<typename decltype(slot.parsed)::value_type>(object);
  } catch (const std::invalid_argument& e) {
    slot.parsed.reset();
    slot.problem = std::string(what) + " " + key + " is not enforced: " + e.what();
  }
  return true;
}

template <class Slot>
void fill(std::map<std::string, Slot>& into, const json& list, std::string (*key)(const json&),
          const char* what) {
  into.clear();
  if (list.is_null()) return;
  if (!list.is_array()) throw std::invalid_argument("a snapshot list is not a list");
  for (const json& o : list) {
    if (!o.is_object()) throw std::invalid_argument("a snapshot entry is not an object");
    store(into, key(o), o, what);
  }
}

template <class Slot, class T>
void collect(const std::map<std::string, Slot>& from, std::vector<T>& to,
             std::vector<std::string>& problems) {
  for (const auto& [key, slot] : from) {
    if (slot.parsed)
      to.push_back(*slot.parsed);
    else
      problems.push_back(slot.problem);
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
    Table<Workload> w;
    Table<Namespace> n;
    Table<k8s::NetworkPolicy> p;
    fill(w, state.value("workloads", json::array()), workload_key, "workload");
    fill(
        n, state.value("namespaces", json::array()),
        [](const json& o) { return o.value("name", std::string()); }, "namespace");
    fill(p, state.value("policies", json::array()), policy_key, "policy");
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
  revision_ = std::max(revision_, revision);
  if (op == "delete") {
    if (kind == "workload") return workloads_.erase(key) > 0;
    if (kind == "namespace") return namespaces_.erase(key) > 0;
    if (kind == "policy") return policies_.erase(key) > 0;
    return false;  // DNS records and kinds added later: not policy's business
  }
  if (kind != "workload" && kind != "namespace" && kind != "policy") return false;
  const json& object = member(event, "object");
  if (!object.is_object()) throw std::invalid_argument("\"object\" is not an object");
  return upsert(kind, key, object);
}

bool StateMirror::upsert(const std::string& kind, const std::string& key, const json& object) {
  if (kind == "workload") return store(workloads_, key, object, "workload");
  if (kind == "namespace") return store(namespaces_, key, object, "namespace");
  return store(policies_, key, object, "policy");
}

ClusterSnapshot StateMirror::snapshot() const {
  ClusterSnapshot s;
  s.revision = revision_;
  collect(workloads_, s.view.workloads, s.problems);
  collect(namespaces_, s.view.namespaces, s.problems);
  collect(policies_, s.view.policies, s.problems);
  return s;
}

}  // namespace weft::npc
