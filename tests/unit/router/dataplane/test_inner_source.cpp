// parse_inner_source (router/dataplane/inner_source.h): which MAC and IP a frame says it is from,
// for IPv4, IPv6, ARP, one VLAN tag, and frames too short or of other protocols.
#include <doctest/doctest.h>

#include <algorithm>
#include <iterator>

#include "common/bytes.h"
#include "router/dataplane/inner_source.h"

using weft::Bytes;
using weft::InnerIp;
using weft::parse_inner_source;

namespace {
// Sized once and copied into: GCC 12 -O3 warns wrongly (-Warray-bounds) on inserting into a
// 14-byte vector.
Bytes frame(uint16_t type, Bytes payload) {
  const uint8_t header[] = {
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 1, 2, 3, 4, 5, uint8_t(type >> 8), uint8_t(type)};
  Bytes f(sizeof header + payload.size());
  std::copy(std::begin(header), std::end(header), f.begin());
  std::copy(payload.begin(), payload.end(), f.begin() + sizeof header);
  return f;
}
Bytes ipv4_header(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  Bytes h(20, 0);
  h[0] = 0x45;
  h[12] = a, h[13] = b, h[14] = c, h[15] = d;
  return h;
}
const uint8_t kV4[4] = {10, 32, 1, 7};
}  // namespace

TEST_CASE("the source IP of IPv4, IPv6 and ARP frames, through one VLAN tag") {
  auto s = parse_inner_source(frame(0x0800, ipv4_header(10, 32, 1, 7)));
  CHECK(s.mac.to_string() == "02:01:02:03:04:05");
  REQUIRE(s.ip);
  CHECK(*s.ip == InnerIp::v4(kV4));
  CHECK_FALSE(s.arp_sender_mismatch);

  Bytes v6(40, 0);
  v6[0] = 0x60;
  v6[8] = 0xfd;
  v6[23] = 9;
  s = parse_inner_source(frame(0x86dd, v6));
  REQUIRE(s.ip);
  CHECK(s.ip->to_string() == "fd00::9");

  Bytes a = {0, 1, 8, 0, 6, 4, 0, 2, 0x02, 1, 2, 3, 4, 5, 10, 32, 1, 7};
  a.resize(28, 0);
  s = parse_inner_source(frame(0x0806, a));
  REQUIRE(s.ip);
  CHECK(*s.ip == InnerIp::v4(kV4));
  CHECK_FALSE(s.arp_sender_mismatch);
  a[13] = 6;  // a sender MAC that is not the frame's source
  CHECK(parse_inner_source(frame(0x0806, a)).arp_sender_mismatch);

  Bytes tagged = {0x00, 0x05, 0x08, 0x00};  // VLAN 5, then IPv4
  Bytes h = ipv4_header(10, 32, 1, 7);
  tagged.insert(tagged.end(), h.begin(), h.end());
  s = parse_inner_source(frame(0x8100, tagged));
  REQUIRE(s.ip);
  CHECK(*s.ip == InnerIp::v4(kV4));
}

TEST_CASE("no source IP from short frames, wrong versions or other protocols") {
  CHECK_FALSE(parse_inner_source(frame(0x0800, Bytes(19, 0x45))).ip);
  CHECK_FALSE(parse_inner_source(frame(0x0800, ipv4_header(0, 0, 0, 0))).ip->is_unicast_source());
  Bytes wrong = ipv4_header(10, 32, 1, 7);
  wrong[0] = 0x65;
  CHECK_FALSE(parse_inner_source(frame(0x0800, wrong)).ip);
  CHECK_FALSE(parse_inner_source(frame(0x86dd, Bytes(39, 0x60))).ip);
  Bytes arp_v6 = {0, 1, 0x86, 0xdd, 6, 16, 0, 1};
  arp_v6.resize(52, 0);
  CHECK_FALSE(parse_inner_source(frame(0x0806, arp_v6)).ip);
  CHECK_FALSE(parse_inner_source(frame(0x88cc, Bytes(40, 0))).ip);  // LLDP
  CHECK_FALSE(parse_inner_source(frame(0x8100, {})).ip);            // a tag cut short
  auto s = parse_inner_source(frame(0x0800, {}));
  CHECK_FALSE(s.ip);
  CHECK(s.mac.to_string() == "02:01:02:03:04:05");
}
