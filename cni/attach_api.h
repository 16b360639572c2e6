#pragma once
// The JSON bodies of the router's workload API as weft-cni speaks them (see router_backend.h
// for the endpoints). Pure, so the shapes are unit-tested without a router.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cni/attachment.h"

namespace weft::cni {

// POST /workloads/attach's body.
nlohmann::json attach_body(const WorkloadRequest& req);

// The router's answer to POST /workloads/attach. Throws CniError kWeftRefused when it is not an
// object with a "mac" string and a non-empty "ips" list of strings.
Attachment parse_attach_answer(const nlohmann::json& answer);

// One workload of GET /workloads, as far as weft-cni needs it.
struct WorkloadSummary {
  std::string container_id;  // "" for workloads attached by `weft attach`
  std::string network;
  std::string mac;
  std::vector<std::string> ips;
};

// GET /workloads's answer: {"workloads": [...]} or a bare array; entries that are not objects
// are skipped. Throws CniError kWeftRefused for anything else.
std::vector<WorkloadSummary> parse_workloads_answer(const nlohmann::json& answer);

}  // namespace weft::cni
