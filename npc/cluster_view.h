#pragma once
// What weft-npc knows about the cluster: every workload (with its namespace, labels, named ports,
// addresses and host), every namespace's labels and every NetworkPolicy. The router serves it
// (cluster_view_json.h); the planner and `policy why` read it. ClusterModel keeps one up to date
// from change events and always yields the same view for the same final state, whatever order
// the events came in. Pure.
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "k8s/labels.h"
#include "k8s/network_policy.h"

namespace weft::npc {

struct NamedPort {
  std::string name;  // an IANA service name ("serve-80-tcp")
  int port = 0;
  std::string protocol = "TCP";  // "TCP", "UDP" or "SCTP"
  bool operator==(const NamedPort&) const = default;
  auto operator<=>(const NamedPort&) const = default;
};

struct Workload {
  std::string ns = "default", name;
  k8s::Labels labels;
  std::vector<NamedPort> ports;
  std::vector<std::string> ips;  // "10.32.0.5" (no prefix)
  std::string host;              // peer name of its host
  std::string veth;              // host-side bridge port ("vethwe1234abcd"), for local workloads
  std::string mac;
  std::string key() const { return ns + "/" + name; }
  bool operator==(const Workload&) const = default;
};

// The label every namespace carries implicitly (Kubernetes sets it on every namespace).
inline constexpr const char* kNamespaceNameLabel = "kubernetes.io/metadata.name";

struct Namespace {
  std::string name;
  k8s::Labels labels;  // includes kubernetes.io/metadata.name
  bool operator==(const Namespace&) const = default;
};

struct ClusterView {
  std::vector<Workload> workloads;
  std::vector<Namespace> namespaces;
  std::vector<k8s::NetworkPolicy> policies;

  // The namespace's labels, with kubernetes.io/metadata.name=NS added (also for a namespace that
  // has no entry: a workload's namespace exists as far as selectors are concerned).
  k8s::Labels namespace_labels(const std::string& ns) const;
  const Workload* find_workload(const std::string& ns, const std::string& name) const;
  // The workload that has `ip` among its addresses (the first, if several claim it).
  const Workload* find_workload_by_ip(const std::string& ip) const;
};

// A ClusterView maintained by events. view() lists everything in key order (workloads and
// policies by namespace/name, namespaces by name), so equal states give equal views.
class ClusterModel {
 public:
  void upsert_workload(const Workload& w) { workloads_[{w.ns, w.name}] = w; }
  void remove_workload(const std::string& ns, const std::string& name) {
    workloads_.erase({ns, name});
  }
  void upsert_namespace(const Namespace& n) { namespaces_[n.name] = n; }
  void remove_namespace(const std::string& name) { namespaces_.erase(name); }
  void upsert_policy(const k8s::NetworkPolicy& p) { policies_[{p.ns, p.name}] = p; }
  void remove_policy(const std::string& ns, const std::string& name) {
    policies_.erase({ns, name});
  }
  void clear();

  ClusterView view() const;

 private:
  std::map<std::pair<std::string, std::string>, Workload> workloads_;
  std::map<std::string, Namespace> namespaces_;
  std::map<std::pair<std::string, std::string>, k8s::NetworkPolicy> policies_;
};

}  // namespace weft::npc
