#include "cli/workload_registry.h"

#include <nlohmann/json.hpp>

#include "cli/output.h"
#include "cli/router_api.h"
#include "common/atomic_file.h"
#include "common/http_message.h"
#include "state/state_file.h"

namespace weft::cli {

using nlohmann::json;

namespace {

// This host's workloads from the saved state of a router that is not running.
std::vector<WorkloadRecord> saved_workloads(const Context& ctx) {
  std::string path = ctx.datadir() + "/state.json";
  std::optional<std::string> text, identity;
  try {
    text = read_file(path);
    identity = read_file(ctx.datadir() + "/identity.json");
  } catch (const std::exception& e) {
    throw CliError("cannot read " + path + ": " + e.what() + ". Run the command as root.");
  }
  std::vector<WorkloadRecord> out;
  if (!text || !identity) return out;
  std::string self = json::parse(*identity, nullptr, false).value("name", "");
  try {
    for (const state::Entry& e : state::parse_state_file(*text).entries) {
      if (e.kind != state::Kind::kWorkload || e.deleted || !e.key.starts_with(self + "/")) continue;
      out.push_back(workload_from_json(json::parse(e.value)));
    }
  } catch (const std::exception& e) {
    throw CliError(path + " is damaged (" + e.what() + "); `weft launch` says what to do.");
  }
  return out;
}

}  // namespace

std::vector<WorkloadRecord> read_workloads(const Context& ctx, bool all_hosts,
                                           const std::string& ns) {
  std::string target = "/workloads?all=" + std::string(all_hosts ? "1" : "0");
  if (!ns.empty()) target += "&namespace=" + percent_encode(ns);
  auto j = try_get_json(ctx, target);
  if (!j) {
    std::vector<WorkloadRecord> saved = saved_workloads(ctx);
    if (!ns.empty()) std::erase_if(saved, [&](const WorkloadRecord& r) { return r.ns != ns; });
    return saved;
  }
  std::vector<WorkloadRecord> out;
  try {
    for (const json& w : j->at("workloads")) out.push_back(workload_from_json(w));
  } catch (const std::exception& e) {
    throw CliError(std::string("the router's list of workloads is malformed: ") + e.what());
  }
  return out;
}

void register_workload(const Context& ctx, const WorkloadRecord& r) {
  try {
    post_json_or_refusal(ctx, "/workloads", workload_to_json(r), std::chrono::seconds(10));
  } catch (const RouterRefusal& e) {
    throw CliError(std::string("the router refused the workload: ") + e.what());
  }
}

void unregister_workload(const Context& ctx, const std::string& id) {
  post_json(ctx, "/workloads/delete", {{"id", id}}, std::chrono::seconds(10));
}

}  // namespace weft::cli
