#include "state/state_file.h"

#include <nlohmann/json.hpp>

namespace weft::state {

using nlohmann::json;

std::string state_file_json(const ObjectTable& table, uint64_t hlc, uint64_t revision) {
  json entries = json::array();
  table.for_each([&](const Entry& e) {
    entries.push_back({{"kind", kind_name(e.kind)},
                       {"key", e.key},
                       {"hlc", e.version.hlc},
                       {"writer", format_peer_name(e.version.writer)},
                       {"deleted", e.deleted},
                       {"value", e.value}});
  });
  return json{{"format", 1}, {"hlc", hlc}, {"revision", revision}, {"entries", entries}}.dump() +
         "\n";
}

SavedState parse_state_file(std::string_view text) {
  SavedState s;
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    throw std::invalid_argument(std::string("not JSON: ") + e.what());
  }
  try {
    if (j.at("format").get<int>() != 1)
      throw std::invalid_argument("unknown format " + j.at("format").dump());
    s.hlc = j.at("hlc").get<uint64_t>();
    s.revision = j.at("revision").get<uint64_t>();
    for (const json& x : j.at("entries")) {
      Entry e;
      auto kind = parse_kind(x.at("kind").get<std::string>());
      if (!kind) throw std::invalid_argument("unknown kind " + x.at("kind").dump());
      e.kind = *kind;
      e.key = x.at("key").get<std::string>();
      e.version.hlc = x.at("hlc").get<uint64_t>();
      auto w = parse_peer_name(x.at("writer").get<std::string>());
      if (!w) throw std::invalid_argument("bad writer " + x.at("writer").dump());
      e.version.writer = *w;
      e.deleted = x.at("deleted").get<bool>();
      e.value = x.at("value").get<std::string>();
      if (e.key.empty() || e.deleted != e.value.empty())
        throw std::invalid_argument("inconsistent entry " + x.at("key").dump());
      s.entries.push_back(std::move(e));
    }
  } catch (const json::exception& e) {
    throw std::invalid_argument(e.what());
  }
  return s;
}

}  // namespace weft::state
