// DataSession (router/dataplane/data_session.h): the encrypted UDP datagrams between two directly
// connected peers. Covers round trips with both ciphers, the exact header layout and nonce/AD
// construction (checked against libsodium directly, as another implementation would do it),
// tampering with any byte, replays, reordering within the window and beyond it, the ratchet
// rekey by packet count and by time (the receiver follows, keeps the old key for stragglers for
// keep_old_key_ms, then refuses it), epoch jumps, and datagrams sealed under someone else's keys.
#include <doctest/doctest.h>
#include <sodium.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "router/crypto/noise.h"
#include "router/dataplane/data_session.h"

using weft::Bytes;
using weft::ByteView;
using weft::DataCipher;
using weft::DataSession;
using weft::DataSessionLimits;
using weft::kDataHeaderLen;
using weft::kDataOverhead;
using weft::kDataTagLen;
using weft::parse_datagram_header;
using Result = weft::DataSession::OpenResult;
namespace noise = weft::noise;

namespace {

noise::Key key_of(uint8_t v) {
  noise::Key k;
  for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<uint8_t>(v + i);
  return k;
}

const noise::Key kAtoB = key_of(0x10), kBtoA = key_of(0x60);
constexpr uint32_t kIdOfA = 0x0a0b0c0d, kIdOfB = 0xdeadbeef;

std::vector<DataCipher> ciphers() {
  std::vector<DataCipher> c = {DataCipher::kChaCha20Poly1305};
  if (weft::best_local_cipher() == DataCipher::kAes256Gcm) c.push_back(DataCipher::kAes256Gcm);
  return c;
}

const char* name_of(DataCipher c) {
  return c == DataCipher::kAes256Gcm ? "AES-256-GCM" : "ChaCha20-Poly1305";
}

// The two ends of one tunnel: a seals for b (b's receiver id) and the other way round.
struct Pair {
  DataSession a, b;
  explicit Pair(DataCipher c = DataCipher::kChaCha20Poly1305, DataSessionLimits l = {},
                int64_t now = 0)
      : a(c, kAtoB, kBtoA, kIdOfB, now, l), b(c, kBtoA, kAtoB, kIdOfA, now, l) {}
};

Bytes payload(size_t n, uint8_t salt = 0) {
  Bytes p(n);
  for (size_t i = 0; i < n; ++i) p[i] = static_cast<uint8_t>(i * 31 + salt);
  return p;
}

Bytes seal(DataSession& s, ByteView pt, int64_t now = 0) {
  Bytes out;
  s.seal(pt, out, now);
  return out;
}

Result open(DataSession& s, ByteView d, int64_t now = 0, Bytes* plain_out = nullptr) {
  Bytes plain;
  Result r = s.open(d, plain, now);
  if (plain_out) *plain_out = plain;
  return r;
}

// Opens and checks that the plaintext is `want`.
void open_ok(DataSession& s, ByteView d, ByteView want, int64_t now = 0) {
  Bytes plain;
  REQUIRE(s.open(d, plain, now) == Result::kOk);
  CHECK(plain == Bytes(want.begin(), want.end()));
}

// What another implementation does with the header: AEAD over the body, the 16-byte header as
// associated data, nonce = 4 zero bytes then the counter big-endian.
bool reference_open(DataCipher c, const noise::Key& k, ByteView d, Bytes& plain) {
  REQUIRE(d.size() >= kDataOverhead);
  uint8_t nonce[12] = {};
  std::copy(d.begin() + 8, d.begin() + 16, nonce + 4);
  plain.resize(d.size() - kDataOverhead);
  unsigned long long n = 0;
  const uint8_t* ct = d.data() + kDataHeaderLen;
  size_t ct_len = d.size() - kDataHeaderLen;
  if (c == DataCipher::kAes256Gcm)
    return crypto_aead_aes256gcm_decrypt(plain.data(), &n, nullptr, ct, ct_len, d.data(),
                                         kDataHeaderLen, nonce, k.data()) == 0;
  return crypto_aead_chacha20poly1305_ietf_decrypt(plain.data(), &n, nullptr, ct, ct_len, d.data(),
                                                   kDataHeaderLen, nonce, k.data()) == 0;
}

// Epoch n+1's key from epoch n's: HKDF keyed by the old key, info "weft dataplane rekey".
noise::Key next_epoch_key(const noise::Key& k) {
  noise::Hash a, b;
  noise::hkdf(k, weft::as_bytes("weft dataplane rekey"), a, b);
  return a;
}

}  // namespace

TEST_CASE("seal then open round-trips with every available cipher") {
  for (DataCipher c : ciphers()) {
    CAPTURE(name_of(c));
    Pair p(c);
    for (size_t n : {size_t(0), size_t(1), size_t(17), size_t(1500), size_t(65000)}) {
      CAPTURE(n);
      Bytes pt = payload(n, static_cast<uint8_t>(n));
      Bytes d = seal(p.a, pt);
      CHECK(d.size() == n + kDataOverhead);
      open_ok(p.b, d, pt);
      Bytes back = seal(p.b, pt);
      open_ok(p.a, back, pt);
    }
    // Ciphertext does not contain the plaintext.
    Bytes pt = payload(64, 7), d = seal(p.a, pt);
    CHECK(std::search(d.begin(), d.end(), pt.begin(), pt.begin() + 16) == d.end());
  }
}

TEST_CASE("the header layout is fixed: type, epoch, zero, receiver id, counter big-endian") {
  for (DataCipher c : ciphers()) {
    CAPTURE(name_of(c));
    DataSession a(c, kAtoB, kBtoA, 0x01020304, 0);
    Bytes pt = payload(40, 3);
    Bytes d0 = seal(a, pt), d1 = seal(a, pt), d2 = seal(a, pt);
    const Bytes want_header = {0x01, 0x00, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04,
                               0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02};
    CHECK(Bytes(d2.begin(), d2.begin() + 16) == want_header);
    CHECK(d0[15] == 0);
    CHECK(d1[15] == 1);
    CHECK(a.send_epoch() == 0);
    CHECK(a.sent_in_epoch() == 3);

    auto h = parse_datagram_header(d2);
    REQUIRE(h);
    CHECK(h->type == 1);
    CHECK(h->epoch == 0);
    CHECK(h->receiver_id == 0x01020304u);
    CHECK(h->counter == 2);

    // Another implementation holding the same key opens it: nonce and associated data are exactly
    // as documented, and the ciphertext is deterministic for fixed keys.
    Bytes plain;
    REQUIRE(reference_open(c, kAtoB, d2, plain));
    CHECK(plain == pt);
    DataSession again(c, kAtoB, kBtoA, 0x01020304, 0);
    seal(again, pt);
    seal(again, pt);
    CHECK(seal(again, pt) == d2);
    // The receiving end is any session whose receive key is the sender's send key.
    DataSession b(c, kBtoA, kAtoB, 0x55, 0);
    open_ok(b, d2, pt);
    DataSession b2(c, key_of(0xee), kAtoB, 0x66, 0);
    open_ok(b2, d0, pt);
  }
}

TEST_CASE("after a rekey the epoch byte and the HKDF-ratcheted key are as documented") {
  // Epoch 1 after a packet-count rekey; key of epoch 1 is HKDF(epoch 0 key).
  DataSessionLimits l;
  l.rekey_after_packets = 2;
  DataSession a(DataCipher::kChaCha20Poly1305, kAtoB, kBtoA, 0xa1b2c3d4, 0, l);
  Bytes pt = payload(10);
  seal(a, pt);
  seal(a, pt);
  Bytes d = seal(a, pt);
  CHECK(a.send_epoch() == 1);
  const Bytes want = {1, 1, 0, 0, 0xa1, 0xb2, 0xc3, 0xd4, 0, 0, 0, 0, 0, 0, 0, 0};
  CHECK(Bytes(d.begin(), d.begin() + 16) == want);
  Bytes plain;
  CHECK_FALSE(reference_open(DataCipher::kChaCha20Poly1305, kAtoB, d, plain));
  REQUIRE(reference_open(DataCipher::kChaCha20Poly1305, next_epoch_key(kAtoB), d, plain));
  CHECK(plain == pt);

  // parse_datagram_header reads every counter byte in order.
  Bytes raw(kDataOverhead, 0);
  raw[0] = 1;
  raw[1] = 0xfe;
  for (int i = 0; i < 8; ++i) raw[8 + i] = static_cast<uint8_t>(0xf1 + i);
  auto h = parse_datagram_header(raw);
  REQUIRE(h);
  CHECK(h->epoch == 0xfe);
  CHECK(h->receiver_id == 0);
  CHECK(h->counter == 0xf1f2f3f4f5f6f7f8ull);
}

TEST_CASE("parse_datagram_header refuses short datagrams, other types and nonzero reserved bytes") {
  Bytes d(kDataOverhead, 0);
  d[0] = 1;
  CHECK(parse_datagram_header(d));
  CHECK_FALSE(parse_datagram_header(ByteView(d.data(), kDataOverhead - 1)));
  CHECK_FALSE(parse_datagram_header(ByteView(d.data(), 0)));
  for (uint8_t type : {0, 3, 0x81, 0xff}) {  // 1 sealed, 2 plain (--no-encryption)
    Bytes x = d;
    x[0] = type;
    CHECK_FALSE(parse_datagram_header(x));
  }
  for (size_t pos : {2, 3}) {
    Bytes x = d;
    x[pos] = 0x40;
    CHECK_FALSE(parse_datagram_header(x));
  }
}

TEST_CASE("any tampered byte is refused and changes nothing; the genuine datagram opens after") {
  for (DataCipher c : ciphers()) {
    CAPTURE(name_of(c));
    Pair p(c);
    Bytes pt = payload(20, 9);
    Bytes d0 = seal(p.a, pt), d1 = seal(p.a, pt);
    for (size_t pos = 0; pos < d0.size(); ++pos) {
      for (uint8_t mask : {uint8_t(0x01), uint8_t(0x80), uint8_t(0xff)}) {
        CAPTURE(pos);
        CAPTURE(int(mask));
        Bytes t = d0;
        t[pos] ^= mask;
        Result r = open(p.b, t);
        if (pos == 0 || pos == 2 || pos == 3)
          CHECK(r == Result::kMalformed);
        else if (pos == 1)  // epoch 1 is tried (and fails), others are unknown
          CHECK((r == Result::kAuthFailed || r == Result::kUnknownEpoch));
        else
          CHECK(r == Result::kAuthFailed);
      }
    }
    // Truncated or extended datagrams.
    for (size_t n = 0; n < d0.size(); ++n) {
      CAPTURE(n);
      Result r = open(p.b, ByteView(d0.data(), n));
      CHECK(r == (n < kDataOverhead ? Result::kMalformed : Result::kAuthFailed));
    }
    Bytes longer = d0;
    longer.push_back(0);
    CHECK(open(p.b, longer) == Result::kAuthFailed);
    // Nothing above moved the window or the epoch (a flipped counter byte would have pushed the
    // window far ahead): both genuine datagrams still open, in either order.
    open_ok(p.b, d1, pt);
    open_ok(p.b, d0, pt);
  }
}

TEST_CASE("a refused datagram leaves no plaintext behind") {
  // open() documents that `plain` is cleared first: a caller that reuses the buffer must not see
  // the previous datagram's plaintext after a refusal.
  Pair p;
  Bytes pt = payload(30, 1);
  Bytes d = seal(p.a, pt);
  Bytes plain;
  REQUIRE(p.b.open(d, plain, 0) == Result::kOk);
  REQUIRE(plain == pt);
  CHECK(p.b.open(d, plain, 0) == Result::kReplay);
  CHECK(plain.empty());
  plain = pt;
  CHECK(p.b.open(ByteView(d.data(), 5), plain, 0) == Result::kMalformed);
  CHECK(plain.empty());
  plain = pt;
  Bytes e = seal(p.a, pt);
  e[1] = 200;  // beyond kMaxEpochsAhead
  CHECK(p.b.open(e, plain, 0) == Result::kUnknownEpoch);
  CHECK(plain.empty());
  plain = pt;
  e[1] = 0;
  e[20] ^= 1;
  CHECK(p.b.open(e, plain, 0) == Result::kAuthFailed);
  CHECK(plain.empty());
}

TEST_CASE("an accepted datagram replayed is refused") {
  for (DataCipher c : ciphers()) {
    CAPTURE(name_of(c));
    Pair p(c);
    Bytes pt = payload(100);
    Bytes d0 = seal(p.a, pt), d1 = seal(p.a, pt);
    open_ok(p.b, d0, pt);
    CHECK(open(p.b, d0) == Result::kReplay);
    open_ok(p.b, d1, pt);
    CHECK(open(p.b, d1) == Result::kReplay);
    CHECK(open(p.b, d0) == Result::kReplay);
    // Much later, still refused.
    CHECK(open(p.b, d0, 3'600'000) == Result::kReplay);
  }
}

TEST_CASE("reordering within the window: each datagram is accepted exactly once") {
  Pair p;
  std::vector<Bytes> ds, pts;
  for (int i = 0; i < 300; ++i) {
    pts.push_back(payload(16, static_cast<uint8_t>(i)));
    ds.push_back(seal(p.a, pts.back()));
  }
  std::vector<size_t> order(ds.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::mt19937 rng(7);
  std::shuffle(order.begin(), order.end(), rng);
  for (size_t i : order) {
    CAPTURE(i);
    open_ok(p.b, ds[i], pts[i]);
  }
  std::shuffle(order.begin(), order.end(), rng);
  for (size_t i : order) {
    CAPTURE(i);
    CHECK(open(p.b, ds[i]) == Result::kReplay);
  }
}

TEST_CASE("a counter further behind than the window is refused, the window edge is accepted") {
  Pair p;
  const uint64_t w = weft::ReplayWindow::kWindowSize;
  std::vector<Bytes> ds;
  Bytes pt = payload(8);
  for (uint64_t i = 0; i <= w + 100; ++i) ds.push_back(seal(p.a, pt));
  const uint64_t top = w + 100;
  open_ok(p.b, ds[top], pt);
  CHECK(open(p.b, ds[top - w - 1]) == Result::kReplay);  // just beyond the window
  CHECK(open(p.b, ds[0]) == Result::kReplay);
  open_ok(p.b, ds[top - w], pt);  // the oldest counter still inside
  open_ok(p.b, ds[top - 1], pt);
  CHECK(open(p.b, ds[top - w]) == Result::kReplay);
}

TEST_CASE("rekey after a packet count: the receiver follows, keeps the old key, then drops it") {
  for (DataCipher c : ciphers()) {
    CAPTURE(name_of(c));
    DataSessionLimits l;
    l.rekey_after_packets = 4;
    l.keep_old_key_ms = 1000;
    Pair p(c, l);
    std::vector<Bytes> e0, e1;
    Bytes pt = payload(50);
    for (int i = 0; i < 4; ++i) e0.push_back(seal(p.a, pt, 10));
    CHECK(p.a.send_epoch() == 0);
    for (int i = 0; i < 4; ++i) e1.push_back(seal(p.a, pt, 20));
    CHECK(p.a.send_epoch() == 1);
    CHECK(p.a.sent_in_epoch() == 4);
    for (const Bytes& d : e0) CHECK(d[1] == 0);
    for (const Bytes& d : e1) CHECK(d[1] == 1);
    CHECK(e1[0][15] == 0);  // the counter starts over in the new epoch

    open_ok(p.b, e0[0], pt, 100);
    open_ok(p.b, e0[1], pt, 100);
    open_ok(p.b, e1[0], pt, 500);  // follows to epoch 1 at t=500
    open_ok(p.b, e1[1], pt, 500);
    open_ok(p.b, e0[2], pt, 1499);                           // straggler from epoch 0: still opens
    CHECK(open(p.b, e0[1], 1499) == Result::kReplay);        // its window was kept too
    CHECK(open(p.b, e0[3], 1500) == Result::kUnknownEpoch);  // old key erased at 500 + 1000
    CHECK(open(p.b, e0[3], 1600) == Result::kUnknownEpoch);
    open_ok(p.b, e1[3], pt, 1600);
    open_ok(p.b, e1[2], pt, 1600);
    CHECK(open(p.b, e1[0], 1600) == Result::kReplay);

    // The next epoch again: the receiver follows as many times as the sender rekeys.
    for (int epoch = 2; epoch < 6; ++epoch) {
      std::vector<Bytes> e;
      for (int i = 0; i < 4; ++i) e.push_back(seal(p.a, pt, 2000));
      CHECK(p.a.send_epoch() == epoch);
      for (const Bytes& d : e) open_ok(p.b, d, pt, 2000);
    }
  }
}

TEST_CASE("rekey after time: the sender moves on after rekey_after_ms, the receiver follows") {
  DataSessionLimits l;
  l.rekey_after_ms = 100;
  l.keep_old_key_ms = 50;
  Pair p(DataCipher::kChaCha20Poly1305, l, 1000);
  Bytes pt = payload(12);
  Bytes a = seal(p.a, pt, 1000), b = seal(p.a, pt, 1099);
  CHECK(p.a.send_epoch() == 0);
  Bytes c = seal(p.a, pt, 1100);
  CHECK(p.a.send_epoch() == 1);
  CHECK(c[1] == 1);
  CHECK(p.a.sent_in_epoch() == 1);
  Bytes d = seal(p.a, pt, 1199);
  CHECK(p.a.send_epoch() == 1);
  // A long idle period advances one epoch only: the ratchet is per seal.
  Bytes e = seal(p.a, pt, 10'000);
  CHECK(p.a.send_epoch() == 2);

  open_ok(p.b, a, pt, 1000);
  open_ok(p.b, c, pt, 1100);
  open_ok(p.b, b, pt, 1149);
  open_ok(p.b, e, pt, 1150);  // epoch 2: epoch 0's key goes now, epoch 1 becomes the old one
  open_ok(p.b, d, pt, 1199);
  CHECK(open(p.b, d, 1199) == Result::kReplay);
  // The other direction has its own clock and ratchet.
  Bytes back = seal(p.b, pt, 1100);
  CHECK(back[1] == 1);
  open_ok(p.a, back, pt, 1100);
}

TEST_CASE("the epoch byte wraps around after 256 rekeys without losing the session") {
  DataSessionLimits l;
  l.rekey_after_packets = 1;
  Pair p(DataCipher::kChaCha20Poly1305, l);
  Bytes pt = payload(4);
  for (int i = 0; i < 600; ++i) {
    CAPTURE(i);
    Bytes d = seal(p.a, pt, i);
    CHECK(d[1] == static_cast<uint8_t>(i));
    open_ok(p.b, d, pt, i);
  }
}

TEST_CASE("a receiver catches up over skipped epochs, within a bound") {
  DataSessionLimits l;
  l.rekey_after_packets = 2;
  Pair p(DataCipher::kChaCha20Poly1305, l);
  Bytes pt = payload(9);
  std::vector<Bytes> d;
  for (int i = 0; i < 6; ++i) d.push_back(seal(p.a, pt));
  REQUIRE(d[0][1] == 0);
  REQUIRE(d[2][1] == 1);
  REQUIRE(d[4][1] == 2);
  // Epoch 1 was lost entirely (an outage): epoch 2 still opens.
  open_ok(p.b, d[4], pt);
  open_ok(p.b, d[0], pt);  // epoch 0 is now the previous key: stragglers still open
  CHECK(open(p.b, d[2]) == Result::kUnknownEpoch);  // the skipped epoch is gone
  open_ok(p.b, d[5], pt);
  // A datagram claiming an epoch beyond the bound is unknown and changes nothing.
  Bytes far = seal(p.a, pt);
  far[1] = static_cast<uint8_t>(far[1] + weft::kMaxEpochsAhead + 1);
  CHECK(open(p.b, far) == Result::kUnknownEpoch);
  // A forged epoch within the bound fails authentication and does not move the receiver.
  Bytes forged = d[5];
  forged[1] = static_cast<uint8_t>(forged[1] + 3);
  CHECK(open(p.b, forged) == Result::kAuthFailed);
  open_ok(p.b, seal(p.a, pt), pt);
}

TEST_CASE("a forged epoch costs no key derivation, a real epoch jump derives only what it skips") {
  // Issue 10: with a real receiver id and an epoch byte up to kMaxEpochsAhead ahead, a datagram
  // used to cost one HKDF step per epoch before it was authenticated.
  for (DataCipher c : ciphers()) {
    CAPTURE(name_of(c));
    DataSessionLimits l;
    l.rekey_after_packets = 1;
    Pair p(c, l);
    Bytes pt = payload(40);
    const uint64_t base = p.b.recv_derivations();
    CHECK(base == weft::kMaxEpochsAhead);  // derived once, at the start
    Bytes genuine = seal(p.a, pt);
    std::mt19937 rng(7);
    for (int i = 0; i < 2000; ++i) {
      Bytes forged = genuine;
      forged[1] = static_cast<uint8_t>(rng());  // any epoch, most within reach
      forged[8 + rng() % 8] ^= static_cast<uint8_t>(1 + rng() % 255);  // counter
      forged[kDataHeaderLen + rng() % (forged.size() - kDataHeaderLen)] ^= 1;
      Result r = open(p.b, forged);
      CHECK((r == Result::kAuthFailed || r == Result::kUnknownEpoch || r == Result::kReplay));
    }
    CHECK(p.b.recv_derivations() == base);
    open_ok(p.b, genuine, pt);
    CHECK(p.b.recv_derivations() == base);
    // The sender moves 5 epochs on (4 lost to an outage): exactly 5 new derivations.
    for (int i = 0; i < 4; ++i) seal(p.a, pt);
    Bytes later = seal(p.a, pt);
    REQUIRE(later[1] == 5);
    open_ok(p.b, later, pt);
    CHECK(p.b.recv_derivations() == base + 5);
    // The furthest reachable epoch still opens, and its successors are ready.
    for (int i = 0; i < weft::kMaxEpochsAhead - 1; ++i) seal(p.a, pt);
    Bytes furthest = seal(p.a, pt);
    REQUIRE(furthest[1] == 5 + weft::kMaxEpochsAhead);
    open_ok(p.b, furthest, pt);
    open_ok(p.b, seal(p.a, pt), pt);
    CHECK(p.b.recv_derivations() == base + 5 + weft::kMaxEpochsAhead + 1);
  }
}

TEST_CASE("a datagram sealed under other keys never opens and does not move the window") {
  for (DataCipher c : ciphers()) {
    CAPTURE(name_of(c));
    DataSessionLimits l;
    l.rekey_after_packets = 10'000;
    Pair p(c, l);
    // Same receiver id, same cipher, different keys: someone who guessed the id.
    DataSession mallory(c, key_of(0xa0), key_of(0xb0), kIdOfB, 0, l);
    Bytes pt = payload(20);
    std::vector<Bytes> forged;
    for (int i = 0; i < 10'001; ++i) forged.push_back(seal(mallory, pt));
    REQUIRE(forged.back()[1] == 1);  // the last one in the next epoch
    Bytes genuine = seal(p.a, pt);
    for (size_t i : {size_t(0), size_t(1), size_t(9999), size_t(10'000)}) {
      CAPTURE(i);
      Result r = open(p.b, forged[i]);
      CHECK(r == Result::kAuthFailed);
    }
    // Counter 0 is still fresh and inside the window: nothing was recorded or advanced.
    open_ok(p.b, genuine, pt);
    CHECK(open(p.b, forged[5]) == Result::kAuthFailed);
    // A cipher mismatch is just another wrong key.
    if (c == DataCipher::kAes256Gcm) {
      DataSession chacha(DataCipher::kChaCha20Poly1305, kAtoB, kBtoA, kIdOfB, 0, l);
      seal(chacha, pt);
      Bytes other = seal(chacha, pt);
      CHECK(open(p.b, other) == Result::kAuthFailed);
      open_ok(p.b, seal(p.a, pt), pt);
    }
    // The other direction's key does not open either (keys are per direction).
    Bytes reflected = seal(p.a, pt);
    CHECK(open(p.a, reflected) == Result::kAuthFailed);
  }
}

TEST_CASE("--no-encryption: datagrams carry the batch in clear, and the modes never mix") {
  Pair plain(DataCipher::kNone);
  Bytes msg = payload(300, 7), d, out;
  plain.a.seal(msg, d, 0);
  // Not sealed: the header (type 2) and then the batch itself, no tag.
  REQUIRE(d.size() == kDataHeaderLen + msg.size());
  CHECK(d[0] == weft::kDatagramPlain);
  CHECK(std::equal(msg.begin(), msg.end(), d.begin() + kDataHeaderLen));
  CHECK(plain.b.open(d, out, 0) == Result::kOk);
  CHECK(out == msg);
  CHECK(plain.b.open(d, out, 0) == Result::kReplay);  // duplicates still dropped
  CHECK(std::string(weft::cipher_name(DataCipher::kNone)).find("none") == 0);

  // An encrypting receiver refuses a plain datagram and a plain receiver a sealed one.
  Pair sealed;
  Bytes s;
  sealed.a.seal(msg, s, 0);
  Bytes p2;
  plain.a.seal(msg, p2, 0);
  CHECK(sealed.b.open(p2, out, 0) == Result::kMalformed);
  CHECK(plain.b.open(s, out, 0) == Result::kMalformed);
  CHECK(out.empty());
}
