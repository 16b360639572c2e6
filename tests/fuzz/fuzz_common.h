#pragma once
// Shared by the fuzz targets and the corpus generator: a deterministic libsodium RNG (so a crash
// reproduces from its input alone, and so that recorded encrypted handshakes in the seed corpus
// replay into a fresh channel that draws the same ephemeral keys), and the channel configuration
// both sides of a recorded session used.
#include <sodium.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "router/crypto/control_channel.h"

namespace weft::fuzz {

// splitmix64: not a CSPRNG, which is the point here.
inline uint64_t g_rng_state = 0;

inline uint64_t rng_next() {
  uint64_t z = (g_rng_state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Every fuzz input and every recorded session starts from the same state.
inline void rng_reset() {
  g_rng_state = 0x5eedf00dull;
}

inline const char* rng_name() {
  return "weft-fuzz-deterministic";
}
inline uint32_t rng_random() {
  return static_cast<uint32_t>(rng_next());
}
inline void rng_stir() {}
inline void rng_buf(void* const buf, const size_t size) {
  auto* p = static_cast<uint8_t*>(buf);
  for (size_t i = 0; i < size; i += 8) {
    uint64_t v = rng_next();
    size_t n = size - i < 8 ? size - i : 8;
    std::memcpy(p + i, &v, n);
  }
}
inline int rng_close() {
  return 0;
}

// Must run before anything calls sodium_init().
inline void install_deterministic_rng() {
  static randombytes_implementation impl = {rng_name, rng_random, rng_stir,
                                            nullptr,  rng_buf,    rng_close};
  if (randombytes_set_implementation(&impl) != 0 || sodium_init() < 0) std::abort();
  rng_reset();
}

inline const PeerHello kInitiatorHello{0x0a0000000001ull, "fuzz-initiator", 1, 6783};
inline const PeerHello kResponderHello{0x0b0000000002ull, "fuzz-responder", 2, 6783};

inline ControlChannel::Config channel_config(bool initiator, bool encrypted) {
  ControlChannel::Config c;
  c.initiator = initiator;
  c.encrypted = encrypted;
  c.psk.fill(0x11);
  c.local = initiator ? kInitiatorHello : kResponderHello;
  return c;
}

// Input layout of fuzz_control_channel: mode byte, seed byte, then the byte stream.
enum Mode : uint8_t {
  kModeInitiator = 1,  // else responder
  kModePlain = 2,      // --no-encryption
  kModeChunked = 4,    // deliver in chunks whose sizes derive from the seed byte
  kModeTamper = 8,     // a real pair talks; the stream is a list of (u16 pos, u8 xor) edits
};

// Uncaught results of an oracle check: abort so libFuzzer records the input.
inline void require(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace weft::fuzz
