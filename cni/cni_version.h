#pragma once
// The CNI spec versions weft-cni speaks. The result shape depends on the version a configuration
// asks for: 0.3.x and 0.4.0 label each IP with "version"; 1.0.0 dropped that; 1.1.0 added GC and
// STATUS. Versions are compared numerically ("0.10.0" > "0.4.0").
#include <string>
#include <string_view>
#include <vector>

namespace weft::cni {

// What VERSION reports, oldest first. 0.1.0/0.2.0 results (a single ip4 object) are not produced.
const std::vector<std::string>& supported_versions();

// True when `v` is one of supported_versions().
bool is_supported_version(std::string_view v);

// -1, 0, 1 comparing dotted numeric versions; a part that is not a number counts as 0.
int compare_versions(std::string_view a, std::string_view b);

// The newest version we support, used for answers when the input names none we know.
constexpr const char* kNewestVersion = "1.1.0";

}  // namespace weft::cni
