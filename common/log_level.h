#pragma once
// How serious a log line from a core is; the adapter maps it onto its logger.
namespace weft {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

}  // namespace weft
