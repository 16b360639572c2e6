// The encrypted UDP datagram path: what anyone on the network can send to the data-plane port.
// The first byte picks a mode (low two bits) and options (the rest); every mode starts from fresh,
// fixed state so that a crash reproduces from its input alone.
//
//   0 raw header/session: parse_datagram_header and DataSession::open on the bytes as they are.
//   1 session script: a sender session seals datagrams (small rekey limits), the script delivers
//     them genuine, replayed, bit-flipped or resized to the receiver, with time passing. Oracles:
//     only a genuine, never accepted datagram opens, to exactly what was sealed, and one of the
//     previous epoch only within keep_old_key_ms; a genuine datagram newer than anything
//     accepted in the receiver's current epoch, or of the next epoch, does open.
//   2 raw core: DataplaneCore::on_udp on the bytes (option bit 4: with this peer's real receiver id
//     patched in, so they reach authentication). Nothing may be injected or sent on.
//   3 core script: an authenticated neighbour (the real key) seals arbitrary plaintext batches,
//     some of which the script mutates, replays or sends over the control-connection path
//     instead. Oracles: every frame injected locally or forwarded to the third peer was part of a
//     batch that arrived authentic, and what the core forwards opens with the next hop's key and
//     decodes.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include "common/bytes.h"
#include "fuzz_common.h"
#include "router/dataplane/data_session.h"
#include "router/dataplane/dataplane_core.h"
#include "router/dataplane/frame_batch.h"

using namespace weft;
using weft::fuzz::require;
using Result = weft::DataSession::OpenResult;

namespace {

noise::Key key_of(uint8_t v) {
  noise::Key k;
  for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<uint8_t>(v * 7 + i);
  return k;
}

// Consumes the input front to back; past the end it yields zeros.
struct Script {
  const uint8_t* p;
  size_t n;
  bool done() const { return n == 0; }
  uint8_t u8() {
    if (n == 0) return 0;
    --n;
    return *p++;
  }
  uint16_t u16() { return static_cast<uint16_t>(u8() << 8 | u8()); }
  ByteView take(size_t len) {
    len = std::min(len, n);
    ByteView v(p, len);
    p += len;
    n -= len;
    return v;
  }
};

bool contains(const std::vector<Bytes>& hay, ByteView needle) {
  for (const Bytes& h : hay)
    if (std::search(h.begin(), h.end(), needle.begin(), needle.end()) != h.end()) return true;
  return false;
}

// ---- mode 0

void raw_session(ByteView in) {
  auto h = parse_datagram_header(in);
  if (h) {
    require(in.size() >= kDataOverhead);
    require((in[0] == kDatagramData || in[0] == kDatagramPlain) && in[2] == 0 && in[3] == 0);
    require(h->type == in[0] && h->epoch == in[1]);
    uint32_t id = uint32_t(in[4]) << 24 | uint32_t(in[5]) << 16 | uint32_t(in[6]) << 8 | in[7];
    require(h->receiver_id == id);
    uint64_t c = 0;
    for (int i = 0; i < 8; ++i) c = c << 8 | in[8 + i];
    require(h->counter == c);
  } else {
    require(in.size() < kDataOverhead || (in[0] != kDatagramData && in[0] != kDatagramPlain) ||
            in[2] != 0 || in[3] != 0);
  }
  for (DataCipher c : {DataCipher::kChaCha20Poly1305, best_local_cipher(), DataCipher::kNone}) {
    DataSession s(c, key_of(1), key_of(2), 7, 0);
    Bytes plain = {1, 2, 3};
    Result r = s.open(in, plain, 0);
    if (!h) require(r == Result::kMalformed);
    if (r == Result::kOk) {
      // Sealed: only possible for a datagram really sealed under key_of(2). Plain
      // (--no-encryption): any type-2 datagram, carried as is. Either opens once.
      require(c == DataCipher::kNone
                  ? in[0] == kDatagramPlain && plain.size() == in.size() - kDataHeaderLen
                  : plain.size() == in.size() - kDataOverhead);
      require(s.open(in, plain, 0) == Result::kReplay);
    }
  }
}

// ---- mode 1

struct Sealed {
  Bytes datagram, plain;
  uint64_t abs_epoch, counter;
  bool accepted = false;
};

void session_script(uint8_t options, Script in) {
  DataSessionLimits l;
  l.rekey_after_packets = 1 + in.u8() % 8;
  l.rekey_after_ms = 1 + int64_t(in.u8()) * 8;
  l.keep_old_key_ms = int64_t(in.u8()) * 4;
  DataCipher cipher = options & 4 ? best_local_cipher() : DataCipher::kChaCha20Poly1305;
  DataSession tx(cipher, key_of(3), key_of(4), 0x01020304, 0, l);
  DataSession rx(cipher, key_of(4), key_of(3), 0x05060708, 0, l);
  std::vector<Sealed> sealed;
  uint8_t last_epoch = 0;
  uint64_t abs_epoch = 0;
  uint64_t cur = 0;              // the receiver's current epoch, counted without wrapping
  std::optional<uint64_t> prev;  // the epoch it left last (its key kept keep_old_key_ms)
  std::optional<uint64_t> top_in_cur;
  int64_t now = 0, advanced_at = 0;  // when the receiver moved to epoch `cur`
  Bytes plain;
  for (int ops = 0; !in.done() && ops < 2000; ++ops) {
    uint8_t op = in.u8();
    now += (op >> 2) * 7;
    if ((op & 3) == 0 || sealed.empty()) {
      Sealed s;
      ByteView pt = in.take(in.u8());
      s.plain.assign(pt.begin(), pt.end());
      tx.seal(s.plain, s.datagram, now);
      if (tx.send_epoch() != last_epoch) {
        require(tx.send_epoch() == static_cast<uint8_t>(last_epoch + 1));
        last_epoch = tx.send_epoch();
        ++abs_epoch;
      }
      s.abs_epoch = abs_epoch;
      s.counter = tx.sent_in_epoch() - 1;
      require(s.datagram.size() == s.plain.size() + kDataOverhead);
      require(s.datagram[1] == last_epoch);
      sealed.push_back(std::move(s));
      continue;
    }
    Sealed& s = sealed[in.u8() % sealed.size()];
    Bytes d = s.datagram;
    if ((op & 3) == 2) {
      d[in.u16() % d.size()] ^= static_cast<uint8_t>(in.u8() | 1);
    } else if ((op & 3) == 3) {
      d.resize(in.u16() % (d.size() + 8), 0xa5);
    }
    bool genuine = d == s.datagram;
    // The receiver follows the sender up to kMaxEpochsAhead epochs at once.
    bool must_open = genuine && !s.accepted &&
                     ((s.abs_epoch == cur && (!top_in_cur || s.counter > *top_in_cur)) ||
                      (s.abs_epoch > cur && s.abs_epoch <= cur + kMaxEpochsAhead));
    plain.assign(3, 0xee);
    Result r = rx.open(d, plain, now);
    if (r == Result::kOk) {
      require(genuine && !s.accepted);
      require(plain == s.plain);
      // The key of the epoch it left lives keep_old_key_ms after the receiver moved on; older
      // ones are gone.
      require(s.abs_epoch >= cur || s.abs_epoch == prev);
      if (s.abs_epoch < cur) require(now < advanced_at + l.keep_old_key_ms);
      s.accepted = true;
      if (s.abs_epoch > cur) {
        prev = cur;
        cur = s.abs_epoch;
        advanced_at = now;
        top_in_cur.reset();
      }
      if (s.abs_epoch == cur) top_in_cur = std::max(top_in_cur.value_or(0), s.counter);
    } else {
      require(!must_open);
    }
  }
}

// ---- modes 2 and 3: one DataplaneCore (B) with two neighbours: A sends to it, C is where it
// forwards to. D lies behind C.

constexpr PeerName kA = 0x0a, kB = 0x0b, kC = 0x0c, kD = 0x0d;

struct Routes : ForwardingRoutes {
  std::optional<PeerName> next_hop(PeerName dst) override {
    if (dst == kA) return kA;
    if (dst == kC || dst == kD) return kC;
    return std::nullopt;
  }
  std::vector<PeerName> broadcast_children(PeerName src) override {
    if (src == kA) return {kC};
    if (src == kC || src == kD) return {kA};
    if (src == kB) return {kA, kC};
    return {};
  }
};

struct Harness : GossipSender, DataplaneIo {
  Routes routes;
  std::unique_ptr<DataplaneCore> core;
  Bytes hello_to_a, hello_to_c;
  // A's and C's ends of their sessions with B: from_* seal towards B, at_* open B's datagrams.
  std::unique_ptr<DataSession> from_a, from_c, at_a, at_c;
  std::vector<Bytes> authentic;  // plaintext batches B received authentic
  size_t injected = 0, forwarded = 0;
  UdpEndpoint ep_a, ep_c, ep_moved;

  void send_neighbor(std::string_view, PeerName to, ByteView payload) override {
    (to == kA ? hello_to_a : hello_to_c).assign(payload.begin(), payload.end());
  }
  void send_unicast(std::string_view, PeerName, ByteView) override { require(false); }
  void broadcast(std::string_view, ByteView) override { require(false); }
  void inject(ByteView vnet, ByteView frame) override {
    require(vnet.size() == kVnetHdrLen && frame.size() >= kEthHdrLen);
    require(contains(authentic, frame));
    ++injected;
  }
  void check_forwarded(PeerName to, ByteView batch) {
    FrameBatch b;
    decode_frame_batch(batch, b);  // what B builds must decode (throws = crash)
    require(b.kind == kBatchFrames || b.kind == kBatchProbe);
    if (b.kind == kBatchProbe) return;
    require(to == kA || to == kC);
    for (const FrameItem& f : b.frames) require(contains(authentic, f.frame));
    ++forwarded;
  }
  void send_udp(const UdpEndpoint& to, ByteView datagram) override {
    require(to == ep_a || to == ep_c || to == ep_moved);
    bool to_c = to == ep_c;
    Bytes plain;
    require((to_c ? at_c : at_a)->open(datagram, plain, 0) == Result::kOk);
    check_forwarded(to_c ? kC : kA, plain);
  }
  void send_fallback(PeerName neighbor, ByteView batch) override {
    check_forwarded(neighbor, batch);
  }

  static uint32_t id_in(const Bytes& hello) {
    require(hello.size() == 8);
    return uint32_t(hello[1]) << 24 | uint32_t(hello[2]) << 16 | uint32_t(hello[3]) << 8 | hello[4];
  }

  explicit Harness(bool offer_aes) {
    ep_a = *parse_udp_endpoint("10.0.0.10", 6783);
    ep_c = *parse_udp_endpoint("10.0.0.12", 6783);
    ep_moved = *parse_udp_endpoint("192.0.2.1", 1);
    core = std::make_unique<DataplaneCore>(kB, 6783, *this, routes, *this, 42);
    Bytes hello = {1, 0, 0, 0, 0, 0x1a, 0x7f, static_cast<uint8_t>(offer_aes ? 3 : 1)};
    for (PeerName p : {kA, kC}) {
      core->on_neighbor_up(p, 0);
      core->set_neighbor_keys(p, key_of(uint8_t(kB * 16 + p)), key_of(uint8_t(p * 16 + kB)),
                              p == kA ? "10.0.0.10" : "10.0.0.12", 0);
      hello[4] = static_cast<uint8_t>(p);  // the neighbour's receiver id: 0x0000000a / 0x0c
      core->on_neighbor(p, hello, 0);
    }
    DataCipher c = offer_aes && best_local_cipher() == DataCipher::kAes256Gcm
                       ? DataCipher::kAes256Gcm
                       : DataCipher::kChaCha20Poly1305;
    // Each end as the core keys it: the handshake keys bound to both session ids.
    auto session = [&](PeerName p, uint32_t receiver) {
      const uint32_t b_id = id_in(p == kA ? hello_to_a : hello_to_c), p_id = uint32_t(p);
      return std::make_unique<DataSession>(
          c, dataplane_session_key(key_of(uint8_t(p * 16 + kB)), p_id, b_id),
          dataplane_session_key(key_of(uint8_t(kB * 16 + p)), b_id, p_id), receiver, 0);
    };
    from_a = session(kA, id_in(hello_to_a));
    from_c = session(kC, id_in(hello_to_c));
    at_a = session(kA, kA);
    at_c = session(kC, kC);
    // C proves its UDP path, so B forwards to C over UDP.
    Bytes probe, d;
    begin_frame_batch(probe, kBatchProbe, kC, kB);
    from_c->seal(probe, d, 0);
    core->on_udp(ep_c, d, 0);
    require(core->counters().udp_rx == 1);
  }
};

void raw_core(uint8_t options, ByteView in) {
  Harness h(options & 4);
  Bytes d(in.begin(), in.end());
  if ((options & 16) && d.size() >= 8) {
    uint32_t id = Harness::id_in(h.hello_to_a);
    for (int i = 0; i < 4; ++i) d[4 + i] = static_cast<uint8_t>(id >> (24 - 8 * i));
  }
  DataplaneCounters before = h.core->counters();
  h.core->on_udp(options & 8 ? h.ep_c : h.ep_a, d, 1);
  h.core->on_timer(2);
  require(h.core->counters().udp_rx == before.udp_rx);  // forging is not expected to succeed
  require(h.injected == 0 && h.forwarded == 0);
}

void core_script(uint8_t options, Script in) {
  Harness h(options & 4);
  int64_t now = 1;
  Bytes last;
  for (int ops = 0; !in.done() && ops < 200; ++ops) {
    uint8_t op = in.u8();
    now += int64_t(op >> 4) * int64_t(in.u8()) * 100;  // up to ~6 min: crosses rekeys
    ByteView pt = in.take(in.u16());
    if (op & 1) {  // over the control connection: authentic by definition
      h.authentic.emplace_back(pt.begin(), pt.end());
      h.core->on_fallback(kA, pt, now);
      continue;
    }
    Bytes d;
    h.from_a->seal(pt, d, now);
    bool mutate = op & 2;
    if (mutate && !d.empty()) d[in.u16() % d.size()] ^= static_cast<uint8_t>(in.u8() | 1);
    if (!mutate) h.authentic.emplace_back(pt.begin(), pt.end());
    h.core->on_udp((op & 4) ? h.ep_moved : h.ep_a, d, now);          // an endpoint move (NAT)
    if (op & 8 && !last.empty()) h.core->on_udp(h.ep_a, last, now);  // a replay
    last = d;
    if (ops % 16 == 15) h.core->on_timer(now);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static bool init = [] { return sodium_init() >= 0; }();
  require(init);
  uint8_t mode = data[0];
  Script rest{data + 1, size - 1};
  switch (mode & 3) {
    case 0:
      raw_session(ByteView(data + 1, size - 1));
      break;
    case 1:
      session_script(mode, rest);
      break;
    case 2:
      raw_core(mode, ByteView(data + 1, size - 1));
      break;
    case 3:
      core_script(mode, rest);
      break;
  }
  return 0;
}
