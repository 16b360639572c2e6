#pragma once
// The CLI's side of IPAM: workloads (`weft attach`) and the host (`weft expose`) get their
// addresses from the router, so no two hosts hand out the same one.
#include <optional>
#include <string>
#include <vector>

#include "cli/context.h"
#include "common/ipv4_cidr.h"

namespace weft::cli {

// The IPAM holder of a workload's addresses (its name is unique on this host), and the host's.
inline std::string ipam_holder(const std::string& workload) {
  return "workload:" + workload;
}
constexpr const char* kHostHolder = "host";

// The given addresses, claimed cluster-wide, or (none given) one allocated from the range.
// Throws CliError with the router's reason (`what` says for whom, e.g. "for netns w1"); then
// nothing stays allocated to `holder` from this call.
std::vector<Ipv4Cidr> ipam_addresses(const Context& ctx, const std::string& holder,
                                     const std::vector<Ipv4Cidr>& given, const std::string& what);

// Best effort: frees the holder's addresses (or just `only`). Returns an error text, or "".
std::string ipam_release(const Context& ctx, const std::string& holder,
                         std::optional<uint32_t> only = std::nullopt);

}  // namespace weft::cli
