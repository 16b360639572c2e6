#include "cli/ipam_client.h"

#include <chrono>
#include <nlohmann/json.hpp>

#include "cli/output.h"
#include "cli/router_api.h"

namespace weft::cli {

std::string ipam_release(const Context& ctx, const std::string& holder,
                         std::optional<uint32_t> only) {
  nlohmann::json body{{"holder", holder}};
  if (only) body["address"] = format_ipv4(*only);
  try {
    post_json(ctx, "/ipam/release", body);
    return "";
  } catch (const CliError& e) {
    return e.what();
  }
}

std::vector<Ipv4Cidr> ipam_addresses(const Context& ctx, const std::string& holder,
                                     const std::vector<Ipv4Cidr>& given, const std::string& what) {
  // Long enough for IPAM to get space from another peer, or to wait for its ring.
  const auto timeout = std::chrono::seconds(30);
  std::vector<Ipv4Cidr> out;
  auto undo = [&] {
    for (const auto& a : out) ipam_release(ctx, holder, a.addr);
  };
  try {
    if (given.empty()) {
      auto r = post_json_or_refusal(ctx, "/ipam/allocate", {{"holder", holder}}, timeout);
      out.push_back(parse_ipv4_cidr(r.at("address").get<std::string>()));
    }
    for (const auto& a : given) {
      post_json_or_refusal(ctx, "/ipam/allocate", {{"holder", holder}, {"address", a.address()}},
                           timeout);
      out.push_back(a);
    }
  } catch (const RouterRefusal& e) {
    undo();
    throw CliError(
        (given.empty() ? "no address could be allocated " : "cannot claim the address ") + what +
        ": " + e.what() + ". Nothing was changed.");
  } catch (const std::exception& e) {  // json or address parse errors
    if (dynamic_cast<const CliError*>(&e)) throw;
    undo();
    throw CliError(std::string("the router's IPAM answer was not understood (") + e.what() +
                   "); is weft-router the same version as this weft (" WEFT_VERSION ")?");
  }
  return out;
}

}  // namespace weft::cli
