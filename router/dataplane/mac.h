#pragma once
// An Ethernet MAC address: the key of the data plane's forwarding decisions.
#include <array>
#include <compare>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace weft {

struct Mac {
  std::array<uint8_t, 6> b{};

  // The I/G bit: set on group (multicast and broadcast) addresses, which no frame comes from.
  bool is_multicast() const { return (b[0] & 0x01) != 0; }
  bool is_broadcast() const {
    return b == std::array<uint8_t, 6>{0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  }
  bool is_zero() const { return b == std::array<uint8_t, 6>{}; }
  // What a frame's source may be (Linux's is_valid_ether_addr): not a group, not all zeros.
  bool is_unicast_source() const { return !is_multicast() && !is_zero(); }

  // The 48 bits as an integer, first byte most significant.
  uint64_t to_u64() const {
    uint64_t v = 0;
    for (uint8_t x : b) v = v << 8 | x;
    return v;
  }
  // The address as hash input (AddressTable).
  std::pair<uint64_t, uint64_t> words() const { return {to_u64(), 0}; }
  static Mac from_u64(uint64_t v) {
    Mac m;
    for (int i = 5; i >= 0; --i, v >>= 8) m.b[static_cast<size_t>(i)] = static_cast<uint8_t>(v);
    return m;
  }

  // "aa:bb:cc:dd:ee:ff", lower case.
  std::string to_string() const {
    char buf[18];
    std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4],
                  b[5]);
    return buf;
  }
  // Accepts exactly six two-digit hex groups separated by ':', either case.
  static std::optional<Mac> parse(std::string_view s) {
    if (s.size() != 17) return std::nullopt;
    Mac m;
    for (size_t i = 0; i < 6; ++i) {
      if (i > 0 && s[3 * i - 1] != ':') return std::nullopt;
      int hi = hex_digit(s[3 * i]), lo = hex_digit(s[3 * i + 1]);
      if (hi < 0 || lo < 0) return std::nullopt;
      m.b[i] = static_cast<uint8_t>(hi << 4 | lo);
    }
    return m;
  }

  friend bool operator==(const Mac&, const Mac&) = default;
  friend auto operator<=>(const Mac&, const Mac&) = default;

 private:
  static int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }
};

constexpr Mac kBroadcastMac{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};

}  // namespace weft

// Unkeyed, for ordinary containers. Tables fed by the network (MacTable) use a keyed hash instead,
// so that nobody can pick addresses that collide.
template <>
struct std::hash<weft::Mac> {
  size_t operator()(const weft::Mac& m) const noexcept {
    uint64_t x = m.to_u64() * 0x9e3779b97f4a7c15ull;
    return static_cast<size_t>(x ^ (x >> 29));
  }
};
