#pragma once
// The CLI's view of the local router's HTTP API: requests over DATADIR/api.sock, with failures
// turned into messages that say what to do.
#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "cli/context.h"

namespace weft::cli {

// GET /status; nullopt when nothing listens on the socket (no file, refused). Other problems
// (permission, timeout, a broken answer) throw CliError, since "not running" would mislead.
std::optional<nlohmann::json> try_get_status(
    const Context& ctx, std::chrono::milliseconds timeout = std::chrono::seconds(5));
// GET /status, or CliError saying weft is not running and how to start it.
nlohmann::json get_status(const Context& ctx);
// POST with a JSON body; returns the JSON answer of a 2xx response, else throws CliError with
// the router's "error" message.
nlohmann::json post_json(const Context& ctx, const std::string& target, const nlohmann::json& body);

std::string not_running_message(const Context& ctx);

}  // namespace weft::cli
