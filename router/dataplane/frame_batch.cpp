#include "router/dataplane/frame_batch.h"

namespace weft {

void begin_frame_batch(Bytes& out, uint8_t kind, PeerName src, PeerName dst) {
  ByteWriter w(out);
  w.u8(kind);
  w.u64(src);
  w.u64(dst);
}

bool append_frame(Bytes& out, ByteView vnet, ByteView frame) {
  size_t len = kVnetHdrLen + frame.size();
  if (len > 0xffff || vnet.size() != kVnetHdrLen) return false;
  ByteWriter w(out);
  w.u16(static_cast<uint16_t>(len));
  w.raw(vnet);
  w.raw(frame);
  return true;
}

void decode_frame_batch(ByteView in, FrameBatch& batch) {
  ByteReader r(in);
  batch.frames.clear();
  batch.kind = r.u8();
  if (batch.kind != kBatchFrames && batch.kind != kBatchProbe)
    throw DecodeError("unknown frame batch kind");
  batch.src = r.u64();
  batch.dst = r.u64();
  if ((batch.src & ~kPeerNameMask) || (batch.dst & ~kPeerNameMask) || batch.src == 0)
    throw DecodeError("peer name out of range");
  while (!r.done()) {
    size_t len = r.u16();
    if (len < kVnetHdrLen + kEthHdrLen) throw DecodeError("frame too short");
    ByteView item = r.raw(len);
    batch.frames.push_back({item.subspan(0, kVnetHdrLen), item.subspan(kVnetHdrLen)});
  }
  if (batch.kind == kBatchProbe && !batch.frames.empty())
    throw DecodeError("a probe carries no frames");
}

}  // namespace weft
