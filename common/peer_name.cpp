#include "common/peer_name.h"

#include <cstdio>

namespace weft {

std::string format_peer_name(PeerName n) {
  char buf[18];
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", unsigned(n >> 40 & 0xff),
                unsigned(n >> 32 & 0xff), unsigned(n >> 24 & 0xff), unsigned(n >> 16 & 0xff),
                unsigned(n >> 8 & 0xff), unsigned(n & 0xff));
  return buf;
}

std::optional<PeerName> parse_peer_name(std::string_view s) {
  if (s.size() != 17) return std::nullopt;
  PeerName n = 0;
  for (size_t i = 0; i < 17; ++i) {
    char c = s[i];
    if (i % 3 == 2) {
      if (c != ':') return std::nullopt;
      continue;
    }
    int v;
    if (c >= '0' && c <= '9') v = c - '0';
    else if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
    else return std::nullopt;
    n = n << 4 | static_cast<PeerName>(v);
  }
  return n;
}

}  // namespace weft
