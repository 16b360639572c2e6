// Arbitrary bytes into a ControlChannel, as initiator or responder, encrypted or not, whole or in
// chunks; plus a man-in-the-middle mode where a real initiator/responder pair talks through a
// wire that flips chosen bytes, with the oracle that nothing but what was sent is ever delivered.
// Layout: see weft::fuzz::Mode in fuzz_common.h. The RNG is deterministic, so the seed corpus's
// recorded encrypted sessions replay all the way into the established state.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

#include "common/bytes.h"
#include "fuzz_common.h"
#include "router/crypto/control_channel.h"

using namespace weft;
using namespace weft::fuzz;

namespace {

void check_invariants(const ControlChannel& c) {
  require(c.failed() == (c.failure() != ChannelFailure::kNone));
  require(c.failed() == (c.state() == ControlChannel::State::kFailed));
  if (c.established()) {
    require(c.remote().has_value());
    require(c.version() >= kProtocolVersionMin && c.version() <= kProtocolVersionMax);
  }
  (void)failure_name(c.failure());
}

void drain(ControlChannel& c) {
  while (auto m = c.pop_message()) require(m->size() <= kMaxControlMessage);
}

void feed_one_side(uint8_t mode, uint8_t seed, ByteView stream) {
  ControlChannel c(channel_config(mode & kModeInitiator, !(mode & kModePlain)));
  c.take_output();
  if (mode & kModeChunked) {
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < stream.size();) {
      x = x * 1664525u + 1013904223u;
      size_t n = (x >> 24) % 17;  // 0..16, empty reads included
      if (n > stream.size() - i) n = stream.size() - i;
      c.receive(stream.subspan(i, n));
      check_invariants(c);
      drain(c);
      i += n;
    }
  } else {
    c.receive(stream);
  }
  check_invariants(c);
  drain(c);
  c.take_output();
  if (c.established()) {
    c.send(as_bytes("reply"));
    require(c.has_output());
  } else if (c.state() == ControlChannel::State::kPreamble ||
             c.state() == ControlChannel::State::kHandshake) {
    bool threw = false;
    try {
      c.send(as_bytes("too early"));
    } catch (const std::logic_error&) {
      threw = true;
    }
    require(threw);
  }
  // More bytes after a failure are ignored; after success they are just more frames.
  c.receive(stream.first(stream.size() < 64 ? stream.size() : 64));
  check_invariants(c);
  drain(c);
}

struct Edit {
  size_t pos;
  uint8_t mask;
};

void man_in_the_middle(ByteView edits_in) {
  // Each edit: u16 big-endian position in the concatenation of both directions' streams, with
  // the top bit selecting the direction; u8 xor mask.
  std::vector<Edit> edits[2];
  for (size_t i = 0; i + 3 <= edits_in.size() && i < 3 * 16; i += 3) {
    uint16_t p = static_cast<uint16_t>(edits_in[i] << 8 | edits_in[i + 1]);
    edits[p >> 15].push_back({static_cast<size_t>(p & 0x7fff), edits_in[i + 2]});
  }
  ControlChannel i(channel_config(true, true)), r(channel_config(false, true));
  const Bytes sent_by[2] = {Bytes{'f', 'r', 'o', 'm', ' ', 'i'},
                            Bytes{'f', 'r', 'o', 'm', ' ', 'r'}};
  size_t offset[2] = {0, 0};
  size_t received[2] = {0, 0};
  bool queued[2] = {false, false};
  for (int round = 0; round < 8; ++round) {
    for (int d = 0; d < 2; ++d) {
      ControlChannel& from = d == 0 ? i : r;
      ControlChannel& to = d == 0 ? r : i;
      if (from.established() && !queued[d]) {
        from.send(sent_by[d]);
        from.send(sent_by[d]);
        queued[d] = true;
      }
      Bytes out = from.take_output();
      for (const Edit& e : edits[d])
        if (e.pos >= offset[d] && e.pos < offset[d] + out.size()) out[e.pos - offset[d]] ^= e.mask;
      offset[d] += out.size();
      to.receive(out);
      check_invariants(to);
      // The oracle: whatever arrives is exactly what the other side sent.
      while (auto m = to.pop_message()) {
        require(*m == sent_by[d]);
        ++received[1 - d];
      }
    }
  }
  require(received[0] <= 2 && received[1] <= 2);
  if (i.established() && r.established()) {
    require(*i.remote() == kResponderHello);
    require(*r.remote() == kInitiatorHello);
    require(i.dataplane_send_key() == r.dataplane_recv_key());
    require(i.dataplane_recv_key() == r.dataplane_send_key());
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  install_deterministic_rng();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  rng_reset();
  uint8_t mode = data[0], seed = data[1];
  ByteView rest(data + 2, size - 2);
  if (mode & kModeTamper)
    man_in_the_middle(rest);
  else
    feed_one_side(mode, seed, rest);
  return 0;
}
