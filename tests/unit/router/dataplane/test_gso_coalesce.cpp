// SegmentCoalescer: the receiving side's inverse of segment_frame. What it writes must be a
// super-frame the kernel accepts (lengths, IPv4 checksum, partial TCP checksum, virtio GSO
// fields) carrying exactly the segments' bytes in order; anything it cannot merge passes through
// in order.
#include <doctest/doctest.h>

#include <vector>

#include "router/dataplane/gso.h"
#include "tests/unit/support/gso_test_frames.h"

using namespace weft;
using weft::test::sum16;
using weft::test::vnet_tso4;

namespace {

// A PSH|ACK super-frame of one flow (source port `sport`).
Bytes tcp_frame(size_t payload, uint32_t seq, uint16_t sport = 0x9c00) {
  Bytes f = weft::test::tcp4_frame(payload, seq, 0x18);
  f[34] = uint8_t(sport >> 8);
  f[35] = uint8_t(sport);
  return f;
}

struct Written {
  Bytes vnet, frame;
};
struct Collect : CoalescedFrameSink {
  std::vector<Written> out;
  void write_frame(ByteView v, ByteView f) override {
    out.push_back({Bytes(v.begin(), v.end()), Bytes(f.begin(), f.end())});
  }
};

// Segments a super-frame as the sender does and feeds every segment to `c`.
void send_through(SegmentCoalescer& c, const Bytes& frame, uint16_t mss) {
  Bytes scratch, v = vnet_tso4(mss);
  REQUIRE(segment_frame(v, frame, scratch, [&](ByteView sv, ByteView sf) { c.add(sv, sf); }));
}

}  // namespace

TEST_CASE("the segments of a super-frame are merged back into one valid GSO super-frame") {
  Collect sink;
  SegmentCoalescer c(sink);
  const uint32_t seq = 0xffffff00u;  // wraps around 2^32 inside the frame
  Bytes original = tcp_frame(10000, seq);
  send_through(c, original, 1448);
  CHECK(sink.out.empty());  // held until the burst ends
  c.flush();
  REQUIRE(sink.out.size() == 1);
  const Written& w = sink.out[0];
  VnetHdr h = VnetHdr::read(w.vnet);
  CHECK(h.flags == VnetHdr::kNeedsCsum);
  CHECK(h.gso_type == VnetHdr::kGsoTcpV4);
  CHECK(h.gso_size == 1448);
  CHECK(h.hdr_len == 54);
  CHECK(h.csum_start == 34);
  CHECK(h.csum_offset == 16);
  REQUIRE(w.frame.size() == original.size());
  const uint8_t* ip = w.frame.data() + 14;
  CHECK((size_t(ip[2]) << 8 | ip[3]) == 40 + 10000);
  CHECK(sum16(ip, 20) == 0xffff);
  CHECK(ip[33] == 0x18);  // PSH from the last segment
  // The TCP checksum field holds the pseudo-header sum over the whole TCP length.
  uint32_t acc = sum16(ip + 12, 8) + 6 + 10020;
  while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
  CHECK((uint32_t(ip[36]) << 8 | ip[37]) == acc);
  CHECK(std::equal(w.frame.begin() + 54, w.frame.end(), original.begin() + 54));
  CHECK(c.merged_frames() == 1);
  CHECK(c.merged_segments() == 7);

  // Segmenting the merged frame again gives the same segments the sender produced.
  std::vector<Bytes> a, b;
  Bytes scratch;
  REQUIRE(segment_frame(vnet_tso4(1448), original, scratch,
                        [&](ByteView, ByteView f) { a.emplace_back(f.begin(), f.end()); }));
  REQUIRE(segment_frame(w.vnet, w.frame, scratch,
                        [&](ByteView, ByteView f) { b.emplace_back(f.begin(), f.end()); }));
  CHECK(a == b);
}

TEST_CASE("what does not continue the run is written in order, unmerged where it must be") {
  Collect sink;
  SegmentCoalescer c(sink);
  Bytes first = tcp_frame(3000, 1000);
  send_through(c, first, 1000);  // 3 full segments, PSH on the last: the run is closed
  Bytes other_flow = tcp_frame(2000, 4000, 0x1234);
  send_through(c, other_flow, 1000);
  Bytes arp(60, 0);
  arp[12] = 0x08;
  arp[13] = 0x06;
  Bytes zero_vnet(10, 0);
  c.add(zero_vnet, arp);
  Bytes gap = tcp_frame(1000, 9000);  // one segment alone: written as it came
  send_through(c, gap, 1000);
  c.flush();
  REQUIRE(sink.out.size() == 4);
  CHECK(sink.out[0].frame.size() == 54 + 3000);
  CHECK(VnetHdr::read(sink.out[0].vnet).gso_type == VnetHdr::kGsoTcpV4);
  CHECK(sink.out[1].frame.size() == 54 + 2000);
  CHECK(sink.out[1].frame[35] == 0x34);  // the other flow's source port
  CHECK(sink.out[2].frame == arp);
  CHECK(sink.out[3].frame.size() == 54 + 1000);
  CHECK(VnetHdr::read(sink.out[3].vnet).gso_type == VnetHdr::kGsoNone);
}

TEST_CASE("a long run of contiguous segments is cut below the 64 KB limit, losing nothing") {
  Collect sink;
  SegmentCoalescer c(sink);
  // Three super-frames of 40 full 1000-byte segments, without PSH, back to back.
  size_t total = 0;
  for (uint32_t k = 0; k < 3; ++k) {
    Bytes f = tcp_frame(40000, 5000 + k * 40000);
    f[14 + 33] = 0x10;  // ACK only
    send_through(c, f, 1000);
    total += 40000;
  }
  c.flush();
  size_t seen = 0;
  uint32_t next = 5000;
  for (const Written& w : sink.out) {
    CHECK(w.frame.size() <= SegmentCoalescer::kMaxFrame);
    const uint8_t* tcp = w.frame.data() + 34;
    uint32_t seq = uint32_t(tcp[4]) << 24 | uint32_t(tcp[5]) << 16 | uint32_t(tcp[6]) << 8 | tcp[7];
    CHECK(seq == next);
    next += uint32_t(w.frame.size() - 54);
    seen += w.frame.size() - 54;
  }
  CHECK(seen == total);
  CHECK(sink.out.size() == 2);  // 64 segments, then the other 56
}
