#pragma once
// Runs iproute2 / sysctl commands for link setup (no shell; arguments passed as they are).
#include <string>
#include <vector>

namespace weft {

struct CommandResult {
  int status = -1;     // exit code, or -1 when it could not run
  std::string output;  // stdout and stderr together
};

CommandResult run_command(const std::vector<std::string>& argv);
// Throws std::runtime_error with the command and its output when it fails.
void run_or_throw(const std::vector<std::string>& argv);

}  // namespace weft
