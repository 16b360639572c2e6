#include "npc/cluster_view.h"

#include <algorithm>

namespace weft::npc {

k8s::Labels ClusterView::namespace_labels(const std::string& ns) const {
  k8s::Labels out;
  for (const Namespace& n : namespaces)
    if (n.name == ns) out = n.labels;
  out[kNamespaceNameLabel] = ns;
  return out;
}

const Workload* ClusterView::find_workload(const std::string& ns, const std::string& name) const {
  for (const Workload& w : workloads)
    if (w.ns == ns && w.name == name) return &w;
  return nullptr;
}

const Workload* ClusterView::find_workload_by_ip(const std::string& ip) const {
  for (const Workload& w : workloads)
    if (std::find(w.ips.begin(), w.ips.end(), ip) != w.ips.end()) return &w;
  return nullptr;
}

void ClusterModel::clear() {
  workloads_.clear();
  namespaces_.clear();
  policies_.clear();
}

ClusterView ClusterModel::view() const {
  ClusterView v;
  for (const auto& [k, w] : workloads_) v.workloads.push_back(w);
  for (const auto& [k, n] : namespaces_) v.namespaces.push_back(n);
  for (const auto& [k, p] : policies_) v.policies.push_back(p);
  return v;
}

}  // namespace weft::npc
