#pragma once
// weft-npc beside the router: `weft launch` starts it (unless --no-npc), `weft stop` and
// `weft reset` stop it, `weft status` asks it (DATADIR/npc.sock). Its files in the data dir:
// npc.pid, npc.log, npc.sock.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "cli/context.h"

namespace weft::cli {

// Starts weft-npc for this data dir unless one runs, and waits until it has programmed the
// kernel from the router's state (so policies hold when launch returns). Says what it did;
// throws CliError with the tail of npc.log when it cannot start.
void start_npc(const Context& ctx);

// Stops weft-npc for this data dir if it runs (its rules stay in the kernel: fail closed).
// Returns its pid, or nullopt when none ran.
std::optional<pid_t> stop_npc(const Context& ctx);

// GET /status of the running weft-npc; nullopt when none answers.
std::optional<nlohmann::json> npc_status(const Context& ctx);

}  // namespace weft::cli
