#pragma once
// A workload as the CLI sees it (`weft attach`, `weft ps`): the router keeps them in its cluster
// state (router/os/state_service.h), in the JSON form below; older CLIs kept this host's in
// DATADIR/workloads.json, which the router imports once. Pure: the CLI does the file and
// interface work.
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace weft {

struct WorkloadPort {
  std::string name;  // an IANA service name, e.g. "http"
  int port = 0;
  std::string protocol = "TCP";  // TCP, UDP or SCTP
  bool operator==(const WorkloadPort&) const = default;
};

struct WorkloadRecord {
  std::string netns;  // the name under /run/netns, or "" when attached by pid
  int pid = 0;        // set when attached by pid
  std::string name;
  std::string mac;               // of ethweft, inside the workload
  std::vector<std::string> ips;  // "10.32.1.5/12"
  std::string veth;              // the host end, "vethwe" + 8 hex digits
  // The namespace's inode when it was attached: a name created again, or a pid reused, names
  // another namespace, and the record is then stale.
  uint64_t netns_inode = 0;
  std::string ns = "default";  // the Kubernetes-style namespace (not the network namespace)
  std::map<std::string, std::string> labels;
  std::vector<WorkloadPort> ports;
  std::string host;           // the owning peer's name ("" before the router has it)
  std::string host_nickname;  // for display
  // Set for a container a CNI runtime attached (netns then holds its namespace's path): the
  // runtime's container id and the CNI network's name.
  std::string container_id;
  std::string network;

  // The namespace as users name it: "NAME" or "pid:PID" (a container's: its netns path).
  std::string netns_label() const;
  // The router's key for it: the netns label, or "cni:CONTAINER_ID" for a container.
  std::string id() const;
  bool operator==(const WorkloadRecord&) const = default;
};

// The IPAM holder of a container's addresses (CNI): keyed by its container id, so a repeated
// ADD gets the same address and DEL releases exactly these.
inline std::string cni_ipam_holder(const std::string& container_id) {
  return "cni:" + container_id;
}

// A container's name from its runtime (K8S_POD_NAME) as a workload name, which DNS and
// NetworkPolicies need as a DNS-1123 label: lower case, any other character '-', at most 63,
// no '-' at either end; the container id's first 12 characters when nothing is left, so
// podman's default names ("eager_turing") become "eager-turing".
std::string container_workload_name(const std::string& given, const std::string& container_id);

// {"workloads":[{"id":..,"netns":..,"pid":..,"name":..,"mac":..,"ips":[..],"veth":..,
//   "netns_inode":..,"namespace":..,"labels":{..},"ports":[{"name","port","protocol"}],
//   "container_id":..,"network":.. (containers only)}]}
std::string workloads_json(const std::vector<WorkloadRecord>& records);
// Throws std::invalid_argument saying what is wrong with the document.
std::vector<WorkloadRecord> parse_workloads_json(std::string_view text);
// One workload, in the form the router's API takes and returns.
nlohmann::json workload_to_json(const WorkloadRecord& r);
// Throws std::invalid_argument saying what is wrong.
WorkloadRecord workload_from_json(const nlohmann::json& j);

// A record and whether its namespace is gone (stale).
struct WorkloadRow {
  WorkloadRecord record;
  bool stale = false;
};
// `weft ps`: NETNS NAMESPACE NAME MAC IPS LABELS (and HOST with `all_hosts`), a stale namespace
// marked "(gone)", then a line on what to do about stale records; or a sentence when there are
// none.
std::string render_workloads(const std::vector<WorkloadRow>& rows, bool all_hosts = false);
// `weft ps --json`: an array of the records, each with "stale".
std::string render_workloads_json(const std::vector<WorkloadRow>& rows);

}  // namespace weft
