#pragma once
// The plaintext inside a data datagram (or a control-channel fallback message): who the frames
// are from and for, then one or more Ethernet frames, each with its virtio-net header so that
// GSO super-frames cross the tunnel whole.
//
//   u8 kind (1 = frames, 2 = probe: no frames, proves the UDP path works)
//   u64 source peer   u64 destination peer (0 = flood along the source's broadcast tree)
//   repeated: u16 length, then `length` bytes = 10-byte virtio_net_hdr + Ethernet frame
#include <cstdint>
#include <vector>

#include "common/bytes.h"
#include "common/peer_name.h"

namespace weft {

constexpr size_t kVnetHdrLen = 10;
constexpr size_t kEthHdrLen = 14;
constexpr size_t kFrameBatchHeaderLen = 17;
constexpr size_t kFrameItemOverhead = 2 + kVnetHdrLen;
constexpr uint8_t kBatchFrames = 1, kBatchProbe = 2;

struct FrameItem {
  ByteView vnet;   // kVnetHdrLen bytes (all zero for a plain frame)
  ByteView frame;  // Ethernet frame, >= kEthHdrLen bytes
};

struct FrameBatch {
  uint8_t kind = kBatchFrames;
  PeerName src = 0;
  PeerName dst = 0;
  std::vector<FrameItem> frames;  // views into the decoded buffer
};

// Appends to `out` (no allocation when it has capacity).
void begin_frame_batch(Bytes& out, uint8_t kind, PeerName src, PeerName dst);
// Returns false (appending nothing) when the frame does not fit a u16 length.
bool append_frame(Bytes& out, ByteView vnet, ByteView frame);

// Throws DecodeError. `batch.frames` is reused to avoid allocation.
void decode_frame_batch(ByteView in, FrameBatch& batch);

}  // namespace weft
