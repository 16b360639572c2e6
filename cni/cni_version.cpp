#include "cni/cni_version.h"

#include <algorithm>
#include <charconv>

namespace weft::cni {

const std::vector<std::string>& supported_versions() {
  static const std::vector<std::string> kVersions{"0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"};
  return kVersions;
}

bool is_supported_version(std::string_view v) {
  const auto& all = supported_versions();
  return std::find(all.begin(), all.end(), v) != all.end();
}

namespace {

// The next dotted part of `s` as a number (0 when not one), consuming it and its dot.
unsigned long next_part(std::string_view& s) {
  size_t dot = s.find('.');
  std::string_view part = s.substr(0, dot);
  s = dot == std::string_view::npos ? std::string_view{} : s.substr(dot + 1);
  unsigned long n = 0;
  auto [ptr, ec] = std::from_chars(part.data(), part.data() + part.size(), n);
  return ec == std::errc{} && ptr == part.data() + part.size() ? n : 0;
}

}  // namespace

int compare_versions(std::string_view a, std::string_view b) {
  while (!a.empty() || !b.empty()) {
    unsigned long x = next_part(a), y = next_part(b);
    if (x != y) return x < y ? -1 : 1;
  }
  return 0;
}

}  // namespace weft::cni
