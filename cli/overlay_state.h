#pragma once
// What `weft launch` and `weft attach` keep in the data dir about the overlay on this host:
// overlay.json (MTU, range); this host's workloads as the router holds them
// (cli/workload_registry.h); and how a workload's network namespace is found again.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cli/context.h"
#include "common/overlay.h"
#include "common/workloads.h"

namespace weft::cli {

// nullopt when the file does not exist; CliError when it cannot be read or parsed.
std::optional<OverlayConfig> read_overlay_config(const Context& ctx);
void write_overlay_config(const Context& ctx, const OverlayConfig& c);
// As read_overlay_config, but a missing file is a CliError saying to run `weft launch`.
OverlayConfig require_overlay_config(const Context& ctx);

// A network namespace as the user named it: a name from `ip netns list`, or a process's pid; a
// container's (CNI) is recorded by its path ("/run/netns/..."), which `name` then holds.
struct NetnsRef {
  std::string name;
  int pid = 0;
  std::string path() const;   // /run/netns/NAME or /proc/PID/ns/net
  std::string label() const;  // NAME or pid:PID, as in workloads.json and `weft ps`
};
NetnsRef netns_of(const WorkloadRecord& r);

// The record's namespace no longer exists, or its name or pid now means another namespace.
bool is_stale(const WorkloadRecord& r);

}  // namespace weft::cli
