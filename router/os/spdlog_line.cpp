#include "router/os/spdlog_line.h"

#include <spdlog/spdlog.h>

namespace weft {

void log_with_spdlog(LogLevel level, const std::string& message) {
  switch (level) {
    case LogLevel::kDebug:
      spdlog::debug("{}", message);
      break;
    case LogLevel::kInfo:
      spdlog::info("{}", message);
      break;
    case LogLevel::kWarn:
      spdlog::warn("{}", message);
      break;
    case LogLevel::kError:
      spdlog::error("{}", message);
      break;
  }
}

}  // namespace weft
