// TooBigResponder (router/dataplane/icmp_too_big.h): which captured frames are too big for the
// overlay, and the ICMP errors sent back for them, checked against golden bytes computed
// independently (a Python script with struct, see the comments) and by re-verifying checksums.
#include <doctest/doctest.h>

#include <string>

#include "common/bytes.h"
#include "router/dataplane/gso.h"
#include "router/dataplane/icmp_too_big.h"
#include "router/dataplane/net_bytes.h"

using namespace weft;
using Verdict = TooBigResponder::Verdict;

namespace {

const Bytes kPlainVnet(10, 0);

Bytes from_hex(const std::string& h) {
  Bytes b;
  for (size_t i = 0; i + 1 < h.size(); i += 2)
    b.push_back(static_cast<uint8_t>(std::stoi(h.substr(i, 2), nullptr, 16)));
  return b;
}

Bytes ethernet(uint16_t type) {
  Bytes f = from_hex("020000000002020000000001");
  f.push_back(static_cast<uint8_t>(type >> 8));
  f.push_back(static_cast<uint8_t>(type));
  return f;
}

// 02:..:01 (10.32.1.1) pings 10.32.3.1 with an IPv4 packet of `total` bytes, DF set: ICMP echo
// id 0x1234 seq 1, payload bytes i*7.
Bytes ping4(size_t total, bool df = true) {
  Bytes f = ethernet(0x0800);
  const size_t ip = f.size();
  f.resize(ip + total);
  uint8_t* p = f.data() + ip;
  p[0] = 0x45;
  net::store16(p + 2, static_cast<uint16_t>(total));
  net::store16(p + 4, 0x04d2);
  net::store16(p + 6, df ? 0x4000 : 0);
  p[8] = 64;
  p[9] = 1;
  const uint8_t addrs[8] = {10, 32, 1, 1, 10, 32, 3, 1};
  std::copy(addrs, addrs + 8, p + 12);
  net::store16(p + 10, net::checksum_finish(net::checksum_add(0, p, 20)));
  uint8_t* icmp = p + 20;
  icmp[0] = 8;
  net::store16(icmp + 4, 0x1234);
  net::store16(icmp + 6, 1);
  for (size_t i = 0; i + 28 < total; ++i) icmp[8 + i] = static_cast<uint8_t>(i * 7);
  net::store16(icmp + 2, net::checksum_finish(net::checksum_add(0, icmp, total - 20)));
  return f;
}

// fd00::1 pings fd00::3 with an IPv6 packet of 40 + `payload` bytes (ICMPv6 echo request).
Bytes ping6(size_t payload) {
  Bytes f = ethernet(0x86dd);
  const size_t ip = f.size();
  f.resize(ip + 40 + payload);
  uint8_t* p = f.data() + ip;
  p[0] = 0x60;
  net::store16(p + 4, static_cast<uint16_t>(payload));
  p[6] = 58;
  p[7] = 64;
  p[8] = p[24] = 0xfd;
  p[23] = 1;
  p[39] = 3;
  uint8_t* icmp = p + 40;
  icmp[0] = 128;
  net::store16(icmp + 4, 0x1234);
  net::store16(icmp + 6, 1);
  for (size_t i = 0; i + 8 < payload; ++i) icmp[8 + i] = static_cast<uint8_t>(i * 7);
  uint32_t acc = net::checksum_add(0, p + 8, 32) + static_cast<uint32_t>(payload) + 58;
  net::store16(icmp + 2, net::checksum_finish(net::checksum_add(acc, icmp, payload)));
  return f;
}

Bytes vnet_tso(uint8_t gso_type, uint16_t gso_size) {
  VnetHdr h;
  h.flags = VnetHdr::kNeedsCsum;
  h.gso_type = gso_type;
  h.gso_size = gso_size;
  Bytes v(10);
  h.write(v.data());
  return v;
}

// An IPv4 TCP super-frame (DF) carrying `payload` bytes: 20-byte IP and TCP headers.
Bytes tcp4_super(size_t payload) {
  Bytes f = ping4(40 + payload);
  uint8_t* p = f.data() + 14;
  p[9] = 6;
  p[20 + 12] = 0x50;
  return f;
}

TooBigResponder responder(size_t mtu) {
  TooBigResponder r;
  r.set_mtu(mtu);
  return r;
}

}  // namespace

TEST_CASE("an IPv4 DF packet over the MTU gets a frag-needed error with golden bytes") {
  TooBigResponder r = responder(1400);
  Bytes big = ping4(1420);
  REQUIRE(r.check(kPlainVnet, big, 0) == Verdict::kReply);
  Bytes got(r.reply().begin(), r.reply().end());
  // Ethernet back to the sender from the destination; IPv4 10.32.3.1 -> 10.32.1.1, TOS 0xc0,
  // TTL 64; ICMP 3/4, next-hop MTU 1400 (0x0578); the original header and 8 bytes of its data.
  CHECK(got == from_hex("020000000001020000000002080045c0003800000000400161c40a2003010a200101"
                        "03040c9e00000578"
                        "4500058c04d240004001185e0a2001010a200301"
                        "0800d0b012340001"));
  // Whole headers sum to zero: checksums right.
  CHECK(net::checksum_finish(net::checksum_add(0, got.data() + 14, 20)) == 0);
  CHECK(net::checksum_finish(net::checksum_add(0, got.data() + 34, got.size() - 34)) == 0);
  CHECK(r.counters().dropped == 1);
  CHECK(r.counters().replies == 1);
}

TEST_CASE("an IPv6 packet over the MTU gets Packet Too Big, quoting up to the minimum MTU") {
  TooBigResponder r = responder(1400);
  Bytes big = ping6(1400);
  REQUIRE(r.check(kPlainVnet, big, 0) == Verdict::kReply);
  Bytes got(r.reply().begin(), r.reply().end());
  REQUIRE(got.size() == 14 + 1280);
  CHECK(Bytes(got.begin(), got.begin() + 70) ==
        from_hex("02000000000102000000000286dd6000000004d83a40fd000000000000000000000000000003"
                 "fd000000000000000000000000000001"
                 "02007d5e00000578"
                 "6000000005783a40"));
  CHECK(Bytes(got.begin() + 62, got.end()) == Bytes(big.begin() + 14, big.begin() + 14 + 1232));
  uint32_t acc = net::checksum_add(0, got.data() + 22, 32) + 1240 + 58;
  CHECK(net::checksum_finish(net::checksum_add(acc, got.data() + 54, 1240)) == 0);
}

TEST_CASE("packets that fit, may be fragmented, or are not IP are forwarded") {
  TooBigResponder r = responder(1400);
  CHECK(r.check(kPlainVnet, ping4(1400), 0) == Verdict::kForward);  // exactly the MTU
  CHECK(r.check(kPlainVnet, ping6(1360), 0) == Verdict::kForward);
  CHECK(r.check(kPlainVnet, ping4(1401, false), 0) == Verdict::kForward);  // no DF
  Bytes arp = ethernet(0x0806);
  arp.resize(14 + 2000);
  CHECK(r.check(kPlainVnet, arp, 0) == Verdict::kForward);
  // A small packet in a padded frame: its own length counts, not the frame's.
  Bytes padded = ping4(28);
  padded.resize(1500);
  CHECK(r.check(kPlainVnet, padded, 0) == Verdict::kForward);
  // Not configured yet: everything passes.
  CHECK(TooBigResponder().check(kPlainVnet, ping4(9000), 0) == Verdict::kForward);
  CHECK(r.counters().dropped == 0);
  CHECK(r.counters().replies == 0);
}

TEST_CASE("a GSO super-frame counts by its segments, not its size") {
  TooBigResponder r = responder(1400);
  // 64 KB of TCP in 1360-byte segments: 40 + 1360 = 1400 per segment, fine.
  CHECK(r.check(vnet_tso(VnetHdr::kGsoTcpV4, 1360), tcp4_super(60000), 0) == Verdict::kForward);
  // 1361-byte segments are one byte too many.
  CHECK(r.check(vnet_tso(VnetHdr::kGsoTcpV4, 1361), tcp4_super(60000), 0) == Verdict::kReply);
  // A super-frame shorter than one segment is as big as it is.
  CHECK(r.check(vnet_tso(VnetHdr::kGsoTcpV4, 8000), tcp4_super(1360), 0) == Verdict::kForward);
  // A GSO type the headers do not match is left to segmentation to refuse.
  CHECK(r.check(vnet_tso(VnetHdr::kGsoTcpV6, 8000), tcp4_super(60000), 0) == Verdict::kForward);
}

TEST_CASE("no error to group addresses, fragments or ICMP errors; still dropped") {
  TooBigResponder r = responder(1400);
  Bytes to_broadcast = ping4(1420);
  std::fill(to_broadcast.begin(), to_broadcast.begin() + 6, 0xff);
  CHECK(r.check(kPlainVnet, to_broadcast, 0) == Verdict::kDrop);
  Bytes to_multicast = ping4(1420);
  to_multicast[14 + 16] = 239;
  CHECK(r.check(kPlainVnet, to_multicast, 0) == Verdict::kDrop);
  Bytes from_zero = ping4(1420);
  std::fill(from_zero.begin() + 14 + 12, from_zero.begin() + 14 + 16, 0);
  CHECK(r.check(kPlainVnet, from_zero, 0) == Verdict::kDrop);
  Bytes fragment = ping4(1420);
  fragment[14 + 7] = 0x10;  // DF and an offset: not the first fragment
  CHECK(r.check(kPlainVnet, fragment, 0) == Verdict::kDrop);
  Bytes icmp_error = ping4(1420);
  icmp_error[14 + 20] = 3;
  CHECK(r.check(kPlainVnet, icmp_error, 0) == Verdict::kDrop);
  for (uint8_t type : {4, 5, 11, 12}) {
    icmp_error[14 + 20] = type;
    CHECK(r.check(kPlainVnet, icmp_error, 0) == Verdict::kDrop);
  }
  Bytes v6_error = ping6(1400);
  v6_error[14 + 40] = 1;
  CHECK(r.check(kPlainVnet, v6_error, 0) == Verdict::kDrop);
  Bytes v6_multicast_src = ping6(1400);
  v6_multicast_src[14 + 8] = 0xff;
  CHECK(r.check(kPlainVnet, v6_multicast_src, 0) == Verdict::kDrop);
  CHECK(r.counters().dropped == 11);
  CHECK(r.counters().replies == 0);
  CHECK(r.counters().rate_limited == 0);
  // ICMP queries are answered like any packet (a timestamp request here).
  Bytes query = ping4(1420);
  query[14 + 20] = 13;
  CHECK(r.check(kPlainVnet, query, 0) == Verdict::kReply);
}

TEST_CASE("replies are rate limited: a burst, then kPerSecond") {
  TooBigResponder r = responder(1400);
  Bytes big = ping4(1420);
  for (int i = 0; i < TooBigResponder::kBurst; ++i)
    REQUIRE(r.check(kPlainVnet, big, 1000) == Verdict::kReply);
  CHECK(r.check(kPlainVnet, big, 1000) == Verdict::kDrop);
  CHECK(r.check(kPlainVnet, big, 1009) == Verdict::kDrop);
  CHECK(r.check(kPlainVnet, big, 1010) == Verdict::kReply);  // 10 ms = one reply at 100/s
  CHECK(r.check(kPlainVnet, big, 1010) == Verdict::kDrop);
  CHECK(r.counters().rate_limited == 3);
  // A long quiet spell refills the burst, no more.
  int n = 0;
  while (r.check(kPlainVnet, big, 1'000'000) == Verdict::kReply) ++n;
  CHECK(n == TooBigResponder::kBurst);
  CHECK(r.counters().replies == uint64_t(2 * TooBigResponder::kBurst + 1));
}
