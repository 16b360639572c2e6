#pragma once
// This host's workloads as the router holds them (its cluster state is the truth, so a router
// restart or a second CLI sees the same): read, registered and removed through its API.
#include <string>
#include <vector>

#include "cli/context.h"
#include "common/workloads.h"

namespace weft::cli {

// This host's workloads; every host's with `all_hosts`, optionally of one namespace. When the
// router is not running, this host's from the router's saved state (DATADIR/state.json), so
// `weft launch` can still check them; CliError when that cannot be read.
std::vector<WorkloadRecord> read_workloads(const Context& ctx, bool all_hosts = false,
                                           const std::string& ns = "");
// Registers (or updates) a workload with the router; CliError with the router's words when it
// refuses (an invalid label, port...).
void register_workload(const Context& ctx, const WorkloadRecord& r);
// Forgets a workload of this host by its id (netns label).
void unregister_workload(const Context& ctx, const std::string& id);

}  // namespace weft::cli
