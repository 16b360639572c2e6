#pragma once
// IPv4 addresses with a prefix length ("10.32.1.5/12"), as users give them for workload addresses
// and the overlay range. Pure.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace weft {

struct Ipv4Cidr {
  uint32_t addr = 0;  // host byte order
  int prefix = 32;    // 0..32

  uint32_t mask() const { return prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix); }
  uint32_t network() const { return addr & mask(); }
  uint32_t broadcast() const { return addr | ~mask(); }
  bool contains(uint32_t a) const { return (a & mask()) == network(); }
  // Every address of `other` is inside this prefix.
  bool covers(const Ipv4Cidr& other) const {
    return prefix <= other.prefix && contains(other.addr);
  }
  // "10.32.1.5/12" and "10.32.1.5".
  std::string to_string() const;
  std::string address() const;
  bool operator==(const Ipv4Cidr&) const = default;
};

// "a.b.c.d" with decimal octets 0..255 and no leading zeros (which some tools read as octal).
std::optional<uint32_t> parse_ipv4(std::string_view s);
std::string format_ipv4(uint32_t addr);

// "a.b.c.d/N"; a bare "a.b.c.d" gets `default_prefix` when one is given. Throws
// std::invalid_argument with a sentence for the user (without a final period).
Ipv4Cidr parse_ipv4_cidr(std::string_view s, std::optional<int> default_prefix = std::nullopt);

}  // namespace weft
