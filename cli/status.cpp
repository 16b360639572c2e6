// `weft status`: what the local router knows about the mesh.
#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/router_api.h"
#include "common/status_render.h"

namespace weft::cli {

namespace {

struct StatusOptions {
  std::string view;
  bool json = false;
};

void run_status(const Context& ctx, const StatusOptions& o) {
  StatusView view = o.view.empty() ? StatusView::kSummary : *parse_status_view(o.view);
  nlohmann::json status = get_status(ctx);
  std::cout << (o.json ? render_status_json(status, view) : render_status(status, view))
            << std::flush;
}

}  // namespace

void add_status_command(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<StatusOptions>();
  CLI::App* cmd = app.add_subcommand(
      "status",
      "Show this host's router and the mesh: a summary and its connections, or one view in "
      "detail (peers, connections, targets)");
  cmd->add_option("view", o->view,
                  "peers: every peer and its connections; connections: this router's "
                  "connections; targets: the addresses it keeps connecting to")
      ->check(CLI::IsMember({"peers", "connections", "targets"}));
  cmd->add_flag("--json", o->json, "Print the router's JSON (or the view's part of it)");
  cmd->callback([&ctx, o] { run_status(ctx, *o); });
}

}  // namespace weft::cli
