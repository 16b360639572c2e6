#pragma once
// IPv4 and IPv6 addresses and prefixes as a NetworkPolicy's ipBlock gives them ("10.0.0.0/8",
// "2001:db8::/64"). Parsing follows Go's net.ParseCIDR as Kubernetes uses it: host bits may be
// set ("10.1.2.3/8" means 10.0.0.0/8); IPv4 octets are decimal without leading zeros (which
// iptables and older tools would read as octal). Pure.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace weft::k8s {

struct IpAddress {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};  // IPv4 in the first 4 bytes
  size_t size() const { return v6 ? 16 : 4; }
  std::string to_string() const;
  auto operator<=>(const IpAddress&) const = default;
};

struct IpCidr {
  IpAddress network;  // host bits cleared
  int prefix = 0;     // 0..32 or 0..128

  bool contains(const IpAddress& a) const;
  // Every address of `inner` is in this prefix.
  bool covers(const IpCidr& inner) const {
    return inner.prefix >= prefix && contains(inner.network);
  }
  std::string to_string() const;  // "10.0.0.0/8"
  auto operator<=>(const IpCidr&) const = default;
};

std::optional<IpAddress> parse_ip(std::string_view s);
std::optional<IpCidr> parse_ip_cidr(std::string_view s);

}  // namespace weft::k8s
