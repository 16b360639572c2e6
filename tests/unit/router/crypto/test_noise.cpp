// Noise building blocks (router/crypto/noise.h) against published test vectors: RFC 4231 for
// HMAC-SHA256, RFC 5869 for the HKDF construction, and the cacophony vectors for
// Noise_NN_25519_ChaChaPoly_SHA256 and Noise_NNpsk0_25519_ChaChaPoly_SHA256 (the pattern the
// control channel uses), replayed through SymmetricState/CipherState with the vectors' ephemerals.
#include <doctest/doctest.h>
#include <sodium.h>

#include <string>

#include "common/bytes.h"
#include "router/crypto/noise.h"

using weft::Bytes;
using weft::ByteView;
using namespace weft::noise;

namespace {

Bytes unhex(std::string_view s) {
  Bytes b;
  REQUIRE(weft::from_hex(s, b));
  return b;
}

std::string hex(ByteView b) {
  return weft::to_hex(b);
}

template <size_t N>
std::string hex(const std::array<uint8_t, N>& a) {
  return weft::to_hex(ByteView(a.data(), a.size()));
}

Key key_from_hex(std::string_view s) {
  Bytes b = unhex(s);
  REQUIRE(b.size() == kKeyLen);
  Key k;
  std::copy(b.begin(), b.end(), k.begin());
  return k;
}

Key test_key(uint8_t seed) {
  Key k;
  for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<uint8_t>(seed + i);
  return k;
}

void init_sodium() {
  REQUIRE(sodium_init() >= 0);
}

}  // namespace

TEST_CASE("sha256 matches FIPS 180-2 and hashes its two inputs as one") {
  CHECK(hex(sha256(weft::as_bytes("abc"))) ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(sha256(weft::as_bytes("ab"), weft::as_bytes("c")) == sha256(weft::as_bytes("abc")));
  CHECK(sha256({}, weft::as_bytes("abc")) == sha256(weft::as_bytes("abc")));
}

TEST_CASE("hmac_sha256 matches RFC 4231") {
  SUBCASE("test case 1") {
    Bytes key(20, 0x0b);
    CHECK(hex(hmac_sha256(key, weft::as_bytes("Hi There"))) ==
          "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  }
  SUBCASE("test case 2: key shorter than the output") {
    CHECK(
        hex(hmac_sha256(weft::as_bytes("Jefe"), weft::as_bytes("what do ya want for nothing?"))) ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  }
  SUBCASE("test case 3") {
    Bytes key(20, 0xaa), data(50, 0xdd);
    CHECK(hex(hmac_sha256(key, data)) ==
          "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
  }
  SUBCASE("test case 4") {
    Bytes key;
    for (uint8_t i = 1; i <= 25; ++i) key.push_back(i);
    Bytes data(50, 0xcd);
    CHECK(hex(hmac_sha256(key, data)) ==
          "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
  }
  SUBCASE("test case 6: key longer than a block") {
    Bytes key(131, 0xaa);
    CHECK(hex(hmac_sha256(
              key, weft::as_bytes("Test Using Larger Than Block-Size Key - Hash Key First"))) ==
          "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  }
  SUBCASE("test case 7: key and data longer than a block") {
    Bytes key(131, 0xaa);
    CHECK(hex(hmac_sha256(key, weft::as_bytes("This is a test using a larger than block-size key "
                                              "and a larger than block-size data. The key needs "
                                              "to be hashed before being used by the HMAC "
                                              "algorithm."))) ==
          "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
  }
}

TEST_CASE("hkdf is RFC 5869 HKDF-SHA256 with the chaining key as salt and empty info") {
  // RFC 5869 test case 3 (salt and info empty). An empty HMAC key equals 32 zero bytes, which is
  // what a zero chaining key is. OKM (42 bytes) = out1 || out2[0..10).
  Hash ck{};
  Bytes ikm(22, 0x0b);
  Hash out1, out2, out3;
  hkdf(ck, ikm, out1, out2, &out3);
  std::string okm = hex(out1) + hex(out2);
  CHECK(okm.substr(0, 84) ==
        "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");

  // Three outputs with a non-zero chaining key (computed with Python's hmac module, RFC 5869
  // expand with T(1) = HMAC(prk, 0x01), T(n) = HMAC(prk, T(n-1) || n)).
  for (size_t i = 0; i < ck.size(); ++i) ck[i] = static_cast<uint8_t>(i);
  hkdf(ck, weft::as_bytes("weft"), out1, out2, &out3);
  CHECK(hex(out1) == "9458a990fd7a71724c3fa20756893ebaa96865d95c438bfff90533dd916cb4e9");
  CHECK(hex(out2) == "663add40d3f58116ea5215f3710a5a8d24252c6bbbbf5ffb24a0b2d4f7b66d53");
  CHECK(hex(out3) == "b44f30ed7937aa76470d151e2d37a411bdde70909a1c4406f6f658708421568d");
  // Two outputs are the first two of three.
  Hash two1, two2;
  hkdf(ck, weft::as_bytes("weft"), two1, two2);
  CHECK(two1 == out1);
  CHECK(two2 == out2);
  // The output may alias the chaining key (SymmetricState::mix_key does this).
  Hash aliased = ck;
  hkdf(aliased, weft::as_bytes("weft"), aliased, two2);
  CHECK(aliased == out1);
}

TEST_CASE("CipherState round trip; the nonce advances once per message on both sides") {
  init_sodium();
  Key k = test_key(7);
  CipherState enc(k), dec(k);
  CHECK(enc.has_key());
  CHECK(enc.nonce() == 0);
  Bytes ad = {1, 2, 3};
  std::vector<Bytes> cts;
  for (int i = 0; i < 5; ++i) {
    Bytes pt(static_cast<size_t>(i * 10), static_cast<uint8_t>(i));
    Bytes ct;
    enc.encrypt(ad, pt, ct);
    CHECK(ct.size() == pt.size() + kTagLen);
    CHECK(enc.nonce() == static_cast<uint64_t>(i + 1));
    Bytes back;
    REQUIRE(dec.decrypt(ad, ct, back));
    CHECK(back == pt);
    CHECK(dec.nonce() == static_cast<uint64_t>(i + 1));
    cts.push_back(ct);
  }
  // The same plaintext under successive nonces gives different ciphertexts.
  Bytes a, b;
  Bytes same(32, 0x55);
  enc.encrypt({}, same, a);
  enc.encrypt({}, same, b);
  CHECK(a != b);
  // encrypt/decrypt append to the output buffer.
  Bytes out = {9, 9};
  CipherState e2(k), d2(k);
  e2.encrypt({}, weft::as_bytes("abc"), out);
  CHECK(out.size() == 2 + 3 + kTagLen);
  CHECK(out[0] == 9);
  Bytes plain = {7};
  REQUIRE(d2.decrypt({}, ByteView(out).subspan(2), plain));
  CHECK(plain == Bytes{7, 'a', 'b', 'c'});
}

TEST_CASE("CipherState rejects tampering and leaves the nonce unchanged") {
  init_sodium();
  Key k = test_key(1);
  CipherState enc(k);
  Bytes ad = weft::Bytes{'h', 'd', 'r'};
  Bytes pt(40, 0x42);
  Bytes ct;
  enc.encrypt(ad, pt, ct);

  for (size_t i = 0; i < ct.size(); ++i) {
    for (int bit : {0, 7}) {
      CAPTURE(i);
      CipherState dec(k);
      Bytes bad = ct;
      bad[i] ^= static_cast<uint8_t>(1 << bit);
      Bytes out = {0xee};
      CHECK_FALSE(dec.decrypt(ad, bad, out));
      CHECK(out == Bytes{0xee});  // nothing appended on failure
      CHECK(dec.nonce() == 0);
      // The genuine message still opens afterwards: the failure consumed no nonce.
      Bytes good;
      CHECK(dec.decrypt(ad, ct, good));
      CHECK(good == pt);
      CHECK(dec.nonce() == 1);
    }
  }
  SUBCASE("wrong associated data") {
    CipherState dec(k);
    Bytes out;
    CHECK_FALSE(dec.decrypt(weft::as_bytes("hdR"), ct, out));
    CHECK(dec.nonce() == 0);
  }
  SUBCASE("wrong key") {
    CipherState dec(test_key(2));
    Bytes out;
    CHECK_FALSE(dec.decrypt(ad, ct, out));
  }
  SUBCASE("shorter than a tag") {
    CipherState dec(k);
    Bytes out;
    CHECK_FALSE(dec.decrypt(ad, ByteView(ct).first(kTagLen - 1), out));
    CHECK_FALSE(dec.decrypt(ad, {}, out));
    CHECK(dec.nonce() == 0);
  }
  SUBCASE("truncated or extended") {
    CipherState dec(k);
    Bytes out;
    CHECK_FALSE(dec.decrypt(ad, ByteView(ct).first(ct.size() - 1), out));
    Bytes longer = ct;
    longer.push_back(0);
    CHECK_FALSE(dec.decrypt(ad, longer, out));
  }
  SUBCASE("replayed or reordered") {
    Bytes ct2;
    enc.encrypt(ad, pt, ct2);
    CipherState dec(k);
    Bytes out;
    CHECK_FALSE(dec.decrypt(ad, ct2, out));  // skipping ahead fails
    REQUIRE(dec.decrypt(ad, ct, out));
    CHECK_FALSE(dec.decrypt(ad, ct, out));  // a replay of the first fails
    CHECK(dec.decrypt(ad, ct2, out));
  }
}

TEST_CASE("CipherState without a key passes data through; set_key restarts the nonce") {
  init_sodium();
  CipherState cs;
  CHECK_FALSE(cs.has_key());
  Bytes out;
  cs.encrypt({}, weft::as_bytes("plain"), out);
  CHECK(out == Bytes{'p', 'l', 'a', 'i', 'n'});
  Bytes back;
  CHECK(cs.decrypt({}, out, back));
  CHECK(back == out);
  CHECK(cs.nonce() == 0);

  cs.set_key(test_key(3));
  Bytes ct;
  cs.encrypt({}, weft::as_bytes("x"), ct);
  cs.encrypt({}, weft::as_bytes("x"), ct);
  CHECK(cs.nonce() == 2);
  cs.set_key(test_key(3));
  CHECK(cs.nonce() == 0);
}

TEST_CASE("CipherState move transfers the key and leaves the source keyless") {
  init_sodium();
  CipherState a(test_key(5));
  Bytes ct;
  a.encrypt({}, weft::as_bytes("m1"), ct);
  CipherState b(std::move(a));
  CHECK(b.has_key());
  CHECK(b.nonce() == 1);
  CHECK_FALSE(a.has_key());  // NOLINT(bugprone-use-after-move): documented moved-from state
  CipherState c;
  c = std::move(b);
  CHECK(c.has_key());
  CHECK(c.nonce() == 1);
  CipherState d(test_key(5));
  Bytes out;
  REQUIRE(d.decrypt({}, ct, out));
  Bytes ct2;
  c.encrypt({}, weft::as_bytes("m2"), ct2);
  CHECK(d.decrypt({}, ct2, out));
}

TEST_CASE("SymmetricState: both sides derive the same split and export keys from the same inputs") {
  init_sodium();
  const char* name = "Noise_NNpsk0_25519_ChaChaPoly_SHA256";
  Key psk = test_key(9);
  SymmetricState a(name), b(name);
  for (SymmetricState* s : {&a, &b}) {
    s->mix_hash(weft::as_bytes("prologue"));
    s->mix_key_and_hash(psk);
  }
  Bytes msg;
  a.encrypt_and_hash(weft::as_bytes("hello"), msg);
  Bytes got;
  REQUIRE(b.decrypt_and_hash(msg, got));
  CHECK(got == Bytes{'h', 'e', 'l', 'l', 'o'});
  a.mix_key(weft::as_bytes("shared secret"));
  b.mix_key(weft::as_bytes("shared secret"));
  CHECK(a.handshake_hash() == b.handshake_hash());
  auto [a1, a2] = a.split();
  auto [b1, b2] = b.split();
  CHECK(a1 == b1);
  CHECK(a2 == b2);
  CHECK(a1 != a2);
  CHECK(a.export_key("x") == b.export_key("x"));
  CHECK(a.export_key("x") != a.export_key("y"));
  CHECK(a.export_key("x") != a1);
  CHECK(a.export_key("x") != a2);

  SUBCASE("a different input anywhere gives different keys") {
    SymmetricState c(name);
    c.mix_hash(weft::as_bytes("prologue"));
    c.mix_key_and_hash(psk);
    Bytes m2;
    c.encrypt_and_hash(weft::as_bytes("hello"), m2);
    c.mix_key(weft::as_bytes("shared secreT"));
    CHECK(c.split().first != a1);
  }
  SUBCASE("a tampered handshake message does not decrypt") {
    SymmetricState c(name), d(name);
    c.mix_key_and_hash(psk);
    d.mix_key_and_hash(psk);
    Bytes m;
    c.encrypt_and_hash(weft::as_bytes("hello"), m);
    m[0] ^= 1;
    Bytes out;
    CHECK_FALSE(d.decrypt_and_hash(m, out));
  }
  SUBCASE("a different prologue changes the handshake hash") {
    SymmetricState c(name), d(name);
    c.mix_hash(weft::as_bytes("prologue"));
    d.mix_hash(weft::as_bytes("prologuE"));
    CHECK(c.handshake_hash() != d.handshake_hash());
  }
}

namespace {

// One cacophony vector for an NN-family pattern with ChaChaPoly/SHA256 over 25519.
struct NnVector {
  const char* protocol;
  bool psk0;
  // This vector file's "handshake_hash" field holds h as it stands after the first handshake
  // message (both sides), not the final h; it is checked at that point.
  const char* h_after_first_message;
  const char* ciphertexts[6];
};

constexpr const char* kPrologue = "4a6f686e2047616c74";  // "John Galt"
constexpr const char* kPsk = "54686973206973206d7920417573747269616e20706572737065637469766521";
constexpr const char* kInitEphemeral =
    "893e28b9dc6ca8d611ab664754b8ceb7bac5117349a4439a6b0569da977c464a";
constexpr const char* kRespEphemeral =
    "bbdb4cdbd309f1a1f2e1456967fe288cadd6f712d65dc7b7793d5e63da6b375b";
constexpr const char* kPayloads[6] = {
    "4c756477696720766f6e204d69736573",
    "4d757272617920526f746862617264",
    "462e20412e20486179656b",
    "4361726c204d656e676572",
    "4a65616e2d426170746973746520536179",
    "457567656e2042f6686d20766f6e2042617765726b",
};

void run_vector(const NnVector& v) {
  init_sodium();
  CAPTURE(v.protocol);
  Bytes prologue = unhex(kPrologue);
  Key psk = key_from_hex(kPsk);
  Key ei = key_from_hex(kInitEphemeral), er = key_from_hex(kRespEphemeral);
  uint8_t ei_pub[32], er_pub[32];
  REQUIRE(crypto_scalarmult_base(ei_pub, ei.data()) == 0);
  REQUIRE(crypto_scalarmult_base(er_pub, er.data()) == 0);

  SymmetricState init(v.protocol), resp(v.protocol);
  init.mix_hash(prologue);
  resp.mix_hash(prologue);

  // -> [psk], e, payload
  Bytes m0(ei_pub, ei_pub + 32);
  if (v.psk0) init.mix_key_and_hash(psk);
  init.mix_hash(ByteView(ei_pub, 32));
  if (v.psk0) init.mix_key(ByteView(ei_pub, 32));
  init.encrypt_and_hash(unhex(kPayloads[0]), m0);
  CHECK(hex(m0) == v.ciphertexts[0]);

  if (v.psk0) resp.mix_key_and_hash(psk);
  ByteView re(m0.data(), 32);
  resp.mix_hash(re);
  if (v.psk0) resp.mix_key(re);
  Bytes p0;
  REQUIRE(resp.decrypt_and_hash(ByteView(m0).subspan(32), p0));
  CHECK(hex(p0) == kPayloads[0]);
  CHECK(hex(init.handshake_hash()) == v.h_after_first_message);
  CHECK(hex(resp.handshake_hash()) == v.h_after_first_message);

  // <- e, ee, payload
  Bytes m1(er_pub, er_pub + 32);
  resp.mix_hash(ByteView(er_pub, 32));
  if (v.psk0) resp.mix_key(ByteView(er_pub, 32));
  uint8_t dh[32];
  REQUIRE(crypto_scalarmult(dh, er.data(), re.data()) == 0);
  resp.mix_key(ByteView(dh, 32));
  resp.encrypt_and_hash(unhex(kPayloads[1]), m1);
  CHECK(hex(m1) == v.ciphertexts[1]);

  ByteView re2(m1.data(), 32);
  init.mix_hash(re2);
  if (v.psk0) init.mix_key(re2);
  REQUIRE(crypto_scalarmult(dh, ei.data(), re2.data()) == 0);
  init.mix_key(ByteView(dh, 32));
  Bytes p1;
  REQUIRE(init.decrypt_and_hash(ByteView(m1).subspan(32), p1));
  CHECK(hex(p1) == kPayloads[1]);

  CHECK(init.handshake_hash() == resp.handshake_hash());

  // Transport: the initiator sends with the first key, the responder with the second; the
  // vectors alternate senders, starting with the initiator.
  auto [i1, i2] = init.split();
  auto [r1, r2] = resp.split();
  CHECK(i1 == r1);
  CHECK(i2 == r2);
  CipherState i_send(i1), i_recv(i2), r_send(r2), r_recv(r1);
  for (int n = 2; n < 6; ++n) {
    CAPTURE(n);
    bool from_initiator = n % 2 == 0;
    CipherState& send = from_initiator ? i_send : r_send;
    CipherState& recv = from_initiator ? r_recv : i_recv;
    Bytes ct;
    send.encrypt({}, unhex(kPayloads[n]), ct);
    CHECK(hex(ct) == v.ciphertexts[n]);
    Bytes pt;
    REQUIRE(recv.decrypt({}, ct, pt));
    CHECK(hex(pt) == kPayloads[n]);
  }
}

}  // namespace

TEST_CASE("Noise_NN_25519_ChaChaPoly_SHA256 cacophony vector") {
  // A 32-byte protocol name: used as the initial hash directly, zero-padded.
  run_vector({"Noise_NN_25519_ChaChaPoly_SHA256",
              false,
              "443165f72d404a81932d277075e873dfac74456aa1f866ee3781f42de3675cce",
              {"ca35def5ae56cec33dc2036731ab14896bc4c75dbb07a61f879f8e3afa4c79444c756477696720766f"
               "6e204d69736573",
               "95ebc60d2b1fa672c1f46a8aa265ef51bfe38e7ccb39ec5be34069f144808843a0ff96bdf86b579ef7"
               "dbf94e812a7470b903c20a85a87e3a1fe863264ae547",
               "eb1a3e3d80c1792b1bb9cb0e1382f8d8322bfb1ca7c4c8517bb686",
               "c781b198d2a974eb1da2c7d518c000cf6396de87ca540963c03713",
               "c77048eb6919fdfe8fe45842bfc5b8d1ff50d1e20c717453ccdfe6176d805b996d",
               "61834d7069dcfb7a1adf8d5ac910f83fa04c73a67789895c6f5f995c5db2ce88e49b124178"}});
}

TEST_CASE("Noise_NNpsk0_25519_ChaChaPoly_SHA256 cacophony vector") {
  // A 36-byte protocol name: hashed to form the initial hash.
  run_vector({"Noise_NNpsk0_25519_ChaChaPoly_SHA256",
              true,
              "054a32eaeedc4061a64cec028e34e5775d4de033e32525a5dfbd719056bae0b6",
              {"ca35def5ae56cec33dc2036731ab14896bc4c75dbb07a61f879f8e3afa4c794479b962b8aff8485742"
               "ac32f905ba45369e2465fb59e138a93d67a0d1266b6a54",
               "95ebc60d2b1fa672c1f46a8aa265ef51bfe38e7ccb39ec5be34069f144808843d6062704d5a9c422a8"
               "e834423f8c1feada7e8d0d910a1a2cd030fb584221e3",
               "e632c3763d7669067383433197a3baddf146e9e70ad4b4e9e59e0f",
               "64c6bee32ea91c8474bb4c21d7a700109ad45af77b29764ba5eb1e",
               "e2fa0bed0603b62d3ccac2ecabbf3fe33f3e86514909b323361626266cb2471cc8",
               "0c01dc9cec1fe4ddd692e8dd32188aa351088dc91183639a53b57aa4692b5ebdef8b8ca111"}});
}
