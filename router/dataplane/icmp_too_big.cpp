#include "router/dataplane/icmp_too_big.h"

#include <algorithm>
#include <cstring>

#include "router/dataplane/gso.h"
#include "router/dataplane/net_bytes.h"

namespace weft {

namespace {

using net::load16;
constexpr size_t kEth = 14;
constexpr uint16_t kEtherIpv4 = 0x0800, kEtherIpv6 = 0x86dd;
constexpr uint8_t kProtoTcp = 6, kProtoUdp = 17, kProtoIcmp = 1, kProtoIcmpv6 = 58;

bool group_mac(const uint8_t* p) {
  return p[0] & 1;
}

// ICMPv4 error messages (RFC 792, 1812): unreachable, source quench, redirect, time exceeded,
// parameter problem. The rest are queries and replies.
bool is_icmp_error(uint8_t type) {
  return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

bool v4_unicast(const uint8_t* a) {
  const bool zero = (a[0] | a[1] | a[2] | a[3]) == 0;
  const bool broadcast = (a[0] & a[1] & a[2] & a[3]) == 0xff;
  return !zero && !broadcast && a[0] != 127 && (a[0] & 0xf0) != 0xe0;
}

// The largest packet a GSO frame's segments carry: its headers plus gso_size. 0 when the headers
// are not what the vnet header says (segmenting fails on such a frame and counts it).
size_t gso_segment_len(const VnetHdr& h, const uint8_t* ip, size_t l3, bool v4) {
  size_t ip_len = v4 ? size_t(ip[0] & 0x0f) * 4 : 40;
  uint8_t proto = v4 ? ip[9] : ip[6];
  if (ip_len > l3) return 0;
  size_t l4 = 0;
  const uint8_t gso = h.gso_type & 0x7f;
  const bool tcp_gso = gso == (v4 ? VnetHdr::kGsoTcpV4 : VnetHdr::kGsoTcpV6);
  if (tcp_gso && proto == kProtoTcp && l3 >= ip_len + 20) {
    l4 = size_t(ip[ip_len + 12] >> 4) * 4;
  } else if (gso == VnetHdr::kGsoUdp && proto == kProtoUdp) {
    l4 = 8;
  } else {
    return 0;
  }
  return std::min(l3, ip_len + l4 + h.gso_size);
}

}  // namespace

bool TooBigResponder::take_token(int64_t now_ms) {
  if (last_refill_ms_ != INT64_MIN && now_ms > last_refill_ms_) {
    // Saturating: a long quiet spell refills the bucket, never overflows it.
    const int64_t elapsed = std::min<int64_t>(now_ms - last_refill_ms_, kBurst * 1000);
    tokens_milli_ = std::min(kBurst * 1000, tokens_milli_ + elapsed * kPerSecond);
  }
  last_refill_ms_ = std::max(last_refill_ms_, now_ms);
  if (tokens_milli_ < 1000) return false;
  tokens_milli_ -= 1000;
  return true;
}

TooBigResponder::Verdict TooBigResponder::check(ByteView vnet, ByteView frame, int64_t now_ms) {
  if (mtu_ == 0 || frame.size() < kEth) return Verdict::kForward;
  const uint8_t* f = frame.data();
  const uint16_t type = load16(f + 12);
  const bool v4 = type == kEtherIpv4, v6 = type == kEtherIpv6;
  const uint8_t* ip = f + kEth;
  size_t l3 = frame.size() - kEth;
  if ((v4 && (l3 < 20 || (ip[0] >> 4) != 4 || (ip[0] & 0x0f) < 5)) ||
      (v6 && (l3 < 40 || (ip[0] >> 4) != 6)) || (!v4 && !v6))
    return Verdict::kForward;
  // The packet's own length: a short frame may carry Ethernet padding after it.
  const size_t own = v4 ? load16(ip + 2) : 40 + size_t{load16(ip + 4)};
  if (own <= l3 && (v4 ? own >= 20 : load16(ip + 4) != 0)) l3 = own;

  const VnetHdr h = VnetHdr::read(vnet);
  size_t largest = l3;
  if ((h.gso_type & 0x7f) != VnetHdr::kGsoNone) {
    largest = gso_segment_len(h, ip, l3, v4);
    if (largest == 0) return Verdict::kForward;
  }
  if (largest <= mtu_) return Verdict::kForward;

  const size_t ip_hdr_len = v4 ? size_t(ip[0] & 0x0f) * 4 : 40;
  if (v4 && !(ip[6] & 0x40)) return Verdict::kForward;  // no DF: fragmenting is allowed
  ++counters_.dropped;

  bool answer = !group_mac(f) && !group_mac(f + 6) && l3 >= ip_hdr_len + 8;
  if (answer && v4) {
    const bool first_fragment = (load16(ip + 6) & 0x1fff) == 0;
    const bool icmp_error = ip[9] == kProtoIcmp && is_icmp_error(ip[ip_hdr_len]);
    answer = first_fragment && !icmp_error && v4_unicast(ip + 12) && v4_unicast(ip + 16);
  } else if (answer) {
    static const uint8_t kUnspecified[16] = {};
    const bool icmp_error = ip[6] == kProtoIcmpv6 && ip[40] < 128;
    answer = !icmp_error && ip[8] != 0xff && std::memcmp(ip + 8, kUnspecified, 16) != 0;
  }
  if (!answer) return Verdict::kDrop;
  if (!take_token(now_ms)) {
    ++counters_.rate_limited;
    return Verdict::kDrop;
  }
  if (v4) {
    build_v4(frame, ip_hdr_len);
  } else {
    build_v6(frame, l3);
  }
  ++counters_.replies;
  return Verdict::kReply;
}

// Ethernet with the addresses swapped: from the destination back to the sender.
static uint8_t* reply_ethernet(uint8_t* out, const uint8_t* f, uint16_t type) {
  std::memcpy(out, f + 6, 6);
  std::memcpy(out + 6, f, 6);
  net::store16(out + 12, type);
  return out + kEth;
}

void TooBigResponder::build_v4(ByteView frame, size_t ip_hdr_len) {
  const uint8_t* ip = frame.data() + kEth;
  const size_t quote = ip_hdr_len + 8;  // the header and the first 64 bits of data (RFC 792)
  const size_t total = 20 + 8 + quote;
  uint8_t* o = reply_ethernet(reply_.data(), frame.data(), kEtherIpv4);
  std::memset(o, 0, 28);
  o[0] = 0x45;
  o[1] = 0xc0;  // precedence "internetwork control", as Linux marks its ICMP errors
  net::store16(o + 2, static_cast<uint16_t>(total));
  o[8] = 64;  // TTL
  o[9] = kProtoIcmp;
  std::memcpy(o + 12, ip + 16, 4);  // from the packet's destination
  std::memcpy(o + 16, ip + 12, 4);  // to its source
  net::store16(o + 10, net::checksum_finish(net::checksum_add(0, o, 20)));
  uint8_t* icmp = o + 20;
  icmp[0] = 3;  // destination unreachable
  icmp[1] = 4;  // fragmentation needed and DF set
  net::store16(icmp + 6, static_cast<uint16_t>(std::min<size_t>(mtu_, 0xffff)));
  std::memcpy(icmp + 8, ip, quote);
  net::store16(icmp + 2, net::checksum_finish(net::checksum_add(0, icmp, 8 + quote)));
  reply_len_ = kEth + total;
}

void TooBigResponder::build_v6(ByteView frame, size_t l3_len) {
  const uint8_t* ip = frame.data() + kEth;
  // As much of the packet as fits in the minimum IPv6 MTU (RFC 4443 2.4 c).
  const size_t quote = std::min(l3_len, kMaxReply - kEth - 40 - 8);
  const size_t payload = 8 + quote;
  uint8_t* o = reply_ethernet(reply_.data(), frame.data(), kEtherIpv6);
  std::memset(o, 0, 48);
  o[0] = 0x60;
  net::store16(o + 4, static_cast<uint16_t>(payload));
  o[6] = kProtoIcmpv6;
  o[7] = 64;                        // hop limit
  std::memcpy(o + 8, ip + 24, 16);  // from the packet's destination
  std::memcpy(o + 24, ip + 8, 16);  // to its source
  uint8_t* icmp = o + 40;
  icmp[0] = 2;  // packet too big
  net::store32(icmp + 4, static_cast<uint32_t>(mtu_));
  std::memcpy(icmp + 8, ip, quote);
  // Pseudo-header: both addresses, the upper-layer length and the next header.
  uint32_t acc = net::checksum_add(0, o + 8, 32);
  acc += static_cast<uint32_t>(payload) + kProtoIcmpv6;
  net::store16(icmp + 2, net::checksum_finish(net::checksum_add(acc, icmp, payload)));
  reply_len_ = kEth + 40 + payload;
}

}  // namespace weft
