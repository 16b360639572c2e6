#pragma once
// Segmentation offload in userspace. With offloads on, the TAP hands the router TCP
// "super-frames" of up to 64 KB (one read instead of ~45) described by a virtio-net header. They
// are cut here into MSS-sized segments, each of which travels as its own datagram (so one lost
// datagram loses one segment, not 45), and is written to the far TAP with its checksum left to
// the kernel (VIRTIO_NET_HDR_F_NEEDS_CSUM), where GRO merges them again.
//
// The virtio-net header uses the host's byte order (TUN's legacy default on little-endian).
#include <cstdint>
#include <functional>

#include "common/bytes.h"

namespace weft {

struct VnetHdr {
  static constexpr uint8_t kNeedsCsum = 1;
  static constexpr uint8_t kGsoNone = 0, kGsoTcpV4 = 1, kGsoUdp = 3, kGsoTcpV6 = 4;
  uint8_t flags = 0;
  uint8_t gso_type = 0;
  uint16_t hdr_len = 0;
  uint16_t gso_size = 0;
  uint16_t csum_start = 0;
  uint16_t csum_offset = 0;

  static VnetHdr read(ByteView b);  // b.size() >= 10
  void write(uint8_t* out) const;   // 10 bytes
};

// Calls emit(vnet, frame) once per segment of a TCP GSO frame (or once with the frame itself
// when it needs no segmenting). `scratch` holds the segment being emitted; it must have room for
// one segment (no allocation when it does). Returns false, emitting nothing, for a frame it
// cannot parse (not Ethernet + IPv4/IPv6 + TCP, or inconsistent lengths).
//
// With segs_per_chunk > 1 it cuts into chunks of that many segments instead, each chunk of more
// than one segment a GSO super-frame itself (same gso_size); used to carry super-frames whole in
// at most two datagrams.
bool segment_frame(ByteView vnet, ByteView frame, Bytes& scratch,
                   const std::function<void(ByteView vnet, ByteView frame)>& emit,
                   size_t segs_per_chunk = 1);

// For a backend without virtio-net headers (pcap): completes a NEEDS_CSUM frame's checksum in
// place. Returns false when the offsets do not fit the frame.
bool complete_checksum(ByteView vnet, uint8_t* frame, size_t len);

}  // namespace weft

namespace weft {

// Where SegmentCoalescer writes what it has merged (or passes through).
class CoalescedFrameSink {
 public:
  virtual ~CoalescedFrameSink() = default;
  virtual void write_frame(ByteView vnet, ByteView frame) = 0;
};

// The reverse of segment_frame, for the receiving TAP: consecutive segments of one TCP flow
// (each with a NEEDS_CSUM partial checksum, as segment_frame emits them) are merged back into
// one GSO super-frame, so the kernel takes one write per ~64 KB instead of one per segment and
// the workload's stack sees what GRO would have built. Segments merge only while they continue
// the pending run exactly (same headers and options, next sequence number, equal sizes but for a
// shorter last one, ACK/PSH flags only); anything else flushes the run first, so frames keep
// their order. Holds at most one run; the caller flushes at the end of each burst of input.
class SegmentCoalescer {
 public:
  static constexpr size_t kMaxFrame = 65000;  // an IPv4 total length must stay below 64 KB
  explicit SegmentCoalescer(CoalescedFrameSink& out);

  void add(ByteView vnet, ByteView frame);
  void flush();
  // Super-frames written (runs of two or more segments) and the segments they held.
  uint64_t merged_frames() const { return merged_frames_; }
  uint64_t merged_segments() const { return merged_segments_; }

 private:
  struct Layout {
    bool v4 = false;
    size_t tcp_off = 0, hdrs = 0, payload = 0;
    uint8_t tcp_flags = 0;
    uint32_t seq = 0;
  };
  static bool mergeable(ByteView vnet, ByteView frame, Layout& l);
  bool continues(ByteView frame, const Layout& l) const;

  CoalescedFrameSink& out_;
  Bytes buf_;  // the pending run: the first segment's headers, then every payload
  uint8_t vnet_[10] = {};
  Layout first_;
  size_t count_ = 0, mss_ = 0;
  uint32_t next_seq_ = 0;
  bool closed_ = false;  // a short or PSH segment ended the run
  uint64_t merged_frames_ = 0, merged_segments_ = 0;
};

}  // namespace weft
