// `weft rmpeer NAME`: give the address space of a host that is gone for good to this host.
#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/output.h"
#include "cli/router_api.h"

namespace weft::cli {

namespace {

void run_rmpeer(const Context& ctx, const std::string& peer, bool force) {
  nlohmann::json r;
  try {
    r = post_json_or_refusal(ctx, "/ipam/rmpeer", {{"peer", peer}, {"force", force}},
                             std::chrono::seconds(10));
  } catch (const RouterRefusal& e) {
    throw CliError("cannot remove " + peer + ": " + e.what() + ".");
  }
  uint64_t n = r.value("addresses", uint64_t{0});
  if (n == 0) {
    say(r.value("note", "peer " + peer + " owns no address space") + "; nothing to reclaim.");
    return;
  }
  if (std::string note = r.value("note", ""); !note.empty())
    warn("Warning (--force): " + note + ".");
  say("Reclaimed " + std::to_string(n) + " addresses from " + r.value("peer", peer) +
      " for this host; every peer learns it by gossip. `weft status ipam` shows the ring.");
}

}  // namespace

void add_ipam_commands(CLI::App& app, Context& ctx) {
  auto peer = std::make_shared<std::string>();
  auto force = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand(
      "rmpeer",
      "Give the IPAM address space of a peer that is gone for good (by name or nickname) to "
      "this host; refused while that peer is reachable");
  cmd->add_option("peer", *peer, "The peer's name (like ce:31:e0:06:45:1a) or nickname")
      ->required();
  cmd->add_flag("--force", *force,
                "Reclaim even if the peer was reachable within the last 10 minutes (a partition "
                "or restart looks the same): its workloads' addresses may then be given out twice");
  cmd->callback([&ctx, peer, force] { run_rmpeer(ctx, *peer, *force); });
}

}  // namespace weft::cli
