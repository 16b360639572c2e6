// decode_frame_batch on arbitrary bytes (the plaintext of an authenticated datagram, or a batch
// that arrived over a neighbour's control connection: a peer's word, not a stranger's, but still
// not trusted to be well-formed). Whatever decodes must obey the format's rules and re-encode
// with begin_frame_batch / append_frame to exactly the same bytes, its views pointing into the
// input.
#include <cstddef>
#include <cstdint>

#include "common/bytes.h"
#include "fuzz_common.h"
#include "router/dataplane/frame_batch.h"

using namespace weft;
using weft::fuzz::require;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteView in(data, size);
  // Reused, as the data plane reuses it: a previous input's frames must not leak into this one.
  static FrameBatch b;
  try {
    decode_frame_batch(in, b);
  } catch (const DecodeError&) {
    return 0;
  }
  require(size >= kFrameBatchHeaderLen);
  require(b.kind == kBatchFrames || b.kind == kBatchProbe);
  require(b.src != 0 && (b.src & ~kPeerNameMask) == 0 && (b.dst & ~kPeerNameMask) == 0);
  if (b.kind == kBatchProbe) require(b.frames.empty());
  size_t total = kFrameBatchHeaderLen;
  for (const FrameItem& f : b.frames) {
    require(f.vnet.size() == kVnetHdrLen && f.frame.size() >= kEthHdrLen);
    require(f.vnet.data() >= data && f.frame.data() + f.frame.size() <= data + size);
    require(f.vnet.data() + kVnetHdrLen == f.frame.data());
    total += kFrameItemOverhead + f.frame.size();
  }
  require(total == size);

  Bytes again;
  again.reserve(size);
  begin_frame_batch(again, b.kind, b.src, b.dst);
  for (const FrameItem& f : b.frames) require(append_frame(again, f.vnet, f.frame));
  require(again == Bytes(in.begin(), in.end()));

  FrameBatch twice;
  decode_frame_batch(again, twice);
  require(twice.kind == b.kind && twice.src == b.src && twice.dst == b.dst);
  require(twice.frames.size() == b.frames.size());
  return 0;
}
