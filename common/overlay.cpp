#include "common/overlay.h"

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "common/ipv4_cidr.h"

namespace weft {

using nlohmann::json;

bool is_weft_veth_name(std::string_view ifname) {
  std::string_view prefix = kHostVethPrefix;
  if (ifname.size() != prefix.size() + 8 || ifname.substr(0, prefix.size()) != prefix) {
    return false;
  }
  for (char c : ifname.substr(prefix.size())) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool is_weft_interface(std::string_view ifname) {
  return ifname == kBridgeName || ifname.rfind("weft-", 0) == 0 || is_weft_veth_name(ifname);
}

std::string example_address(const Ipv4Cidr& range) {
  Ipv4Cidr ex{range.network() + 0x105, range.prefix};
  if (!range.contains(ex.addr) || ex.addr == range.broadcast()) ex.addr = range.network() + 1;
  return ex.to_string();
}

std::string overlay_config_json(const OverlayConfig& c) {
  return json{{"mtu", c.mtu}, {"range", c.range}}.dump() + "\n";
}

OverlayConfig parse_overlay_config(std::string_view text) {
  json j = json::parse(text, nullptr, false);
  if (!j.is_object() || !j.contains("mtu") || !j["mtu"].is_number_integer() ||
      !j.contains("range") || !j["range"].is_string()) {
    throw std::invalid_argument("not a JSON object with an integer \"mtu\" and a string \"range\"");
  }
  OverlayConfig c{j["mtu"].get<int>(), j["range"].get<std::string>()};
  if (c.mtu < kMinOverlayMtu || c.mtu > kMaxOverlayMtu) {
    throw std::invalid_argument("mtu " + std::to_string(c.mtu) + " is outside " +
                                std::to_string(kMinOverlayMtu) + ".." +
                                std::to_string(kMaxOverlayMtu));
  }
  Ipv4Cidr r = parse_ipv4_cidr(c.range);  // throws with its own reason
  if (r.addr != r.network()) throw std::invalid_argument("range " + c.range + " has host bits set");
  return c;
}

std::vector<LinkMtu> links_from_ip_json(const json& links) {
  std::vector<LinkMtu> out;
  if (!links.is_array()) return out;
  for (const auto& l : links) {
    if (!l.is_object() || !l.contains("ifname") || !l["ifname"].is_string() || !l.contains("mtu") ||
        !l["mtu"].is_number_integer()) {
      continue;
    }
    LinkMtu m{l["ifname"].get<std::string>(), l["mtu"].get<int>()};
    if (l.contains("flags") && l["flags"].is_array()) {
      for (const auto& f : l["flags"]) {
        m.up = m.up || f == "UP";
        m.loopback = m.loopback || f == "LOOPBACK";
      }
    }
    out.push_back(std::move(m));
  }
  return out;
}

std::optional<std::string> default_route_dev(const json& routes) {
  if (!routes.is_array()) return std::nullopt;
  for (const auto& r : routes) {
    if (r.is_object() && r.contains("dev") && r["dev"].is_string()) {
      return r["dev"].get<std::string>();
    }
  }
  return std::nullopt;
}

UnderlayMtu choose_underlay_mtu(const std::vector<LinkMtu>& links,
                                const std::optional<std::string>& default_dev) {
  if (default_dev && !is_weft_interface(*default_dev)) {
    for (const auto& l : links) {
      if (l.name == *default_dev && l.mtu > 0) {
        return {l.mtu, l.name + ", which holds the default route"};
      }
    }
  }
  const LinkMtu* best = nullptr;
  for (const auto& l : links) {
    if (!l.up || l.loopback || l.mtu <= 0 || is_weft_interface(l.name)) continue;
    if (!best || l.mtu > best->mtu) best = &l;
  }
  if (best) return {best->mtu, best->name + ", the largest MTU of this host's interfaces"};
  return {kDefaultUnderlayMtu, "no interface is up, so the usual 1500"};
}

}  // namespace weft
