#pragma once
// `weft status ipam`: the router's /ipam/status JSON as a table. Pure; a field missing or of the
// wrong type (a router of another version) shows as blank, never an exception.
#include <nlohmann/json_fwd.hpp>
#include <string>

namespace weft {

std::string render_ipam_status(const nlohmann::json& status);

}  // namespace weft
