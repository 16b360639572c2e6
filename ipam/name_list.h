#pragma once
// Texts shared by IpamCore's files: lists of peer names in log lines and messages, and how to
// give a workload a new address.
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

// The command that gives a workload a new address ("workload:NAME" is what `weft attach` uses).
inline std::string renumber_hint(const std::string& holder) {
  std::string w = holder.starts_with("workload:") ? holder.substr(9) : holder;
  return "`weft detach " + w + "` then `weft attach` it again";
}

}  // namespace weft::ipam
