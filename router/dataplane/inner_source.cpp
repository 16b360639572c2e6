#include "router/dataplane/inner_source.h"

#include <arpa/inet.h>

#include <cstring>

#include "router/dataplane/net_bytes.h"

namespace weft {

namespace {
constexpr uint16_t kEtherIpv4 = 0x0800, kEtherArp = 0x0806, kEtherIpv6 = 0x86dd;
constexpr uint16_t kEtherVlan = 0x8100;
constexpr size_t kArpLen = 28;  // Ethernet + IPv4
const uint8_t kV4Mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

uint64_t rd64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = v << 8 | p[i];
  return v;
}
}  // namespace

InnerIp InnerIp::v4(const uint8_t* p) {
  InnerIp a;
  std::memcpy(a.b.data(), kV4Mapped, 12);
  std::memcpy(a.b.data() + 12, p, 4);
  return a;
}

InnerIp InnerIp::v6(const uint8_t* p) {
  InnerIp a;
  std::memcpy(a.b.data(), p, 16);
  return a;
}

bool InnerIp::is_v4() const {
  return std::memcmp(b.data(), kV4Mapped, 12) == 0;
}

bool InnerIp::is_unicast_source() const {
  if (is_v4()) {
    const uint8_t first = b[12];
    const bool zero = b[12] == 0 && b[13] == 0 && b[14] == 0 && b[15] == 0;
    const bool broadcast = b[12] == 255 && b[13] == 255 && b[14] == 255 && b[15] == 255;
    return !zero && !broadcast && first != 127 && (first & 0xf0) != 0xe0;
  }
  if (b[0] == 0xff) return false;  // multicast
  const InnerIp loopback = [] {
    InnerIp l;
    l.b[15] = 1;
    return l;
  }();
  return *this != InnerIp{} && *this != loopback;
}

std::pair<uint64_t, uint64_t> InnerIp::words() const {
  return {rd64(b.data()), rd64(b.data() + 8)};
}

std::string InnerIp::to_string() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (is_v4()) {
    inet_ntop(AF_INET, b.data() + 12, buf, sizeof buf);
  } else {
    inet_ntop(AF_INET6, b.data(), buf, sizeof buf);
  }
  return buf;
}

InnerSource parse_inner_source(ByteView frame) {
  InnerSource s;
  std::memcpy(s.mac.b.data(), frame.data() + 6, 6);
  size_t l3 = 14;
  uint16_t type = net::load16(frame.data() + 12);
  if (type == kEtherVlan && frame.size() >= 18) {
    type = net::load16(frame.data() + 16);
    l3 = 18;
  }
  const uint8_t* p = frame.data() + l3;
  const size_t n = frame.size() - l3;
  if (type == kEtherIpv4 && n >= 20 && (p[0] >> 4) == 4) {
    s.ip = InnerIp::v4(p + 12);
  } else if (type == kEtherIpv6 && n >= 40 && (p[0] >> 4) == 6) {
    s.ip = InnerIp::v6(p + 8);
  } else if (type == kEtherArp && n >= kArpLen && net::load16(p) == 1 &&
             net::load16(p + 2) == kEtherIpv4 && p[4] == 6 && p[5] == 4) {
    s.ip = InnerIp::v4(p + 14);
    s.arp_sender_mismatch = std::memcmp(p + 8, s.mac.b.data(), 6) != 0;
  }
  return s;
}

}  // namespace weft
