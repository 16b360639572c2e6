// Userspace segmentation and checksum completion on arbitrary virtio-net header + frame pairs:
// what the local TAP hands over (a super-frame from a local workload) and what a peer's batch
// carries to the far side (pcap completes those checksums). Input: 10 bytes of virtio-net header,
// then the Ethernet frame.
//
// Oracles for segment_frame: a frame without GSO is passed through once, untouched; a GSO frame
// is refused or cut into segments that each fit headers + gso_size, carry the input's headers and
// consecutive slices of its payload (nothing lost, nothing added), have FIN/PSH only on the last
// and right sequence numbers, and after complete_checksum verify as IPv4/TCP or IPv6/TCP.
// Oracle for SegmentCoalescer: fed those segments, what it writes (merged super-frames cut again,
// the rest as is) is exactly the segments, in order; a super-frame it builds stays below kMaxFrame.
// complete_checksum: touches at most the two checksum bytes, and only when the offsets fit.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "common/bytes.h"
#include "fuzz_common.h"
#include "router/dataplane/frame_batch.h"
#include "router/dataplane/gso.h"

using namespace weft;
using weft::fuzz::require;

namespace {

uint16_t rd16(const uint8_t* p) {
  return static_cast<uint16_t>(p[0] << 8 | p[1]);
}
uint32_t rd32(const uint8_t* p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}
uint32_t sum(const uint8_t* p, size_t n, uint32_t acc = 0) {
  for (size_t i = 0; i + 1 < n; i += 2) acc += rd16(p + i);
  if (n & 1) acc += uint32_t(p[n - 1]) << 8;
  return acc;
}
uint16_t fold(uint32_t acc) {
  while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
  return static_cast<uint16_t>(acc);
}

void check_complete_checksum(ByteView vnet, ByteView frame) {
  Bytes copy(frame.begin(), frame.end());
  VnetHdr h = VnetHdr::read(vnet);
  bool ok = complete_checksum(vnet, copy.data(), copy.size());
  size_t start = h.csum_start, at = size_t(h.csum_start) + h.csum_offset;
  if (!(h.flags & VnetHdr::kNeedsCsum)) {
    require(ok);
    require(copy == Bytes(frame.begin(), frame.end()));
    return;
  }
  bool fits = start < frame.size() && at + 2 <= frame.size();
  require(ok == fits);
  for (size_t i = 0; i < copy.size(); ++i)
    if (!ok || i < at || i >= at + 2) require(copy[i] == frame[i]);
  if (!ok) return;
  // The field held the pseudo-header sum: with it added back, the covered range now sums to
  // 0xffff (when the field is 16-bit aligned within the range, as for TCP and UDP).
  if (h.csum_offset % 2 == 0) {
    uint32_t acc = sum(copy.data() + start, copy.size() - start, rd16(frame.data() + at));
    require(fold(acc) == 0xffff || (h.csum_offset == 6 && rd16(copy.data() + at) == 0xffff));
  }
}

// The receiver's SegmentCoalescer must give back exactly what segment_frame cut: whatever it
// merged, segmented again, equals the segments it was fed, in order.
struct Collect : CoalescedFrameSink {
  std::vector<Bytes> out;
  void write_frame(ByteView v, ByteView f) override {
    Bytes both(v.begin(), v.end());
    both.insert(both.end(), f.begin(), f.end());
    out.push_back(std::move(both));
  }
};

void check_coalescer(const std::vector<Bytes>& segments) {
  Collect sink;
  SegmentCoalescer c(sink);
  for (const Bytes& s : segments)
    c.add(ByteView(s).subspan(0, kVnetHdrLen), ByteView(s).subspan(kVnetHdrLen));
  c.flush();
  std::vector<Bytes> again;
  static Bytes scratch2;
  for (const Bytes& w : sink.out) {
    // What the coalescer built (a GSO frame from non-GSO segments) stays below the limit.
    if (VnetHdr::read(w).gso_type != VnetHdr::kGsoNone &&
        std::none_of(segments.begin(), segments.end(), [&](const Bytes& s) { return s == w; }))
      require(w.size() - kVnetHdrLen <= SegmentCoalescer::kMaxFrame);
    bool ok = segment_frame(ByteView(w).subspan(0, kVnetHdrLen), ByteView(w).subspan(kVnetHdrLen),
                            scratch2, [&](ByteView sv, ByteView sf) {
                              Bytes both(sv.begin(), sv.end());
                              both.insert(both.end(), sf.begin(), sf.end());
                              again.push_back(std::move(both));
                            });
    require(ok);
  }
  require(again == segments);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < kVnetHdrLen) return 0;
  ByteView vnet(data, kVnetHdrLen), frame(data + kVnetHdrLen, size - kVnetHdrLen);
  check_complete_checksum(vnet, frame);

  VnetHdr h = VnetHdr::read(vnet);
  uint8_t gso = h.gso_type & 0x7f;
  static Bytes scratch;
  size_t calls = 0, off = 0;
  bool v4 = gso == VnetHdr::kGsoTcpV4;
  // The input's layout, as far as a segment may rely on it (valid once segment_frame accepts).
  size_t ip_len = 0, tcp_off = 0, hdrs = 0;
  if (frame.size() >= 14 + 40) {
    ip_len = v4 ? size_t(frame[14] & 0x0f) * 4 : 40;
    tcp_off = 14 + ip_len;
    if (frame.size() >= tcp_off + 20) hdrs = tcp_off + size_t(frame[tcp_off + 12] >> 4) * 4;
  }
  std::vector<Bytes> segments;  // vnet + frame of each segment, for the coalescer's oracle
  bool ok = segment_frame(vnet, frame, scratch, [&](ByteView sv, ByteView sf) {
    ++calls;
    Bytes both(sv.begin(), sv.end());
    both.insert(both.end(), sf.begin(), sf.end());
    segments.push_back(std::move(both));
    require(sv.size() == kVnetHdrLen);
    if (gso == VnetHdr::kGsoNone) {
      require(calls == 1);
      require(sv.data() == vnet.data() && sf.data() == frame.data() && sf.size() == frame.size());
      return;
    }
    require(hdrs >= tcp_off + 20 && hdrs <= frame.size());
    require(sf.size() > hdrs && sf.size() <= hdrs + h.gso_size);
    size_t n = sf.size() - hdrs;
    require(off + n <= frame.size() - hdrs);
    // Headers are the input's except the fields segmentation rewrites.
    require(std::equal(sf.begin(), sf.begin() + 14, frame.begin()));
    require(std::equal(sf.begin() + hdrs, sf.end(), frame.begin() + hdrs + off));
    const uint8_t* t = sf.data() + tcp_off;
    require(rd32(t + 4) == rd32(frame.data() + tcp_off + 4) + uint32_t(off));
    bool last = off + n == frame.size() - hdrs;
    uint8_t flags = t[13], in_flags = frame[tcp_off + 13];
    require((flags & 0x09) == (last ? in_flags & 0x09 : 0));      // FIN, PSH on the last only
    require((flags & 0x80) == (off == 0 ? in_flags & 0x80 : 0));  // CWR on the first only
    require((flags & 0x76) == (in_flags & 0x76));
    VnetHdr s = VnetHdr::read(sv);
    require(s.gso_type == VnetHdr::kGsoNone && (s.flags & VnetHdr::kNeedsCsum));
    require(s.csum_start == tcp_off && s.csum_offset == 16);
    // After completion the TCP checksum verifies over the pseudo-header.
    Bytes seg(sf.begin(), sf.end());
    require(complete_checksum(sv, seg.data(), seg.size()));
    size_t tcp_len = seg.size() - tcp_off;
    uint32_t acc = v4 ? sum(seg.data() + 14 + 12, 8) : sum(seg.data() + 14 + 8, 32);
    acc += 6 + uint32_t(tcp_len);
    acc = sum(seg.data() + tcp_off, tcp_len, acc);
    require(fold(acc) == 0xffff);
    if (v4) {
      require(rd16(seg.data() + 14 + 2) == ip_len + tcp_len);
      require(fold(sum(seg.data() + 14, ip_len)) == 0xffff);  // header checksum
    } else {
      require(rd16(seg.data() + 14 + 4) == tcp_len);
    }
    off += n;
  });
  if (gso == VnetHdr::kGsoNone) {
    require(ok && calls == 1);
  } else if (ok) {
    require(gso == VnetHdr::kGsoTcpV4 || gso == VnetHdr::kGsoTcpV6);
    require(h.gso_size > 0);
    require(off == frame.size() - hdrs);  // the whole payload, in order
  } else {
    require(calls == 0);
  }
  check_coalescer(segments);
  return 0;
}
