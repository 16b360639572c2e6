#include "k8s/ip_cidr.h"

#include <arpa/inet.h>

#include <cstring>

namespace weft::k8s {

namespace {

std::optional<IpAddress> parse_v4(std::string_view s) {
  IpAddress a;
  size_t pos = 0;
  for (int i = 0; i < 4; ++i) {
    if (i > 0) {
      if (pos >= s.size() || s[pos] != '.') return std::nullopt;
      ++pos;
    }
    size_t start = pos;
    unsigned v = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9' && pos - start < 4)
      v = v * 10 + unsigned(s[pos++] - '0');
    size_t n = pos - start;
    if (n == 0 || n > 3 || v > 255 || (n > 1 && s[start] == '0')) return std::nullopt;
    a.bytes[size_t(i)] = uint8_t(v);
  }
  if (pos != s.size()) return std::nullopt;
  return a;
}

}  // namespace

std::string IpAddress::to_string() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), buf, sizeof buf);
  return buf;
}

std::optional<IpAddress> parse_ip(std::string_view s) {
  if (s.find(':') == std::string_view::npos) return parse_v4(s);
  if (s.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  std::string z(s);
  IpAddress a;
  a.v6 = true;
  if (inet_pton(AF_INET6, z.c_str(), a.bytes.data()) != 1) return std::nullopt;
  return a;
}

bool IpCidr::contains(const IpAddress& a) const {
  if (a.v6 != network.v6) return false;
  int bits = prefix;
  for (size_t i = 0; bits > 0; ++i, bits -= 8) {
    uint8_t mask = bits >= 8 ? 0xff : uint8_t(0xff << (8 - bits));
    if ((a.bytes[i] & mask) != network.bytes[i]) return false;
  }
  return true;
}

std::string IpCidr::to_string() const {
  return network.to_string() + "/" + std::to_string(prefix);
}

std::optional<IpCidr> parse_ip_cidr(std::string_view s) {
  size_t slash = s.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  std::optional<IpAddress> a = parse_ip(s.substr(0, slash));
  std::string_view p = s.substr(slash + 1);
  if (!a || p.empty() || p.size() > 3 || (p.size() > 1 && p[0] == '0')) return std::nullopt;
  int prefix = 0;
  for (char c : p) {
    if (c < '0' || c > '9') return std::nullopt;
    prefix = prefix * 10 + (c - '0');
  }
  if (prefix > int(a->size() * 8)) return std::nullopt;
  IpCidr c;
  c.prefix = prefix;
  c.network = *a;
  int bits = prefix;
  for (size_t i = 0; i < a->size(); ++i, bits -= 8) {
    uint8_t mask = bits >= 8 ? 0xff : bits <= 0 ? 0 : uint8_t(0xff << (8 - bits));
    c.network.bytes[i] &= mask;
  }
  return c;
}

}  // namespace weft::k8s
