#pragma once
// The CLI's view of the local router's HTTP API: requests over DATADIR/api.sock, with failures
// turned into messages that say what to do.
#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "cli/context.h"
#include "cli/output.h"

namespace weft::cli {

// GET /status; nullopt when nothing listens on the socket (no file, refused). Other problems
// (permission, timeout, a broken answer) throw CliError, since "not running" would mislead.
std::optional<nlohmann::json> try_get_status(
    const Context& ctx, std::chrono::milliseconds timeout = std::chrono::seconds(5));
// GET /status, or CliError saying weft is not running and how to start it.
nlohmann::json get_status(const Context& ctx);
// POST with a JSON body; returns the JSON answer of a 2xx response, else throws CliError with
// the router's "error" message.
nlohmann::json post_json(const Context& ctx, const std::string& target, const nlohmann::json& body,
                         std::chrono::milliseconds timeout = std::chrono::seconds(5));
// GET; the JSON answer of a 2xx response, else CliError with the router's "error" message.
nlohmann::json get_json(const Context& ctx, const std::string& target);
// As get_json, but nullopt when no router listens on the socket.
std::optional<nlohmann::json> try_get_json(const Context& ctx, const std::string& target);

// The router's own words when it refuses a request (an IPAM error says what to do).
struct RouterRefusal : CliError {
  RouterRefusal(int status_code, const std::string& msg) : CliError(msg), status(status_code) {}
  int status;
};
// POST that throws RouterRefusal (the router's "error" message alone) on a non-2xx answer.
nlohmann::json post_json_or_refusal(const Context& ctx, const std::string& target,
                                    const nlohmann::json& body, std::chrono::milliseconds timeout);

std::string not_running_message(const Context& ctx);

}  // namespace weft::cli
