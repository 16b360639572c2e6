// Userspace segmentation of TAP super-frames: every segment must be a valid TCP/IPv4 packet the
// receiving kernel accepts, with sequence numbers, lengths, flags and checksums right.
#include <doctest/doctest.h>

#include <vector>

#include "router/dataplane/gso.h"
#include "tests/unit/vnet_test_headers.h"

using namespace weft;

using weft::test::vnet_tso4;

namespace {

uint32_t sum16(const uint8_t* p, size_t n) {
  uint32_t acc = 0;
  for (size_t i = 0; i + 1 < n; i += 2) acc += uint32_t(p[i]) << 8 | p[i + 1];
  if (n & 1) acc += uint32_t(p[n - 1]) << 8;
  while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
  return acc;
}

// Ethernet + IPv4 + TCP (20-byte header, flags PSH|ACK|FIN) with `payload` bytes, as the kernel
// hands it over with TSO: lengths of the whole super-frame, partial pseudo-header checksum.
Bytes super_frame(size_t payload) {
  Bytes f(14 + 20 + 20 + payload);
  f[12] = 0x08;
  uint8_t* ip = f.data() + 14;
  ip[0] = 0x45;
  size_t total = 40 + payload;
  ip[2] = uint8_t(total >> 8);
  ip[3] = uint8_t(total);
  ip[4] = 0x12;
  ip[5] = 0x34;
  ip[8] = 64;
  ip[9] = 6;
  uint8_t src[4] = {10, 32, 0, 1}, dst[4] = {10, 32, 0, 2};
  std::copy(src, src + 4, ip + 12);
  std::copy(dst, dst + 4, ip + 16);
  uint8_t* tcp = ip + 20;
  tcp[0] = 0x9c;
  tcp[2] = 0x14;
  tcp[3] = 0x51;
  tcp[4] = 0xff;  // seq 0xfffffff0: segments wrap around 2^32
  tcp[5] = 0xff;
  tcp[6] = 0xff;
  tcp[7] = 0xf0;
  tcp[12] = 0x50;
  tcp[13] = 0x19;  // FIN PSH ACK
  for (size_t i = 0; i < payload; ++i) f[54 + i] = uint8_t(i * 7);
  return f;
}

}  // namespace

TEST_CASE("a TCP/IPv4 super-frame becomes valid MSS-sized segments") {
  const size_t payload = 10000, mss = 1448;
  Bytes frame = super_frame(payload), vnet = vnet_tso4(mss), scratch;
  std::vector<Bytes> segs;
  REQUIRE(segment_frame(vnet, frame, scratch, [&](ByteView v, ByteView f) {
    VnetHdr h = VnetHdr::read(v);
    CHECK(h.gso_type == VnetHdr::kGsoNone);
    CHECK(h.flags == VnetHdr::kNeedsCsum);
    Bytes copy(f.begin(), f.end());
    REQUIRE(complete_checksum(v, copy.data(), copy.size()));
    segs.push_back(copy);
  }));
  REQUIRE(segs.size() == (payload + mss - 1) / mss);
  size_t off = 0;
  for (size_t i = 0; i < segs.size(); ++i) {
    const Bytes& s = segs[i];
    const uint8_t* ip = s.data() + 14;
    size_t n = std::min(mss, payload - off);
    CHECK(s.size() == 54 + n);
    CHECK((size_t(ip[2]) << 8 | ip[3]) == 40 + n);
    CHECK((ip[4] << 8 | ip[5]) == 0x1234 + int(i));
    CHECK(sum16(ip, 20) == 0xffff);  // IPv4 header checksum verifies
    uint32_t seq = uint32_t(ip[24]) << 24 | uint32_t(ip[25]) << 16 | uint32_t(ip[26]) << 8 | ip[27];
    CHECK(seq == uint32_t(0xfffffff0u + off));
    bool last = i + 1 == segs.size();
    CHECK(bool(ip[33] & 0x01) == last);  // FIN only on the last
    CHECK(bool(ip[33] & 0x08) == last);  // PSH only on the last
    CHECK(bool(ip[33] & 0x10));          // ACK on all
    // TCP checksum over pseudo-header + segment verifies.
    uint32_t acc = sum16(ip + 12, 8) + 6 + uint32_t(20 + n) + sum16(ip + 20, 20 + n);
    while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
    CHECK(acc == 0xffff);
    CHECK(std::equal(s.begin() + 54, s.end(), frame.begin() + 54 + off));
    off += n;
  }
}

TEST_CASE("frames without GSO pass through untouched; garbage is refused") {
  Bytes frame = super_frame(100), vnet(10, 0), scratch;
  int calls = 0;
  CHECK(segment_frame(vnet, frame, scratch, [&](ByteView, ByteView f) {
    ++calls;
    CHECK(f.size() == frame.size());
  }));
  CHECK(calls == 1);
  Bytes junk(30, 0xab), v = vnet_tso4(1000);
  CHECK_FALSE(segment_frame(v, junk, scratch, [&](ByteView, ByteView) { FAIL("emitted"); }));
  Bytes short_frame = super_frame(100);
  short_frame[14] = 0x4f;  // IHL 60 bytes: beyond the frame
  CHECK_FALSE(segment_frame(v, Bytes(short_frame.begin(), short_frame.begin() + 60), scratch,
                            [&](ByteView, ByteView) { FAIL("emitted"); }));
}
