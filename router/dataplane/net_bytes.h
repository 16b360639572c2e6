#pragma once
// Big-endian fields and the Internet checksum (RFC 1071), for reading and writing the headers
// inside Ethernet frames in place.
#include <cstddef>
#include <cstdint>

namespace weft::net {

inline uint16_t load16(const uint8_t* p) {
  return static_cast<uint16_t>(p[0] << 8 | p[1]);
}
inline uint32_t load32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}
inline void store16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
inline void store32(uint8_t* p, uint32_t v) {
  store16(p, static_cast<uint16_t>(v >> 16));
  store16(p + 2, static_cast<uint16_t>(v));
}

// Adds `n` bytes as big-endian 16-bit words (an odd last byte padded with zero) to `acc`.
inline uint32_t checksum_add(uint32_t acc, const uint8_t* p, size_t n) {
  for (; n >= 2; p += 2, n -= 2) acc += load16(p);
  if (n) acc += uint32_t{p[0]} << 8;
  return acc;
}
// The sum folded to 16 bits, not complemented: what a partial (pseudo-header) checksum holds.
inline uint16_t checksum_fold(uint32_t acc) {
  while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
  return static_cast<uint16_t>(acc);
}
// The one's complement of the folded sum: the value for a header's checksum field.
inline uint16_t checksum_finish(uint32_t acc) {
  return static_cast<uint16_t>(~checksum_fold(acc));
}

}  // namespace weft::net
