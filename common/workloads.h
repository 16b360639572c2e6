#pragma once
// The workloads attached on one host (`weft attach`), as kept in DATADIR/workloads.json and shown
// by `weft ps`. Pure: the CLI does the file and interface work.
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace weft {

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

  // The namespace as users name it: "NAME" or "pid:PID".
  std::string netns_label() const;
  bool operator==(const WorkloadRecord&) const = default;
};

// {"workloads":[{"netns":..,"pid":..,"name":..,"mac":..,"ips":[..],"veth":..,"netns_inode":..}]}
std::string workloads_json(const std::vector<WorkloadRecord>& records);
// Throws std::invalid_argument saying what is wrong with the document.
std::vector<WorkloadRecord> parse_workloads_json(std::string_view text);

// A record and whether its namespace is gone (stale).
struct WorkloadRow {
  WorkloadRecord record;
  bool stale = false;
};
// `weft ps`: NETNS NAME MAC IPS, a stale namespace marked "(gone)", then a line on what to do about
// stale records; or a sentence when there are none.
std::string render_workloads(const std::vector<WorkloadRow>& rows);
// `weft ps --json`: an array of the records, each with "stale".
std::string render_workloads_json(const std::vector<WorkloadRow>& rows);

}  // namespace weft
