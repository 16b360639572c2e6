#pragma once
// This host's addresses, for telling the user what other hosts should connect to.
#include <string>
#include <vector>

namespace weft::cli {

// Non-loopback, non-link-local IPv4 addresses of interfaces that are up, in interface order,
// without duplicates.
std::vector<std::string> host_ipv4_addresses();

}  // namespace weft::cli
