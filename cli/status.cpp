// `weft status`: what the local router knows about the mesh.
#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/npc_process.h"
#include "hostnet/host_net.h"
#include "cli/output.h"
#include "cli/overlay_state.h"
#include "cli/router_api.h"
#include "cli/workload_registry.h"
#include "common/ipam_status_render.h"
#include "common/status_render.h"

namespace weft::cli {

namespace {

struct StatusOptions {
  std::string view;
  bool json = false;
};

// "Overlay: ..." after the summary: the range and MTU, attached workloads, exposed addresses.
std::string overlay_line(const Context& ctx) {
  try {
    auto cfg = read_overlay_config(ctx);
    if (!cfg) return "";
    size_t workloads = 0;
    for (const auto& r : read_workloads(ctx)) workloads += is_stale(r) ? 0 : 1;
    std::vector<std::string> exposed;
    for (const auto& a : bridge_addresses()) exposed.push_back(a.to_string());
    return "\nOverlay: range " + cfg->range + ", MTU " + std::to_string(cfg->mtu) + ", " +
           std::to_string(workloads) + " workload" + (workloads == 1 ? "" : "s") +
           " attached (`weft ps`), " +
           (exposed.empty() ? "host not exposed" : "host exposed as " + join(exposed)) + "\n";
  } catch (const CliError&) {
    return "";  // the summary above is what `weft status` is for
  }
}

// "Policy: ..." after the summary: whether weft-npc enforces NetworkPolicies here.
std::string npc_line(const std::optional<nlohmann::json>& npc) {
  if (!npc)
    return "Policy: weft-npc is not running: policy changes are not enforced on this host (rules "
           "already in the kernel stay). `weft launch` starts it.\n";
  const nlohmann::json& n = *npc;
  std::string line = "Policy: weft-npc enforcing revision " +
                     std::to_string(n.value("applied_revision", 0)) + " (" +
                     std::to_string(n.value("policies", 0)) + " policies, " +
                     std::to_string(n.value("local_workloads", 0)) + " local workloads, " +
                     std::to_string(n.value("rules", 0)) + " rules, " +
                     std::to_string(n.value("sets", 0)) + " ipsets)";
  if (!n.value("router_connected", false)) line += "; NOT following the router (reconnecting)";
  size_t problems = n.value("problems", nlohmann::json::array()).size();
  if (problems)
    line += "; " + std::to_string(problems) + " not enforced as written (`weft status npc`)";
  return line + "\n";
}

void run_status(const Context& ctx, const StatusOptions& o) {
  if (o.view == "npc") {
    auto npc = npc_status(ctx);
    if (!npc)
      throw CliError("weft-npc is not running for " + ctx.datadir() + ": `weft launch` starts it.");
    std::cout << (o.json ? npc->dump(2) + "\n" : npc_line(npc)) << std::flush;
    if (!o.json)
      for (const auto& p : npc->value("problems", nlohmann::json::array()))
        std::cout << "  not enforced as written: " << p.get<std::string>() << "\n";
    return;
  }
  if (o.view == "ipam") {
    nlohmann::json s = get_json(ctx, "/ipam/status");
    std::cout << (o.json ? s.dump(2) + "\n" : render_ipam_status(s)) << std::flush;
    return;
  }
  StatusView view = o.view.empty() ? StatusView::kSummary : *parse_status_view(o.view);
  nlohmann::json status = get_status(ctx);
  const bool summary = view == StatusView::kSummary;
  std::optional<nlohmann::json> npc = summary ? npc_status(ctx) : std::nullopt;
  if (o.json && summary) status["npc"] = npc ? *npc : nlohmann::json(nullptr);
  std::cout << (o.json ? render_status_json(status, view) : render_status(status, view))
            << (!o.json && summary ? overlay_line(ctx) + npc_line(npc) : "") << std::flush;
}

}  // namespace

void add_status_command(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<StatusOptions>();
  CLI::App* cmd = app.add_subcommand(
      "status",
      "Show this host's router and the mesh: a summary and its connections, or one view in "
      "detail (peers, connections, targets, ipam, npc)");
  cmd->add_option("view", o->view,
                  "peers: every peer and its connections; connections: this router's "
                  "connections; targets: the addresses it keeps connecting to; ipam: who owns "
                  "which addresses; npc: weft-npc's enforcement")
      ->check(CLI::IsMember({"peers", "connections", "targets", "ipam", "npc"}));
  cmd->add_flag("--json", o->json, "Print the router's JSON (or the view's part of it)");
  cmd->callback([&ctx, o] { run_status(ctx, *o); });
}

}  // namespace weft::cli
