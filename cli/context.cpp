#include "cli/context.h"

#include <filesystem>

#include "cli/output.h"

namespace weft::cli {

std::string Context::datadir() const {
  // An empty path would resolve to the current directory, which `weft reset` would then clear.
  if (datadir_arg.empty()) {
    throw CliError("the data dir is empty; give --datadir DIR or set WEFT_DATADIR (default " +
                   std::string(kDefaultDatadir) + ").");
  }
  std::string p = std::filesystem::absolute(datadir_arg).lexically_normal().string();
  // "/var/lib/weft/" normalises to "/var/lib/weft/"; file() adds its own slash.
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

}  // namespace weft::cli
