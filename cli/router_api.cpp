#include "cli/router_api.h"

#include <cerrno>

#include "cli/output.h"
#include "common/http_client.h"

namespace weft::cli {

namespace {

using nlohmann::json;

// The router's own words for a failed request, when it gave any.
std::string error_of(const HttpResult& r) {
  json j = json::parse(r.body, nullptr, false);
  if (j.is_object() && j.contains("error") && j["error"].is_string()) {
    return j["error"].get<std::string>();
  }
  return r.body.empty() ? "(no details)" : r.body;
}

// Runs one request; maps transport failures to CliError, and "nothing there" to nullopt.
std::optional<HttpResult> request(const Context& ctx, const std::string& method,
                                  const std::string& target, const std::string& body,
                                  std::chrono::milliseconds timeout) {
  try {
    return http_request(ctx.api_socket(), method, target, body, timeout);
  } catch (const HttpConnectError& e) {
    if (e.code == EACCES || e.code == EPERM) {
      throw CliError(
          "permission denied on " + ctx.api_socket() +
          ": the weft API is only open to root. Run the command as root (sudo weft ...).");
    }
    if (e.code == ENAMETOOLONG) throw CliError(e.what());
    return std::nullopt;
  } catch (const HttpTimeoutError& e) {
    throw CliError(std::string(e.what()) + ". The router may be overloaded or stuck: see " +
                   ctx.log_file() + "; `weft stop` then `weft launch` restarts it.");
  } catch (const std::runtime_error& e) {
    throw CliError(std::string(e.what()) + ". See " + ctx.log_file() + " for the router's side.");
  }
}

json parse_answer(const Context& ctx, const std::string& target, const HttpResult& r) {
  json j = json::parse(r.body, nullptr, false);
  if (j.is_discarded()) {
    throw CliError("the weft router's answer to " + target + " is not valid JSON. See " +
                   ctx.log_file() +
                   "; is weft-router the same version as this weft (" WEFT_VERSION ")?");
  }
  return j;
}

}  // namespace

std::string not_running_message(const Context& ctx) {
  return "weft is not running on this host (no router at " + ctx.api_socket() +
         "). Start it with `weft launch`.";
}

std::optional<json> try_get_status(const Context& ctx, std::chrono::milliseconds timeout) {
  auto r = request(ctx, "GET", "/status", "", timeout);
  if (!r) return std::nullopt;
  if (r->status != 200) {
    throw CliError("the weft router answered GET /status with HTTP " + std::to_string(r->status) +
                   ": " + error_of(*r) + ". See " + ctx.log_file() + ".");
  }
  return parse_answer(ctx, "/status", *r);
}

json get_status(const Context& ctx) {
  auto s = try_get_status(ctx);
  if (!s) throw CliError(not_running_message(ctx));
  return *s;
}

json post_json(const Context& ctx, const std::string& target, const json& body,
               std::chrono::milliseconds timeout) {
  auto r = request(ctx, "POST", target, body.dump(), timeout);
  if (!r) throw CliError(not_running_message(ctx));
  if (r->status < 200 || r->status > 299) {
    throw CliError("the weft router refused POST " + target + " (HTTP " +
                   std::to_string(r->status) + "): " + error_of(*r));
  }
  return parse_answer(ctx, target, *r);
}

json post_json_or_refusal(const Context& ctx, const std::string& target, const json& body,
                          std::chrono::milliseconds timeout) {
  auto r = request(ctx, "POST", target, body.dump(), timeout);
  if (!r) throw CliError(not_running_message(ctx));
  if (r->status < 200 || r->status > 299) throw RouterRefusal(r->status, error_of(*r));
  return parse_answer(ctx, target, *r);
}

json get_json(const Context& ctx, const std::string& target) {
  auto j = try_get_json(ctx, target);
  if (!j) throw CliError(not_running_message(ctx));
  return *j;
}

std::optional<json> try_get_json(const Context& ctx, const std::string& target) {
  auto r = request(ctx, "GET", target, "", std::chrono::seconds(5));
  if (!r) return std::nullopt;
  if (r->status < 200 || r->status > 299) {
    throw CliError("the weft router answered GET " + target + " with HTTP " +
                   std::to_string(r->status) + ": " + error_of(*r));
  }
  return parse_answer(ctx, target, *r);
}

}  // namespace weft::cli
