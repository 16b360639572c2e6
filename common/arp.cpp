#include "common/arp.h"

#include <cstddef>

namespace weft {

std::array<uint8_t, 28> gratuitous_arp(const std::array<uint8_t, 6>& mac, uint32_t ip) {
  std::array<uint8_t, 28> p{};
  p[0] = 0x00, p[1] = 0x01;  // hardware type: Ethernet
  p[2] = 0x08, p[3] = 0x00;  // protocol type: IPv4
  p[4] = 6, p[5] = 4;        // address lengths
  p[6] = 0x00, p[7] = 0x01;  // operation: request
  const uint8_t ipb[4] = {static_cast<uint8_t>(ip >> 24), static_cast<uint8_t>(ip >> 16),
                          static_cast<uint8_t>(ip >> 8), static_cast<uint8_t>(ip)};
  for (size_t i = 0; i < 6; ++i) p[8 + i] = mac[i];  // sender hardware address
  for (size_t i = 0; i < 4; ++i) {
    p[14 + i] = ipb[i];  // sender protocol address
    p[24 + i] = ipb[i];  // target protocol address; the target hardware address stays zero
  }
  return p;
}

}  // namespace weft
