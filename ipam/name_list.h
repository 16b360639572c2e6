#pragma once
// Lists of peer names in log lines and messages.
#include <string>
#include <vector>

namespace weft::ipam {

// "a, b, c", or "a, b, c, d, e and 7 more" for long lists (log lines stay readable).
inline std::string join_names(const std::vector<std::string>& v) {
  constexpr size_t kShown = 5;
  std::string out;
  for (size_t i = 0; i < v.size() && i < kShown; ++i) out += (out.empty() ? "" : ", ") + v[i];
  if (v.size() > kShown) out += " and " + std::to_string(v.size() - kShown) + " more";
  return out;
}

}  // namespace weft::ipam
