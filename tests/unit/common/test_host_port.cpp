#include <doctest/doctest.h>

#include "common/host_port.h"

using weft::format_host_port;
using weft::is_loopback_literal;
using weft::parse_host_port;

TEST_CASE("parse_host_port accepts the forms users type") {
  auto a = parse_host_port("10.0.0.2", 6783);
  CHECK(a.host == "10.0.0.2");
  CHECK(a.port == 6783);
  auto b = parse_host_port("host-2.example:7000", 6783);
  CHECK(b.host == "host-2.example");
  CHECK(b.port == 7000);
  auto c = parse_host_port("[fd00::1]:6784", 6783);
  CHECK(c.host == "fd00::1");
  CHECK(c.port == 6784);
  auto d = parse_host_port("[::1]", 6783);
  CHECK(d.host == "::1");
  CHECK(d.port == 6783);
  auto e = parse_host_port("fd00::2", 6783);
  CHECK(e.host == "fd00::2");
  CHECK(e.port == 6783);
}

TEST_CASE("parse_host_port rejects malformed input with a reason") {
  for (const char* bad : {"", ":6783", "h:0", "h:65536", "h:x", "h:", "[fd00::1", "[fd00::1]x",
                          "[nothex]:1", "a b", "-oops", "1:2:3:zz", "host/path"}) {
    CAPTURE(bad);
    CHECK_THROWS_AS(parse_host_port(bad, 6783), std::invalid_argument);
  }
}

TEST_CASE("format_host_port brackets IPv6") {
  CHECK(format_host_port({"10.0.0.1", 6783}) == "10.0.0.1:6783");
  CHECK(format_host_port({"::1", 6784}) == "[::1]:6784");
}

TEST_CASE("is_loopback_literal accepts only loopback IP literals") {
  CHECK(is_loopback_literal("127.0.0.1"));
  CHECK(is_loopback_literal("127.1.2.3"));
  CHECK(is_loopback_literal("::1"));
  CHECK_FALSE(is_loopback_literal("0.0.0.0"));
  CHECK_FALSE(is_loopback_literal("10.0.0.1"));
  CHECK_FALSE(is_loopback_literal("::"));
  CHECK_FALSE(is_loopback_literal("::ffff:127.0.0.1"));
  CHECK_FALSE(is_loopback_literal("localhost"));  // names can resolve anywhere
}
