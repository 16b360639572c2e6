#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/output.h"

namespace weft::cli {

void add_version_command(CLI::App& app) {
  app.add_subcommand("version", "Print the version of this weft command")->callback([] {
    say("weft " WEFT_VERSION);
  });
}

}  // namespace weft::cli
