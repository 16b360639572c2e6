// The `weft` command: sets a host up and talks to the local router's API (ARCHITECTURE.md §1).
#include <CLI/CLI.hpp>
#include <cstdlib>
#include <exception>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/output.h"
#include "hostnet/host_net.h"

int main(int argc, char** argv) {
  using namespace weft::cli;
  Context ctx;
  CLI::App app{"weft " WEFT_VERSION
               ": an encrypted mesh overlay network.\n"
               "Run `weft launch` on each host (give it another host's address to join a mesh), "
               "then `weft status` to see it, and `weft attach` to put workloads on the overlay.",
               "weft"};
  app.set_version_flag("--version", "weft " WEFT_VERSION);
  app.add_option("--datadir", ctx.datadir_arg,
                 "Where this host's weft state lives: identity, cluster secret, targets, logs")
      ->envname("WEFT_DATADIR")
      ->capture_default_str();
  // Global options may follow the subcommand too: `weft status --datadir /tmp/w`.
  app.fallthrough();
  app.require_subcommand(1);

  add_launch_command(app, ctx);
  add_status_command(app, ctx);
  add_target_commands(app, ctx);
  add_stop_commands(app, ctx);
  add_attach_commands(app, ctx);
  add_expose_commands(app, ctx);
  add_ipam_commands(app, ctx);
  add_label_commands(app, ctx);
  add_policy_commands(app, ctx);
  add_dns_commands(app, ctx);
  add_setup_cni_command(app, ctx);
  add_version_command(app);

  if (argc <= 1) {
    // A bare `weft` is someone finding their way: the overview is more use than an error.
    warn(app.help());
    return 1;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // Prints the help or the usage error; every usage error exits 1 whatever CLI11's own code.
    return app.exit(e) == 0 ? 0 : 1;
  } catch (const CliError& e) {
    warn(e.what());
    return 1;
  } catch (const weft::HostNetError& e) {  // the host side of the overlay says what to do
    warn(e.what());
    return 1;
  } catch (const std::exception& e) {
    warn(std::string("weft: unexpected error: ") + e.what());
    return 1;
  }
  return 0;
}
