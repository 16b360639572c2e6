// The control channel core (router/crypto/control_channel.h): two channels, an initiator and a
// responder, wired back to back in memory. Covers the handshake outcomes users see (established,
// wrong secret, --no-encryption on one side, version mismatch, not a weft peer), tampering with
// any handshake or transport byte, replay of a recorded handshake, arbitrary chunking, and the
// data-plane keys the handshake exports.
#include <doctest/doctest.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "router/crypto/control_channel.h"

using weft::Bytes;
using weft::ByteView;
using weft::ChannelFailure;
using weft::ControlChannel;
using weft::PeerHello;
using State = weft::ControlChannel::State;

namespace {

const PeerHello kHelloA{0x0a0000000001ull, "alpha", 11, 6783};
const PeerHello kHelloB{0x0b0000000002ull, "bravo", 22, 6784};

weft::noise::Key psk_of(uint8_t v) {
  weft::noise::Key k;
  k.fill(v);
  return k;
}

ControlChannel::Config config(bool initiator, uint8_t psk = 1, bool encrypted = true) {
  ControlChannel::Config c;
  c.initiator = initiator;
  c.encrypted = encrypted;
  c.psk = psk_of(psk);
  c.local = initiator ? kHelloA : kHelloB;
  return c;
}

Bytes text(std::string_view s) {
  return Bytes(s.begin(), s.end());
}

bool contains(const Bytes& hay, std::string_view needle) {
  return std::search(hay.begin(), hay.end(), needle.begin(), needle.end()) != hay.end();
}

// Flips `mask` in the byte at `pos` of everything one side writes (dir 0: initiator->responder).
struct Flip {
  int dir;
  size_t pos;
  uint8_t mask;
};

struct Link {
  std::unique_ptr<ControlChannel> i, r;
  Bytes wire[2];  // everything each side wrote, as sent (after any flip)
  size_t chunk = SIZE_MAX;
  std::optional<Flip> flip;

  Link(ControlChannel::Config ci, ControlChannel::Config cr)
      : i(std::make_unique<ControlChannel>(std::move(ci))),
        r(std::make_unique<ControlChannel>(std::move(cr))) {}

  // Moves bytes both ways until neither side has anything more to say.
  void pump() {
    for (int round = 0; round < 1000; ++round) {
      bool moved = false;
      for (int d = 0; d < 2; ++d) {
        ControlChannel& from = d == 0 ? *i : *r;
        ControlChannel& to = d == 0 ? *r : *i;
        Bytes out = from.take_output();
        if (out.empty()) continue;
        moved = true;
        size_t base = wire[d].size();
        if (flip && flip->dir == d && flip->pos >= base && flip->pos < base + out.size())
          out[flip->pos - base] ^= flip->mask;
        wire[d].insert(wire[d].end(), out.begin(), out.end());
        for (size_t k = 0; k < out.size(); k += chunk)
          to.receive(ByteView(out).subspan(k, std::min(chunk, out.size() - k)));
      }
      if (!moved) return;
    }
    FAIL("the channels kept talking");
  }
};

std::vector<Bytes> drain(ControlChannel& c) {
  std::vector<Bytes> v;
  while (auto m = c.pop_message()) v.push_back(std::move(*m));
  return v;
}

void check_established(const Link& l) {
  REQUIRE(l.i->established());
  REQUIRE(l.r->established());
  CHECK(l.i->state() == State::kEstablished);
  CHECK(l.i->failure() == ChannelFailure::kNone);
  CHECK(l.r->failure() == ChannelFailure::kNone);
  REQUIRE(l.i->remote().has_value());
  REQUIRE(l.r->remote().has_value());
  CHECK(*l.i->remote() == kHelloB);
  CHECK(*l.r->remote() == kHelloA);
  CHECK(l.i->version() == weft::kProtocolVersionMax);
  CHECK(l.r->version() == weft::kProtocolVersionMax);
}

Bytes random_bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  Bytes b(n);
  for (auto& x : b) x = static_cast<uint8_t>(rng());
  return b;
}

}  // namespace

TEST_CASE("same cluster secret: both sides establish and learn each other's hello") {
  Link l(config(true), config(false));
  CHECK(l.i->state() == State::kPreamble);
  CHECK(l.i->has_output());  // the preamble goes out at once
  l.pump();
  check_established(l);
  CHECK(l.i->bytes_sent() == l.r->bytes_received());
  CHECK(l.r->bytes_sent() == l.i->bytes_received());
  CHECK(l.i->bytes_sent() == l.wire[0].size());
}

TEST_CASE("messages flow both ways, in order, including empty and 1 MiB messages") {
  Link l(config(true), config(false));
  l.pump();
  check_established(l);

  SUBCASE("a few messages") {
    l.i->send(text("ping"));
    l.r->send(text("pong"));
    l.i->send({});
    l.pump();
    CHECK(drain(*l.r) == std::vector<Bytes>{text("ping"), Bytes{}});
    CHECK(drain(*l.i) == std::vector<Bytes>{text("pong")});
    CHECK_FALSE(l.i->pop_message().has_value());
  }
  SUBCASE("1 MiB each way, the largest allowed") {
    Bytes big1 = random_bytes(weft::kMaxControlMessage, 1);
    Bytes big2 = random_bytes(weft::kMaxControlMessage, 2);
    l.i->send(big1);
    l.r->send(big2);
    l.pump();
    auto got_r = drain(*l.r);
    auto got_i = drain(*l.i);
    REQUIRE(got_r.size() == 1);
    REQUIRE(got_i.size() == 1);
    CHECK(got_r[0] == big1);
    CHECK(got_i[0] == big2);
    CHECK(l.i->established());
    CHECK(l.r->established());
  }
  SUBCASE("larger than 1 MiB is refused at the sender") {
    CHECK_THROWS_AS(l.i->send(Bytes(weft::kMaxControlMessage + 1)), std::length_error);
  }
  SUBCASE("many small messages, interleaved") {
    std::vector<Bytes> to_r, to_i;
    for (int n = 0; n < 1000; ++n) {
      Bytes m = random_bytes(static_cast<size_t>(n % 97), static_cast<uint32_t>(n));
      if (n % 3 == 0) {
        l.r->send(m);
        to_i.push_back(m);
      } else {
        l.i->send(m);
        to_r.push_back(m);
      }
      if (n % 50 == 0) l.pump();
    }
    l.pump();
    CHECK(drain(*l.r) == to_r);
    CHECK(drain(*l.i) == to_i);
  }
}

TEST_CASE("data-plane keys match crosswise and differ per direction and per session") {
  Link l(config(true), config(false));
  l.pump();
  check_established(l);
  weft::noise::Key zero{};
  CHECK(l.i->dataplane_send_key() == l.r->dataplane_recv_key());
  CHECK(l.i->dataplane_recv_key() == l.r->dataplane_send_key());
  CHECK(l.i->dataplane_send_key() != l.i->dataplane_recv_key());
  CHECK(l.i->dataplane_send_key() != zero);
  CHECK(l.i->dataplane_recv_key() != zero);

  // Fresh ephemeral keys every time: the same secret never gives the same session keys.
  Link l2(config(true), config(false));
  l2.pump();
  check_established(l2);
  CHECK(l2.i->dataplane_send_key() != l.i->dataplane_send_key());
  CHECK(l2.i->dataplane_recv_key() != l.i->dataplane_recv_key());
}

TEST_CASE("different cluster secrets: both sides fail with kAuthentication") {
  Link l(config(true, 1), config(false, 2));
  l.pump();
  CHECK(l.r->failed());
  CHECK(l.r->failure() == ChannelFailure::kAuthentication);
  // The initiator learns it from the responder's reject frame.
  CHECK(l.i->failed());
  CHECK(l.i->failure() == ChannelFailure::kAuthentication);
  CHECK(l.i->failure_detail().find("refused") != std::string::npos);
  CHECK_FALSE(l.i->remote().has_value());
  CHECK_FALSE(l.r->remote().has_value());
  CHECK_THROWS_AS(l.i->send(text("x")), std::logic_error);
  // The responder never saw the hello in clear, and no nickname crossed the wire in clear.
  CHECK_FALSE(contains(l.wire[0], "alpha"));
}

TEST_CASE("encryption on one side only: both sides fail with kEncryptionMismatch") {
  for (bool initiator_encrypts : {true, false}) {
    CAPTURE(initiator_encrypts);
    Link l(config(true, 1, initiator_encrypts), config(false, 1, !initiator_encrypts));
    l.pump();
    CHECK(l.i->failure() == ChannelFailure::kEncryptionMismatch);
    CHECK(l.r->failure() == ChannelFailure::kEncryptionMismatch);
    CHECK_FALSE(l.i->failure_detail().empty());
    // Neither hello leaked: the mismatch is caught on the preambles.
    CHECK_FALSE(contains(l.wire[0], "alpha"));
    CHECK_FALSE(contains(l.wire[1], "bravo"));
  }
}

TEST_CASE("protocol versions: the highest common one is used; none in common fails both sides") {
  SUBCASE("overlap") {
    auto ci = config(true), cr = config(false);
    ci.version_min = 1;
    ci.version_max = 3;
    cr.version_min = 2;
    cr.version_max = 5;
    Link l(ci, cr);
    l.pump();
    REQUIRE(l.i->established());
    REQUIRE(l.r->established());
    CHECK(l.i->version() == 3);
    CHECK(l.r->version() == 3);
  }
  SUBCASE("disjoint") {
    auto ci = config(true), cr = config(false);
    ci.version_min = 2;
    ci.version_max = 3;
    Link l(ci, cr);
    l.pump();
    CHECK(l.i->failure() == ChannelFailure::kVersionMismatch);
    CHECK(l.r->failure() == ChannelFailure::kVersionMismatch);
    CHECK(l.i->failure_detail().find("version") != std::string::npos);
  }
}

TEST_CASE("a peer that does not speak weft fails with kNotWeft, early") {
  for (bool initiator : {true, false}) {
    CAPTURE(initiator);
    for (const char* garbage : {"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "SSH-2.0-OpenSSH_9.2\r\n",
                                "WEFT\x01\x01\x01", "x"}) {
      CAPTURE(garbage);
      ControlChannel c(config(initiator));
      c.take_output();
      c.receive(weft::as_bytes(garbage));
      CHECK(c.failed());
      CHECK(c.failure() == ChannelFailure::kNotWeft);
      CHECK_FALSE(c.has_output());  // nothing more is said to a stranger
    }
    // A correct prefix just waits for more.
    ControlChannel c(config(initiator));
    c.receive(weft::as_bytes("wef"));
    CHECK(c.state() == State::kPreamble);
    CHECK_FALSE(c.failed());
  }
}

TEST_CASE("a flipped bit anywhere in the handshake never yields a session with wrong data") {
  // Record a clean handshake to learn each direction's length and frame layout.
  Link clean(config(true), config(false));
  clean.pump();
  check_established(clean);
  for (int dir = 0; dir < 2; ++dir) {
    const Bytes& w = clean.wire[dir];
    // preamble(7) | kind(1) len(2) noise payload | transport len(4) confirmation(16)
    REQUIRE(w.size() > 10);
    size_t noise_len = size_t(w[8]) << 8 | w[9];
    size_t confirm_at = 10 + noise_len;
    REQUIRE(w.size() == confirm_at + 4 + weft::noise::kTagLen);
    auto is_length_byte = [&](size_t p) {
      return p == 8 || p == 9 || (p >= confirm_at && p < confirm_at + 4);
    };
    for (size_t pos = 0; pos < w.size(); ++pos) {
      for (int bit = 0; bit < 8; ++bit) {
        CAPTURE(dir);
        CAPTURE(pos);
        CAPTURE(bit);
        Link l(config(true), config(false));
        l.flip = Flip{dir, pos, static_cast<uint8_t>(1 << bit)};
        l.pump();
        ControlChannel& receiver = dir == 0 ? *l.r : *l.i;
        // The side that got tampered bytes never counts the session as established...
        CHECK_FALSE(receiver.established());
        // ...and notices, unless the flip made a length prefix larger (it is still waiting).
        if (!receiver.failed()) CHECK(is_length_byte(pos));
        CHECK_FALSE((l.i->established() && l.r->established()));
        // A side that did establish (its own confirmation was what got tampered) has the right
        // peer.
        if (l.i->established()) CHECK(*l.i->remote() == kHelloB);
        if (l.r->established()) CHECK(*l.r->remote() == kHelloA);
        CHECK_FALSE(l.i->pop_message().has_value());
        CHECK_FALSE(l.r->pop_message().has_value());
      }
    }
  }
}

TEST_CASE("a flipped bit in a transport frame fails the channel and delivers nothing") {
  const Bytes msg = text("hello world");
  for (int dir = 0; dir < 2; ++dir) {
    // frame = u32 length | ciphertext | tag
    size_t frame_len = 4 + msg.size() + weft::noise::kTagLen;
    for (size_t pos = 0; pos < frame_len; ++pos) {
      for (int bit = 0; bit < 8; ++bit) {
        CAPTURE(dir);
        CAPTURE(pos);
        CAPTURE(bit);
        Link l(config(true), config(false));
        l.pump();
        REQUIRE(l.i->established());
        REQUIRE(l.r->established());
        ControlChannel& sender = dir == 0 ? *l.i : *l.r;
        ControlChannel& receiver = dir == 0 ? *l.r : *l.i;
        sender.send(msg);
        Bytes frame = sender.take_output();
        REQUIRE(frame.size() == frame_len);
        frame[pos] ^= static_cast<uint8_t>(1 << bit);
        receiver.receive(frame);
        CHECK_FALSE(receiver.pop_message().has_value());
        if (!receiver.failed()) CHECK(pos < 4);  // a longer length prefix: still waiting
        if (receiver.failed()) {
          // Failure is final: the genuine frame arriving afterwards changes nothing.
          sender.send(msg);
          receiver.receive(sender.take_output());
          CHECK_FALSE(receiver.pop_message().has_value());
        }
      }
    }
  }
}

TEST_CASE("bytes fed one at a time, or in random chunks, work") {
  for (size_t chunk : {size_t(1), size_t(2), size_t(3), size_t(7), size_t(64)}) {
    CAPTURE(chunk);
    Link l(config(true), config(false));
    l.chunk = chunk;
    l.pump();
    check_established(l);
    l.i->send(text("one"));
    l.i->send(Bytes(300, 0x5a));
    l.r->send(text("two"));
    l.pump();
    CHECK(drain(*l.r) == std::vector<Bytes>{text("one"), Bytes(300, 0x5a)});
    CHECK(drain(*l.i) == std::vector<Bytes>{text("two")});
  }
  // Random split points over a whole recorded stream, replayed into a responder that receives
  // it in pieces (the initiator side is pumped normally).
  std::mt19937 rng(7);
  for (int trial = 0; trial < 20; ++trial) {
    CAPTURE(trial);
    ControlChannel i(config(true)), r(config(false));
    for (int round = 0; round < 10; ++round) {
      Bytes a = i.take_output();
      for (size_t k = 0; k < a.size();) {
        size_t n = std::min(a.size() - k, size_t(rng() % 40));
        r.receive(ByteView(a).subspan(k, n));  // includes empty reads
        k += n;
      }
      Bytes b = r.take_output();
      for (size_t k = 0; k < b.size();) {
        size_t n = std::min(b.size() - k, size_t(1 + rng() % 40));
        i.receive(ByteView(b).subspan(k, n));
        k += n;
      }
      if (i.established() && round == 5) i.send(text("chunked"));
    }
    REQUIRE(i.established());
    REQUIRE(r.established());
    CHECK(drain(r) == std::vector<Bytes>{text("chunked")});
  }
}

TEST_CASE("unencrypted mode (--no-encryption on both sides) works both ways") {
  Link l(config(true, 1, false), config(false, 2, false));  // the secret plays no part
  l.pump();
  check_established(l);
  l.i->send(text("to responder"));
  l.r->send(text("to initiator"));
  l.pump();
  CHECK(drain(*l.r) == std::vector<Bytes>{text("to responder")});
  CHECK(drain(*l.i) == std::vector<Bytes>{text("to initiator")});
  // What --no-encryption means on the wire: the hello and messages travel in clear.
  CHECK(contains(l.wire[0], "alpha"));
  CHECK(contains(l.wire[0], "to responder"));
}

TEST_CASE("encrypted mode puts neither hellos nor messages on the wire in clear") {
  Link l(config(true), config(false));
  l.pump();
  l.i->send(text("a secret control message"));
  l.r->send(text("another secret"));
  l.pump();
  CHECK_FALSE(contains(l.wire[0], "alpha"));
  CHECK_FALSE(contains(l.wire[1], "bravo"));
  CHECK_FALSE(contains(l.wire[0], "a secret control message"));
  CHECK_FALSE(contains(l.wire[1], "another secret"));
  CHECK(drain(*l.r) == std::vector<Bytes>{text("a secret control message")});
}

TEST_CASE("a replayed handshake does not establish a session on a fresh responder") {
  // Session 1, recorded by an eavesdropper.
  Link l(config(true), config(false));
  l.pump();
  check_established(l);
  l.i->send(text("rotate keys at noon"));
  l.pump();
  CHECK(drain(*l.r).size() == 1);
  const Bytes recorded = l.wire[0];
  const size_t first_message_end = 10 + (size_t(recorded[8]) << 8 | recorded[9]);

  SUBCASE("only the first handshake message") {
    ControlChannel r(config(false));
    r.receive(ByteView(recorded).first(first_message_end));
    // The psk0 first message is replayable by design; the responder answers it but waits for
    // the initiator's key confirmation, which only the holder of the ephemeral key can produce.
    CHECK_FALSE(r.established());
    CHECK(r.state() == State::kConfirming);
    CHECK(r.has_output());
    CHECK_FALSE(r.pop_message().has_value());
  }
  SUBCASE("the whole recorded initiator stream") {
    ControlChannel r(config(false));
    r.receive(recorded);
    CHECK_FALSE(r.established());
    CHECK(r.failed());
    CHECK(r.failure() == ChannelFailure::kAuthentication);
    CHECK_FALSE(r.pop_message().has_value());
  }
  SUBCASE("the recorded stream byte by byte") {
    ControlChannel r(config(false));
    for (uint8_t b : recorded) r.receive(ByteView(&b, 1));
    CHECK_FALSE(r.established());
    CHECK_FALSE(r.pop_message().has_value());
  }
}

TEST_CASE("send() before the handshake finished throws") {
  ControlChannel i(config(true));
  CHECK_THROWS_AS(i.send(text("too early")), std::logic_error);
  ControlChannel r(config(false));
  i.receive(r.take_output());  // the responder's preamble: the initiator is now mid-handshake
  CHECK(i.state() == State::kHandshake);
  CHECK_THROWS_AS(i.send(text("too early")), std::logic_error);
  CHECK_THROWS_AS(r.send(text("too early")), std::logic_error);
}

TEST_CASE("a reject frame with another reason fails with kRejected and a printable reason") {
  ControlChannel i(config(true));
  Bytes in = {'w', 'e', 'f', 't', 1, 1, 1};
  std::string reason = "peer name collision\x01\n";
  in.push_back(2);
  in.push_back(0);
  in.push_back(static_cast<uint8_t>(reason.size()));
  in.insert(in.end(), reason.begin(), reason.end());
  i.receive(in);
  CHECK(i.failure() == ChannelFailure::kRejected);
  CHECK(i.failure_detail().find("peer name collision??") != std::string::npos);
}

TEST_CASE("oversized frames fail with kProtocol without waiting for the bytes") {
  SUBCASE("handshake frame over 4 KiB") {
    ControlChannel r(config(false));
    Bytes in = {'w', 'e', 'f', 't', 1, 1, 1, 1, 0x10, 0x01};
    r.receive(in);
    CHECK(r.failure() == ChannelFailure::kProtocol);
  }
  SUBCASE("transport frame over 1 MiB plus tag") {
    Link l(config(true), config(false));
    l.pump();
    REQUIRE(l.r->established());
    uint32_t len = static_cast<uint32_t>(weft::kMaxControlMessage + weft::noise::kTagLen + 1);
    Bytes hdr = {static_cast<uint8_t>(len >> 24), static_cast<uint8_t>(len >> 16),
                 static_cast<uint8_t>(len >> 8), static_cast<uint8_t>(len)};
    l.r->receive(hdr);
    CHECK(l.r->failure() == ChannelFailure::kProtocol);
  }
  SUBCASE("encrypted transport frame shorter than a tag") {
    Link l(config(true), config(false));
    l.pump();
    REQUIRE(l.r->established());
    l.r->receive(Bytes{0, 0, 0, 15});
    CHECK(l.r->failure() == ChannelFailure::kProtocol);
  }
}

TEST_CASE("unencrypted mode: a malformed hello fails with kProtocol") {
  ControlChannel r(config(false, 1, false));
  Bytes in = {'w', 'e', 'f', 't', 1, 1, 0, 3, 0, 2, 0xde, 0xad};
  r.receive(in);
  CHECK(r.failure() == ChannelFailure::kProtocol);
  CHECK_FALSE(r.remote().has_value());
}

TEST_CASE("ephemeral keys come from the injected random source: one seed, one transcript") {
  // Two runs of the same handshake with the same seeds write the same bytes and export the same
  // data-plane keys; another seed changes every handshake byte after the preamble.
  struct Run {
    Bytes wire[2];
    weft::noise::Key send{}, recv{};
  };
  auto run = [](uint64_t seed_i, uint64_t seed_r) {
    weft::SeededRandom ri(seed_i), rr(seed_r);
    ControlChannel::Config ci = config(true), cr = config(false);
    ci.random = &ri;
    cr.random = &rr;
    Link l(ci, cr);
    l.pump();
    REQUIRE(l.i->established());
    l.i->send(text("hello"));
    l.pump();
    Run r;
    r.wire[0] = l.wire[0];
    r.wire[1] = l.wire[1];
    r.send = l.i->dataplane_send_key();
    r.recv = l.i->dataplane_recv_key();
    return r;
  };
  Run a = run(1, 2), b = run(1, 2), c = run(3, 2);
  CHECK(a.wire[0] == b.wire[0]);
  CHECK(a.wire[1] == b.wire[1]);
  CHECK(a.send == b.send);
  CHECK(a.recv == b.recv);
  // Positive control: the initiator's ephemeral key (right after its 7-byte preamble and the
  // 3-byte frame header) changes with its seed, and so do the keys.
  REQUIRE(a.wire[0].size() > 42);
  CHECK_FALSE(std::equal(a.wire[0].begin() + 10, a.wire[0].begin() + 42, c.wire[0].begin() + 10));
  CHECK(a.send != c.send);
  // Without a source the system's is used: two handshakes never share an ephemeral key.
  Link l1(config(true), config(false)), l2(config(true), config(false));
  l1.pump();
  l2.pump();
  CHECK_FALSE(
      std::equal(l1.wire[0].begin() + 10, l1.wire[0].begin() + 42, l2.wire[0].begin() + 10));
}
