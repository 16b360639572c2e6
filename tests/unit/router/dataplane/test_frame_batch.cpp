// The plaintext frame batch (router/dataplane/frame_batch.h) inside every data datagram and
// control-connection fallback message: exact bytes, round trips, and refusal of everything a
// peer could send that is not a well-formed batch (truncations, runt frames, probes carrying
// frames, out-of-range peer names, unknown kinds, oversized frames).
#include <doctest/doctest.h>

#include <random>
#include <vector>

#include "common/bytes.h"
#include "router/dataplane/frame_batch.h"

using weft::append_frame;
using weft::begin_frame_batch;
using weft::Bytes;
using weft::ByteView;
using weft::decode_frame_batch;
using weft::DecodeError;
using weft::FrameBatch;
using weft::kBatchFrames;
using weft::kBatchProbe;
using weft::kEthHdrLen;
using weft::kVnetHdrLen;
using weft::PeerName;

namespace {

Bytes seq(size_t n, uint8_t start) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(start + i);
  return b;
}

Bytes v(ByteView b) {
  return Bytes(b.begin(), b.end());
}

struct Item {
  Bytes vnet, frame;
};

Bytes encode(uint8_t kind, PeerName src, PeerName dst, const std::vector<Item>& items) {
  Bytes out;
  begin_frame_batch(out, kind, src, dst);
  for (const Item& it : items) REQUIRE(append_frame(out, it.vnet, it.frame));
  return out;
}

FrameBatch decode(ByteView in) {
  FrameBatch b;
  decode_frame_batch(in, b);
  return b;
}

}  // namespace

TEST_CASE("frame batch golden bytes") {
  CHECK(weft::kFrameBatchHeaderLen == 17);
  CHECK(weft::kFrameItemOverhead == 12);
  Bytes vnet1 = seq(10, 0xa0), frame1 = seq(14, 0x00), vnet2(10, 0), frame2 = seq(15, 0x40);
  Bytes out = encode(kBatchFrames, 0x0a0b0c0d0e0full, 0x010203040506ull,
                     {{vnet1, frame1}, {vnet2, frame2}});
  Bytes want = {0x01,                                            // kind: frames
                0x00, 0x00, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,  // source peer
                0x00, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06,  // destination peer
                0x00, 0x18};                                     // 10 + 14
  want.insert(want.end(), vnet1.begin(), vnet1.end());
  want.insert(want.end(), frame1.begin(), frame1.end());
  want.push_back(0x00);
  want.push_back(0x19);  // 10 + 15
  want.insert(want.end(), vnet2.begin(), vnet2.end());
  want.insert(want.end(), frame2.begin(), frame2.end());
  CHECK(out == want);

  FrameBatch b = decode(want);
  CHECK(b.kind == kBatchFrames);
  CHECK(b.src == 0x0a0b0c0d0e0full);
  CHECK(b.dst == 0x010203040506ull);
  REQUIRE(b.frames.size() == 2);
  CHECK(v(b.frames[0].vnet) == vnet1);
  CHECK(v(b.frames[0].frame) == frame1);
  CHECK(v(b.frames[1].vnet) == vnet2);
  CHECK(v(b.frames[1].frame) == frame2);
  // Views into the input, not copies.
  CHECK(b.frames[1].frame.data() == want.data() + want.size() - 15);

  Bytes probe;
  begin_frame_batch(probe, kBatchProbe, 0xffffffffffffull, 0x1);
  CHECK(probe == Bytes{0x02, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
                       0x00, 0x00, 0x00, 0x01});
  FrameBatch p = decode(probe);
  CHECK(p.kind == kBatchProbe);
  CHECK(p.src == 0xffffffffffffull);
  CHECK(p.dst == 1);
  CHECK(p.frames.empty());
}

TEST_CASE("frame batches round-trip") {
  std::mt19937_64 rng(42);
  FrameBatch reused;
  for (int round = 0; round < 200; ++round) {
    CAPTURE(round);
    PeerName src = 1 + rng() % weft::kPeerNameMask;
    PeerName dst = round % 3 == 0 ? 0 : rng() & weft::kPeerNameMask;
    std::vector<Item> items(rng() % 6);
    for (Item& it : items) {
      it.vnet = seq(10, static_cast<uint8_t>(rng()));
      it.frame =
          seq(kEthHdrLen + rng() % (round % 10 == 0 ? 9000 : 200), static_cast<uint8_t>(rng()));
    }
    Bytes out = encode(kBatchFrames, src, dst, items);
    size_t size = weft::kFrameBatchHeaderLen;
    for (const Item& it : items) size += weft::kFrameItemOverhead + it.frame.size();
    CHECK(out.size() == size);
    // The same FrameBatch is reused: nothing from an earlier decode may remain.
    decode_frame_batch(out, reused);
    CHECK(reused.kind == kBatchFrames);
    CHECK(reused.src == src);
    CHECK(reused.dst == dst);
    REQUIRE(reused.frames.size() == items.size());
    for (size_t i = 0; i < items.size(); ++i) {
      CHECK(v(reused.frames[i].vnet) == items[i].vnet);
      CHECK(v(reused.frames[i].frame) == items[i].frame);
    }
  }
}

TEST_CASE("append_frame appends to what is there and refuses items a u16 cannot describe") {
  Bytes out = {0xee};
  Bytes vnet(10, 0);
  const size_t max_frame = 0xffff - kVnetHdrLen;  // item length exactly 65535
  REQUIRE(append_frame(out, vnet, Bytes(max_frame, 0x5a)));
  CHECK(out.size() == 1 + 2 + 0xffff);
  CHECK(out[0] == 0xee);
  CHECK(out[1] == 0xff);
  CHECK(out[2] == 0xff);
  for (size_t frame : {max_frame + 1, size_t(65535), size_t(70000)}) {
    CAPTURE(frame);
    Bytes before = out;
    CHECK_FALSE(append_frame(out, vnet, Bytes(frame, 0x5a)));
    CHECK(out == before);  // nothing appended
  }
  // The virtio-net header is exactly 10 bytes.
  Bytes before = out;
  CHECK_FALSE(append_frame(out, Bytes(9, 0), Bytes(60, 0)));
  CHECK_FALSE(append_frame(out, Bytes(11, 0), Bytes(60, 0)));
  CHECK(out == before);

  // The largest item decodes.
  Bytes big;
  begin_frame_batch(big, kBatchFrames, 7, 0);
  REQUIRE(append_frame(big, vnet, Bytes(max_frame, 0x11)));
  FrameBatch b = decode(big);
  REQUIRE(b.frames.size() == 1);
  CHECK(b.frames[0].frame.size() == max_frame);
}

TEST_CASE("every truncation inside an item or the header throws DecodeError") {
  Bytes out =
      encode(kBatchFrames, 0x123456, 0x654321,
             {{Bytes(10, 1), seq(14, 2)}, {Bytes(10, 3), seq(60, 4)}, {Bytes(10, 5), seq(20, 6)}});
  // Cutting exactly between items leaves a shorter, valid batch; every other cut is malformed.
  std::vector<size_t> boundaries = {17, 17 + 2 + 24, 17 + 2 + 24 + 2 + 70};
  for (size_t n = 0; n < out.size(); ++n) {
    CAPTURE(n);
    ByteView cut(out.data(), n);
    size_t items = 0;
    bool boundary = false;
    for (size_t i = 0; i < boundaries.size(); ++i)
      if (boundaries[i] == n) {
        boundary = true;
        items = i;
      }
    if (boundary) {
      FrameBatch b = decode(cut);
      CHECK(b.frames.size() == items);
    } else {
      FrameBatch b;
      CHECK_THROWS_AS(decode_frame_batch(cut, b), DecodeError);
    }
  }
  CHECK(decode(out).frames.size() == 3);
}

TEST_CASE("items shorter than virtio header + Ethernet header are refused") {
  for (size_t len : {size_t(0), size_t(1), size_t(10), size_t(23)}) {
    CAPTURE(len);
    Bytes b;
    begin_frame_batch(b, kBatchFrames, 1, 2);
    b.push_back(0);
    b.push_back(static_cast<uint8_t>(len));
    b.resize(b.size() + len, 0);
    FrameBatch out;
    CHECK_THROWS_AS(decode_frame_batch(b, out), DecodeError);
  }
  Bytes ok;
  begin_frame_batch(ok, kBatchFrames, 1, 2);
  ok.push_back(0);
  ok.push_back(24);
  ok.resize(ok.size() + 24, 0);
  CHECK(decode(ok).frames.size() == 1);
  // A runt after a valid item spoils the whole batch.
  Bytes mixed = encode(kBatchFrames, 1, 2, {{Bytes(10, 0), Bytes(60, 0)}});
  mixed.push_back(0);
  mixed.push_back(23);
  mixed.resize(mixed.size() + 23, 0);
  FrameBatch out;
  CHECK_THROWS_AS(decode_frame_batch(mixed, out), DecodeError);
}

TEST_CASE("a probe carrying frames, an unknown kind and out-of-range peer names are refused") {
  FrameBatch out;
  Bytes probe = encode(kBatchProbe, 1, 2, {{Bytes(10, 0), Bytes(60, 0)}});
  CHECK_THROWS_AS(decode_frame_batch(probe, out), DecodeError);

  for (uint8_t kind : {0, 3, 0x81, 0xff}) {
    CAPTURE(int(kind));
    Bytes b = encode(kBatchFrames, 1, 2, {});
    b[0] = kind;
    CHECK_THROWS_AS(decode_frame_batch(b, out), DecodeError);
  }

  // Source 0 is nobody; names are 48 bits.
  Bytes zero_src = encode(kBatchFrames, 0, 2, {{Bytes(10, 0), Bytes(60, 0)}});
  CHECK_THROWS_AS(decode_frame_batch(zero_src, out), DecodeError);
  Bytes zero_src_probe = encode(kBatchProbe, 0, 2, {});
  CHECK_THROWS_AS(decode_frame_batch(zero_src_probe, out), DecodeError);
  for (PeerName bad : {weft::kPeerNameMask + 1, ~PeerName{0}, PeerName{1} << 63}) {
    CAPTURE(bad);
    CHECK_THROWS_AS(decode_frame_batch(encode(kBatchFrames, bad, 2, {}), out), DecodeError);
    CHECK_THROWS_AS(decode_frame_batch(encode(kBatchFrames, 1, bad, {}), out), DecodeError);
  }
  // Destination 0 means "flood" and is fine; the largest 48-bit names are fine.
  CHECK(decode(encode(kBatchFrames, weft::kPeerNameMask, 0, {})).dst == 0);
  CHECK(decode(encode(kBatchFrames, 1, weft::kPeerNameMask, {})).dst == weft::kPeerNameMask);
}
