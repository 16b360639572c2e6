// ByteWriter/ByteReader (the bounds-checked primitives every wire decoder is built on), hex
// helpers and peer-name formatting.
#include <doctest/doctest.h>

#include <random>
#include <string>

#include "common/bytes.h"
#include "common/peer_name.h"

using weft::ByteReader;
using weft::Bytes;
using weft::ByteView;
using weft::ByteWriter;
using weft::DecodeError;

namespace {

Bytes unhex(std::string_view s) {
  Bytes b;
  REQUIRE(weft::from_hex(s, b));
  return b;
}

}  // namespace

TEST_CASE("ByteWriter writes big-endian integers and length-prefixed fields") {
  Bytes b;
  ByteWriter w(b);
  w.u8(0xab);
  w.u16(0x0102);
  w.u32(0x03040506);
  w.u64(0x0708090a0b0c0d0eull);
  w.str16("hi");
  w.bytes32(weft::as_bytes("xyz"));
  w.raw(weft::as_bytes("!"));
  CHECK(w.size() == b.size());
  CHECK(weft::to_hex(b) ==
        "ab"
        "0102"
        "03040506"
        "0708090a0b0c0d0e"
        "0002"
        "6869"
        "00000003"
        "78797a"
        "21");
}

TEST_CASE("ByteReader reads back what ByteWriter wrote") {
  Bytes b;
  ByteWriter w(b);
  w.u8(0);
  w.u8(0xff);
  w.u16(0xffff);
  w.u32(0xdeadbeef);
  w.u64(0xffffffffffffffffull);
  w.u64(0x8000000000000001ull);
  w.str16("");
  w.str16(std::string(300, 'n'));
  w.bytes32(weft::as_bytes("blob"));
  ByteReader r(b);
  CHECK(r.u8() == 0);
  CHECK(r.u8() == 0xff);
  CHECK(r.u16() == 0xffff);
  CHECK(r.u32() == 0xdeadbeef);
  CHECK(r.u64() == 0xffffffffffffffffull);
  CHECK(r.u64() == 0x8000000000000001ull);
  CHECK(r.str16() == "");
  CHECK(r.str16() == std::string(300, 'n'));
  ByteView blob = r.bytes32(16);
  CHECK(std::string(blob.begin(), blob.end()) == "blob");
  CHECK(r.done());
  CHECK(r.remaining() == 0);
  CHECK_NOTHROW(r.expect_done());
}

TEST_CASE("ByteReader throws DecodeError instead of reading past the end") {
  Bytes b = unhex("0102030405060708");
  for (size_t n = 0; n < b.size(); ++n) {
    CAPTURE(n);
    ByteView v(b.data(), n);
    if (n < 1) CHECK_THROWS_AS(ByteReader(v).u8(), DecodeError);
    if (n < 2) CHECK_THROWS_AS(ByteReader(v).u16(), DecodeError);
    if (n < 4) CHECK_THROWS_AS(ByteReader(v).u32(), DecodeError);
    CHECK_THROWS_AS(ByteReader(v).u64(), DecodeError);
    CHECK_THROWS_AS(ByteReader(v).raw(n + 1), DecodeError);
  }
  ByteReader r(b);
  CHECK_THROWS_AS(r.raw(SIZE_MAX), DecodeError);
  CHECK(r.remaining() == 8);  // a failed read consumes nothing
  CHECK(r.u64() == 0x0102030405060708ull);
  CHECK_THROWS_AS(r.u8(), DecodeError);
}

TEST_CASE("ByteReader length prefixes are bounded by the data and by the caller's limit") {
  // str16 announcing 5 bytes with 3 present.
  CHECK_THROWS_AS(ByteReader(unhex("0005616263")).str16(), DecodeError);
  // Longer than the caller allows, even if present.
  CHECK_THROWS_AS(ByteReader(unhex("0003616263")).str16(2), DecodeError);
  CHECK(ByteReader(unhex("0003616263")).str16(3) == "abc");
  // bytes32 announcing 4 GiB.
  CHECK_THROWS_AS(ByteReader(unhex("ffffffff00")).bytes32(SIZE_MAX), DecodeError);
  CHECK_THROWS_AS(ByteReader(unhex("0000000201")).bytes32(16), DecodeError);
  CHECK_THROWS_AS(ByteReader(unhex("000000020102")).bytes32(1), DecodeError);
}

TEST_CASE("expect_done rejects trailing bytes") {
  Bytes b = unhex("0102ff");
  ByteReader r(b);
  CHECK(r.u16() == 0x0102);
  CHECK_FALSE(r.done());
  CHECK_THROWS_AS(r.expect_done(), DecodeError);
}

TEST_CASE("ByteWriter refuses strings too long for a u16 prefix") {
  Bytes b;
  ByteWriter w(b);
  CHECK_NOTHROW(w.str16(std::string(0xffff, 'a')));
  CHECK(b.size() == 2 + 0xffff);
  CHECK_THROWS_AS(w.str16(std::string(0x10000, 'a')), std::length_error);
}

TEST_CASE("hex round trip over every byte value") {
  Bytes all(256);
  for (int i = 0; i < 256; ++i) all[i] = static_cast<uint8_t>(i);
  std::string h = weft::to_hex(all);
  CHECK(h.size() == 512);
  CHECK(h.substr(0, 8) == "00010203");
  CHECK(h.substr(504) == "fcfdfeff");
  Bytes back;
  REQUIRE(weft::from_hex(h, back));
  CHECK(back == all);
  CHECK(weft::to_hex({}) == "");
}

TEST_CASE("from_hex accepts upper case and rejects malformed input without touching the output") {
  Bytes out;
  REQUIRE(weft::from_hex("DEADbeef", out));
  CHECK(out == Bytes{0xde, 0xad, 0xbe, 0xef});
  REQUIRE(weft::from_hex("", out));
  CHECK(out.empty());
  out = {1, 2, 3};
  for (const char* bad : {"0", "abc", "0g", "g0", " 00", "00 ", "0x00", "zz", "-1", "\xff\xff"}) {
    CAPTURE(bad);
    CHECK_FALSE(weft::from_hex(bad, out));
    CHECK(out == Bytes{1, 2, 3});
  }
}

TEST_CASE("peer names print like MAC addresses and parse back") {
  CHECK(weft::format_peer_name(0xce31e006451aull) == "ce:31:e0:06:45:1a");
  CHECK(weft::format_peer_name(0) == "00:00:00:00:00:00");
  CHECK(weft::format_peer_name(weft::kPeerNameMask) == "ff:ff:ff:ff:ff:ff");
  CHECK(weft::parse_peer_name("ce:31:e0:06:45:1a") == 0xce31e006451aull);
  CHECK(weft::parse_peer_name("CE:31:E0:06:45:1A") == 0xce31e006451aull);
  CHECK(weft::parse_peer_name("ff:ff:ff:ff:ff:ff") == weft::kPeerNameMask);

  std::mt19937_64 rng(42);
  for (int i = 0; i < 1000; ++i) {
    weft::PeerName n = rng() & weft::kPeerNameMask;
    std::string s = weft::format_peer_name(n);
    CAPTURE(s);
    REQUIRE(s.size() == 17);
    CHECK(weft::parse_peer_name(s) == n);
  }
}

TEST_CASE("parse_peer_name rejects anything that is not six colon-separated hex pairs") {
  for (const char* bad :
       {"", "ce:31:e0:06:45", "ce:31:e0:06:45:1a:", "ce:31:e0:06:45:1", "ce-31-e0-06-45-1a",
        "ce31e006451a", "ce:31:e0:06:45:1g", "ce:31:e0:06:4:51a", " e:31:e0:06:45:1a",
        "ce:31:e0:06:45:1a ", "ce::1e0:06:45:1a", "+e:31:e0:06:45:1a", "ce:31:e0:06:45:1a:00",
        "00:00:00:00:00:00:00"}) {
    CAPTURE(bad);
    CHECK_FALSE(weft::parse_peer_name(bad).has_value());
  }
}
