// Blocked packets from NFLOG to log lines and counters: header parsing (golden packets), one
// line per flow per quiet period, bounded memory.
#include <doctest/doctest.h>

#include <vector>

#include "npc/blocked_flows.h"
#include "npc/planner.h"

using namespace weft::npc;

namespace {

// An IPv4 header (no options) from 10.32.0.3 to 10.32.0.1, then 4 bytes of L4 header.
std::vector<uint8_t> packet(uint8_t proto, uint16_t dport, uint8_t frag_hi = 0) {
  return {0x45,
          0,
          0,
          24,
          0,
          0,
          frag_hi,
          0,
          64,
          proto,
          0,
          0,
          10,
          32,
          0,
          3,
          10,
          32,
          0,
          1,
          0x9c,
          0x40,
          uint8_t(dport >> 8),
          uint8_t(dport)};
}

ClusterView view() {
  ClusterView v;
  v.workloads.push_back({"x", "a", {}, {}, {"10.32.0.1"}, "h1", "vethwe00000001", ""});
  v.workloads.push_back({"x", "c", {}, {}, {"10.32.0.3"}, "h1", "vethwe00000003", ""});
  return v;
}

}  // namespace

TEST_CASE("IPv4 headers and ports are read; anything else is refused") {
  auto tcp = packet(6, 80);
  auto b = parse_blocked_packet(kLogPrefixIngress, tcp.data(), tcp.size());
  REQUIRE(b);
  CHECK(b->src == "10.32.0.3");
  CHECK(b->dst == "10.32.0.1");
  CHECK(b->protocol == "TCP");
  CHECK(b->dport == 80);
  auto sctp = packet(132, 9000);
  CHECK(parse_blocked_packet("", sctp.data(), sctp.size())->dport == 9000);
  auto icmp = packet(1, 0x0800);
  CHECK(parse_blocked_packet("", icmp.data(), icmp.size())->dport == 0);
  auto fragment = packet(17, 53, 0x01);  // a later fragment carries no UDP header
  CHECK(parse_blocked_packet("", fragment.data(), fragment.size())->dport == 0);
  CHECK_FALSE(parse_blocked_packet("", tcp.data(), 19));
  auto v6 = tcp;
  v6[0] = 0x65;
  CHECK_FALSE(parse_blocked_packet("", v6.data(), v6.size()));
  auto bad_ihl = tcp;
  bad_ihl[0] = 0x4f;  // 60-byte header in a 24-byte packet
  CHECK_FALSE(parse_blocked_packet("", bad_ihl.data(), bad_ihl.size()));
}

TEST_CASE("one line per blocked flow per quiet period, every packet counted") {
  BlockedFlowLog log(10'000, 3);
  ClusterView v = view();
  BlockedPacket p{kLogPrefixIngress, "10.32.0.3", "10.32.0.1", "TCP", 80};
  CHECK(log.on_packet(p, v, 0) ==
        "blocked TCP x/c (10.32.0.3) -> x/a (10.32.0.1) port 80: x/a is isolated for ingress");
  CHECK_FALSE(log.on_packet(p, v, 9'999));
  CHECK(log.on_packet(p, v, 10'000));
  BlockedPacket e{kLogPrefixEgress, "10.32.0.3", "8.8.8.8", "UDP", 53};
  CHECK(log.on_packet(e, v, 1) ==
        "blocked UDP x/c (10.32.0.3) -> 8.8.8.8 port 53: x/c is isolated for egress");
  CHECK(log.counts().at({"TCP", 80}) == 3);
  // Many flows: memory stays bounded, lines keep coming.
  for (int i = 0; i < 100; ++i) {
    BlockedPacket f{kLogPrefixPort, "10.32.0.9", "10.32.0.1", "TCP", 1000 + i};
    CHECK(log.on_packet(f, v, 20'000));
  }
}
