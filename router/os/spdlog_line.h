#pragma once
// A core's log line (common/log_level.h) written to the router's log (spdlog).
#include <string>

#include "common/log_level.h"

namespace weft {

void log_with_spdlog(LogLevel level, const std::string& message);

}  // namespace weft
