#pragma once
// The objects the cluster state holds, as JSON, and what makes them valid. Everything that
// reaches the state through the API is checked here first; an invalid object is refused with
// a message that names the field, and nothing changes.
//
//   workload:   {"id": "web1" | "pid:123" | "cni:ID", "host": "ce:31:..", "netns": "web1",
//                "pid": 0, "netns_inode": N, "name": "web", "namespace": "default",
//                "labels": {...}, "ports": [{"name": "http", "port": 80, "protocol": "TCP"}],
//                "mac": "..", "ips": ["10.32.0.5/12"], "veth": "vethwe..."}
//   namespace:  {"labels": {...}}   (kubernetes.io/metadata.name=NS is implied, never stored)
//   policy:     a networking.k8s.io/v1 NetworkPolicy as the user wrote it
//   dns_record: {"name": "db.weft.local" (relative names allowed), "ip": "10.32.0.9"}
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/peer_name.h"
#include "k8s/labels.h"

namespace weft::state {

// A refused object: the message names the field, as Kubernetes does.
struct ObjectError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

using Labels = k8s::Labels;

constexpr const char* kDefaultNamespace = "default";
constexpr const char* kNamespaceNameLabel = "kubernetes.io/metadata.name";

// Throws ObjectError unless `s` is a DNS-1123 label (namespaces, workload names).
void check_dns1123_label(const std::string& field, const std::string& s);
// Throws ObjectError unless every key and value is a valid Kubernetes label.
void check_labels(const std::string& field, const Labels& labels);

// A workload as given through the API, checked and completed: namespace defaults to
// "default", labels and ports to empty, `host` set to the owner. Throws ObjectError.
nlohmann::json normalize_workload(const nlohmann::json& in, PeerName host);
// The workload's key id ("web1", "pid:123", "cni:ID").
std::string workload_id(const nlohmann::json& workload);

// A NetworkPolicy as given, checked; returns the form stored (what the user wrote, as JSON)
// and its key "NS/NAME" (namespace defaulting to `default_ns`). Throws ObjectError.
nlohmann::json normalize_policy(const nlohmann::json& in, std::string& key,
                                const std::string& default_ns = kDefaultNamespace);

// Label changes as the API takes them ({"set": {...}, "remove": [...]}), checked, applied to
// `labels` with kubectl's semantics. Throws ObjectError.
Labels apply_label_changes(Labels labels, const nlohmann::json& body);

}  // namespace weft::state
