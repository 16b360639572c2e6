#include "cli/output.h"

#include <cstdio>

namespace weft::cli {

void say(const std::string& message) {
  std::fwrite(message.data(), 1, message.size(), stdout);
  std::fputc('\n', stdout);
  // The router may be started right after; flushing keeps our lines in order with its output.
  std::fflush(stdout);
}

void warn(const std::string& message) {
  std::fflush(stdout);
  std::fwrite(message.data(), 1, message.size(), stderr);
  std::fputc('\n', stderr);
}

}  // namespace weft::cli
