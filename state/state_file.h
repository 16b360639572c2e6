#pragma once
// The cluster state as kept in DATADIR/state.json (written atomically by the adapter):
//   {"format": 1, "hlc": N, "revision": N,
//    "entries": [{"kind": "policy", "key": "ns/name", "hlc": N, "writer": "ce:31:..",
//                 "deleted": false, "value": "<the object's JSON, as a string>"}, ...]}
// Values are kept as the exact strings replicated, so a reload changes no byte.
#include <string>
#include <string_view>

#include "state/state_core.h"

namespace weft::state {

std::string state_file_json(const ObjectTable& table, uint64_t hlc, uint64_t revision);
// Throws std::invalid_argument saying what is wrong.
SavedState parse_state_file(std::string_view text);

}  // namespace weft::state
