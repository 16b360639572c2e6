#pragma once
// Turns the router's /status JSON into what `weft status` prints. Pure, so the wording and the
// tolerance of missing or mistyped fields (an older or newer router) are unit-tested.
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace weft {

enum class StatusView { kSummary, kPeers, kConnections, kTargets };

// "peers", "connections", "targets"; nullopt for anything else.
std::optional<StatusView> parse_status_view(std::string_view s);

// Human-readable text, ending with a newline.
std::string render_status(const nlohmann::json& status, StatusView view);
// The whole document (summary) or the view's member, pretty-printed with a trailing newline; a
// missing member prints as an empty array.
std::string render_status_json(const nlohmann::json& status, StatusView view);

// "ce:31:e0:06:45:1a (h1)", or whichever part is known, or "-".
std::string peer_label(std::string_view name, std::string_view nickname);

}  // namespace weft
