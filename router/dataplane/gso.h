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
bool segment_frame(ByteView vnet, ByteView frame, Bytes& scratch,
                   const std::function<void(ByteView vnet, ByteView frame)>& emit);

// For a backend without virtio-net headers (pcap): completes a NEEDS_CSUM frame's checksum in
// place. Returns false when the offsets do not fit the frame.
bool complete_checksum(ByteView vnet, uint8_t* frame, size_t len);

}  // namespace weft
