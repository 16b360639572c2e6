#pragma once
// How much a core's log line matters. Cores hand lines to their adapter with one of these (MeshIo::
// log, the IPAM core's log callback); the adapter maps it onto its logger (spdlog in the router).
namespace weft {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

}  // namespace weft
