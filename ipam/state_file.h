#pragma once
// DATADIR/ipam.json: the ring and this peer's allocations, as JSON so an operator can read it.
// Written atomically by the router before an allocation is acknowledged (ipam_core.h).
#include <string>
#include <string_view>

#include "ipam/ipam_core.h"

namespace weft::ipam {

std::string state_json(const IpamState& s);
// Throws std::invalid_argument saying what is wrong (never crashes on garbage): bad JSON,
// missing fields, addresses that do not parse, tokens out of order, an allocation outside the
// range or given twice.
IpamState parse_state_json(std::string_view text);

}  // namespace weft::ipam
