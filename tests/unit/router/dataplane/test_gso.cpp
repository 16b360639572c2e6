// Userspace segmentation of TAP super-frames: every segment must be a valid TCP/IPv4 packet the
// receiving kernel accepts, with sequence numbers, lengths, flags and checksums right.
#include <doctest/doctest.h>

#include <vector>

#include "router/dataplane/gso.h"
#include "tests/unit/support/gso_test_frames.h"

using namespace weft;
using weft::test::sum16;
using weft::test::vnet_tso4;

using weft::test::vnet_tso4;

namespace {

// A super-frame with flags FIN|PSH|ACK, an IP id and a sequence number near 2^32 (segments
// wrap around).
Bytes super_frame(size_t payload) {
  Bytes f = weft::test::tcp4_frame(payload, 0xfffffff0u, 0x19);
  f[14 + 4] = 0x12;
  f[14 + 5] = 0x34;
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
