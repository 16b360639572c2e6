// What the data plane reads inside an Ethernet frame from a workload or a peer, on arbitrary
// bytes: parse_inner_source (the source check) and TooBigResponder (ICMP errors for packets over
// the overlay MTU). Input: u16 overlay MTU (big-endian), a 10-byte virtio-net header, the frame.
// Oracles: the source MAC is the frame's; an ICMP error is well-formed (lengths, checksums,
// addressed back to the sender, never to a group address), and an ICMP error is never itself
// answered with one, whatever the MTU.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "common/bytes.h"
#include "fuzz_common.h"
#include "router/dataplane/frame_batch.h"
#include "router/dataplane/icmp_too_big.h"
#include "router/dataplane/inner_source.h"
#include "router/dataplane/net_bytes.h"

using namespace weft;
using weft::fuzz::require;

namespace {

bool sums_to_zero(uint32_t acc, const uint8_t* p, size_t n) {
  return net::checksum_finish(net::checksum_add(acc, p, n)) == 0;
}

void check_reply(ByteView frame, ByteView reply, size_t mtu) {
  static const uint8_t kPlain[kVnetHdrLen] = {};
  const ByteView vnet(kPlain, kVnetHdrLen);
  require(reply.size() <= TooBigResponder::kMaxReply && reply.size() >= 14 + 20 + 8 + 28);
  require(std::memcmp(reply.data(), frame.data() + 6, 6) == 0);  // back to the sender
  require(std::memcmp(reply.data() + 6, frame.data(), 6) == 0);  // from the destination
  require(!(reply[0] & 1) && !(reply[6] & 1));
  const uint8_t* ip = reply.data() + 14;
  const size_t l3 = reply.size() - 14;
  if (net::load16(reply.data() + 12) == 0x0800) {
    require(ip[0] == 0x45 && ip[9] == 1 && net::load16(ip + 2) == l3);
    require(sums_to_zero(0, ip, 20) && sums_to_zero(0, ip + 20, l3 - 20));
    require(ip[20] == 3 && ip[21] == 4 && net::load16(ip + 26) == (mtu > 0xffff ? 0xffff : mtu));
  } else {
    require(net::load16(reply.data() + 12) == 0x86dd);
    require(ip[0] == 0x60 && ip[6] == 58 && net::load16(ip + 4) == l3 - 40);
    uint32_t acc = net::checksum_add(0, ip + 8, 32) + static_cast<uint32_t>(l3 - 40) + 58;
    require(sums_to_zero(acc, ip + 40, l3 - 40));
    require(ip[40] == 2 && ip[41] == 0);
  }
  // An ICMP error is not answered, even by a responder whose MTU it exceeds.
  for (size_t m : {size_t{68}, size_t{576}, mtu}) {
    TooBigResponder again;
    again.set_mtu(m);
    require(again.check(vnet, reply, 0) != TooBigResponder::Verdict::kReply);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2 + kVnetHdrLen + kEthHdrLen) return 0;
  const size_t mtu = net::load16(data);
  const ByteView vnet(data + 2, kVnetHdrLen);
  const ByteView frame(data + 2 + kVnetHdrLen, size - 2 - kVnetHdrLen);

  const InnerSource s = parse_inner_source(frame);
  require(std::memcmp(s.mac.b.data(), frame.data() + 6, 6) == 0);
  require(!s.arp_sender_mismatch || s.ip);

  TooBigResponder r;
  r.set_mtu(mtu);
  const auto v = r.check(vnet, frame, 0);
  const TooBigCounters& c = r.counters();
  require(c.replies == (v == TooBigResponder::Verdict::kReply ? 1u : 0u));
  require(c.dropped == (v == TooBigResponder::Verdict::kForward ? 0u : 1u));
  if (v == TooBigResponder::Verdict::kReply) {
    // Only what is bigger than the MTU: the frame, or a GSO frame's segments.
    require((vnet[1] & 0x7f) != 0 || frame.size() - 14 > mtu);
    check_reply(frame, r.reply(), mtu);
  }
  return 0;
}
