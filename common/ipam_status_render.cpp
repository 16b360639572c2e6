#include "common/ipam_status_render.h"

#include <nlohmann/json.hpp>

#include "common/text_table.h"

namespace weft {

namespace {

using json = nlohmann::json;

std::string field(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key)) return "";
  const json& v = j[key];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
  if (v.is_number()) return v.dump();
  return "";
}

const json& list(const json& j, const char* key) {
  static const json kEmpty = json::array();
  if (!j.is_object() || !j.contains(key) || !j[key].is_array()) return kEmpty;
  return j[key];
}

}  // namespace

std::string render_ipam_status(const json& s) {
  std::string out = "IPAM: range " + field(s, "range") + ", " + field(s, "state") + " (bootstrap " +
                    field(s, "init") + ")\n";
  const json& owners = list(s, "owners");
  if (!owners.empty()) {
    std::vector<std::vector<std::string>> rows{
        {"PEER", "NICKNAME", "ADDRESSES", "USED", "FREE", "REACHABLE", "RANGES"}};
    std::vector<std::string> unreachable;
    for (const auto& o : owners) {
      std::string ranges;
      // Appended piece by piece: GCC 12 -O3 wrongly warns (-Wrestrict, GCC bug 105651) on
      // `"literal" + std::string&&`, which breaks -Werror Release builds.
      for (const auto& r : list(o, "ranges")) {
        if (!r.is_string()) continue;
        if (!ranges.empty()) ranges += ' ';
        ranges += r.get<std::string>();
      }
      bool self = o.is_object() && o.value("self", false);
      bool reachable = o.is_object() && o.value("reachable", false);
      if (!reachable)
        unreachable.push_back(field(o, "nickname").empty() ? field(o, "name")
                                                           : field(o, "nickname"));
      rows.push_back({field(o, "name") + (self ? " (this host)" : ""), field(o, "nickname"),
                      field(o, "addresses"), field(o, "used"), field(o, "free"),
                      reachable ? "yes" : "NO", ranges});
    }
    out += text_table(rows, "  ");
    if (!unreachable.empty()) {
      out +=
          "Unreachable peers hold space: if a host is gone for good, `weft rmpeer NAME` on a "
          "host that is up gives its space to that host (";
      for (size_t i = 0; i < unreachable.size(); ++i) out += (i ? ", " : "") + unreachable[i];
      out += ").\n";
    }
  }
  size_t n = list(s, "allocations").size();
  out += "Allocated on this host: " + std::to_string(n) + " address" + (n == 1 ? "" : "es") +
         " (`weft ps` shows which workload has which)";
  std::string pending = field(s, "pending");
  if (!pending.empty() && pending != "0") out += "; " + pending + " waiting";
  out += "\n";
  for (const auto& c : list(s, "conflicts"))
    if (c.is_string()) out += "CONFLICT: " + c.get<std::string>() + "\n";
  return out;
}

}  // namespace weft
