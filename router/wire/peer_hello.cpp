#include "router/wire/peer_hello.h"

namespace weft {

void encode_peer_hello(const PeerHello& h, Bytes& out) {
  ByteWriter w(out);
  w.u64(h.name);
  w.str16(h.nickname.substr(0, kMaxNicknameLen));
  w.u64(h.incarnation);
  w.u16(h.port);
}

PeerHello decode_peer_hello(ByteView in) {
  ByteReader r(in);
  PeerHello h;
  h.name = r.u64();
  if (h.name & ~kPeerNameMask) throw DecodeError("peer name out of range");
  h.nickname = r.str16(kMaxNicknameLen);
  h.incarnation = r.u64();
  h.port = r.u16();
  r.expect_done();
  return h;
}

}  // namespace weft
