#pragma once
// Helpers shared by the GSO tests: a checksum to verify with and the virtio-net header the TAP
// gives a TCP/IPv4 super-frame (Ethernet + 20-byte IPv4 + 20-byte TCP headers).
#include <cstdint>

#include "common/bytes.h"
#include "router/dataplane/gso.h"

namespace weft::test {

// One's complement sum of big-endian 16-bit words, folded.
inline uint32_t sum16(const uint8_t* p, size_t n) {
  uint32_t acc = 0;
  for (size_t i = 0; i + 1 < n; i += 2) acc += uint32_t(p[i]) << 8 | p[i + 1];
  if (n & 1) acc += uint32_t(p[n - 1]) << 8;
  while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
  return acc;
}

inline Bytes vnet_tso4(uint16_t mss) {
  VnetHdr h;
  h.flags = VnetHdr::kNeedsCsum;
  h.gso_type = VnetHdr::kGsoTcpV4;
  h.hdr_len = 54;
  h.gso_size = mss;
  h.csum_start = 34;
  h.csum_offset = 16;
  Bytes v(10);
  h.write(v.data());
  return v;
}

// Ethernet + IPv4 (10.32.0.1 -> 10.32.0.2, DF) + TCP (20-byte header, ports 0x9c00 -> 0x0051)
// carrying `payload` bytes, lengths of the whole frame: a super-frame as the kernel hands it over
// with TSO. The payload is a pattern that depends on the sequence number.
inline Bytes tcp4_frame(size_t payload, uint32_t seq, uint8_t tcp_flags) {
  Bytes f(14 + 20 + 20 + payload);
  f[12] = 0x08;
  uint8_t* ip = f.data() + 14;
  ip[0] = 0x45;
  size_t total = 40 + payload;
  ip[2] = uint8_t(total >> 8);
  ip[3] = uint8_t(total);
  ip[6] = 0x40;
  ip[8] = 64;
  ip[9] = 6;
  const uint8_t addrs[8] = {10, 32, 0, 1, 10, 32, 0, 2};
  for (int i = 0; i < 8; ++i) ip[12 + i] = addrs[i];
  uint8_t* tcp = ip + 20;
  tcp[0] = 0x9c;
  tcp[3] = 0x51;
  for (int i = 0; i < 4; ++i) tcp[4 + i] = uint8_t(seq >> (24 - 8 * i));
  tcp[12] = 0x50;
  tcp[13] = tcp_flags;
  for (size_t i = 0; i < payload; ++i) f[54 + i] = uint8_t((seq + i) * 7);
  return f;
}

}  // namespace weft::test
