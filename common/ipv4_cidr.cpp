#include "common/ipv4_cidr.h"

#include <stdexcept>

namespace weft {

std::optional<uint32_t> parse_ipv4(std::string_view s) {
  uint32_t addr = 0;
  for (int i = 0; i < 4; ++i) {
    if (i > 0) {
      if (s.empty() || s.front() != '.') return std::nullopt;
      s.remove_prefix(1);
    }
    size_t n = 0;
    unsigned v = 0;
    while (n < s.size() && n < 4 && s[n] >= '0' && s[n] <= '9') v = v * 10 + (s[n++] - '0');
    if (n == 0 || n > 3 || v > 255 || (n > 1 && s[0] == '0')) return std::nullopt;
    s.remove_prefix(n);
    addr = (addr << 8) | v;
  }
  if (!s.empty()) return std::nullopt;
  return addr;
}

std::string format_ipv4(uint32_t a) {
  return std::to_string(a >> 24) + "." + std::to_string((a >> 16) & 255) + "." +
         std::to_string((a >> 8) & 255) + "." + std::to_string(a & 255);
}

std::string Ipv4Cidr::address() const {
  return format_ipv4(addr);
}
std::string Ipv4Cidr::to_string() const {
  return address() + "/" + std::to_string(prefix);
}

Ipv4Cidr parse_ipv4_cidr(std::string_view s, std::optional<int> default_prefix) {
  // Appended, not `"\"" + std::string(s)`: GCC 12 -O3 warns wrongly (-Wrestrict) on that.
  const std::string quoted = std::string("\"").append(s).append("\"");
  if (s.find(':') != std::string_view::npos) {
    throw std::invalid_argument(quoted +
                                " looks like an IPv6 address; weft supports IPv4 overlay "
                                "addresses only for now, like 10.32.1.5/12");
  }
  size_t slash = s.find('/');
  std::string_view ip = s.substr(0, slash);
  auto addr = parse_ipv4(ip);
  if (!addr) {
    throw std::invalid_argument(quoted + " is not an IPv4 address with a prefix length, like " +
                                "10.32.1.5/12");
  }
  Ipv4Cidr c{*addr, 32};
  if (slash == std::string_view::npos) {
    if (!default_prefix) {
      throw std::invalid_argument(quoted + " has no prefix length; write it like " +
                                  std::string(ip) + "/12");
    }
    c.prefix = *default_prefix;
    return c;
  }
  std::string_view len = s.substr(slash + 1);
  int p = 0;
  bool ok = !len.empty() && len.size() <= 2 && !(len.size() == 2 && len[0] == '0');
  for (char ch : len) {
    if (ch < '0' || ch > '9') ok = false;
    p = p * 10 + (ch - '0');
  }
  if (!ok || p > 32) {
    throw std::invalid_argument(quoted + ": the prefix length after / must be 0 to 32, like " +
                                std::string(ip) + "/12");
  }
  c.prefix = p;
  return c;
}

}  // namespace weft
