// decode_peer_hello on arbitrary bytes (the payload of a handshake message, or the plaintext
// hello frame with --no-encryption). What decodes must re-encode to the same bytes.
#include <cstddef>
#include <cstdint>

#include "common/bytes.h"
#include "fuzz_common.h"
#include "router/wire/peer_hello.h"

using namespace weft;
using weft::fuzz::require;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteView in(data, size);
  PeerHello h;
  try {
    h = decode_peer_hello(in);
  } catch (const DecodeError&) {
    return 0;
  }
  require((h.name & ~kPeerNameMask) == 0);
  require(h.nickname.size() <= kMaxNicknameLen);
  Bytes again;
  encode_peer_hello(h, again);
  require(again == Bytes(in.begin(), in.end()));
  require(decode_peer_hello(again) == h);
  return 0;
}
