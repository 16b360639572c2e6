#pragma once
// "Fragmentation needed" for frames the overlay cannot carry, without I/O.
//
// The overlay MTU is set on every workload veth, so a workload's own stack never sends more. But
// an interface on the bridge with a larger MTU (a workload whose MTU was raised, a host-side
// interface) can hand the capture port a bigger packet, and the bridge drops nothing that fits
// the capture port. Such a packet cannot cross the tunnel whole, so instead of a silent drop the
// sender gets what a router would send (RFC 1191, RFC 8201): ICMPv4 type 3 code 4 with the
// next-hop MTU, or ICMPv6 Packet Too Big, which its stack turns into a smaller path MTU.
//
// Which frames count: a frame's largest IP packet is the frame itself, or for a GSO super-frame
// (legitimately far beyond the MTU) one segment: headers + gso_size. IPv4 without DF is
// forwarded as it is (the sender allowed fragmentation: the underlay fragments the datagram);
// IPv6 is never fragmented by routers. Non-IP frames are forwarded as they are.
//
// The reply comes "from" the packet's destination (source MAC and IP swapped), as a router's
// would from its own address: the sender's stack needs no route back to anything else. No reply
// (the frame is still dropped) to a group destination or source, to a non-first fragment, or to
// an ICMP error (RFC 1122 3.2.2, RFC 4443 2.4); and at most kBurst replies at once, kPerSecond
// on average, so the replies cannot be turned into a flood. Parses untrusted bytes: fuzzed by
// fuzz_inner_frame.
#include <array>
#include <cstddef>
#include <cstdint>

#include "common/bytes.h"

namespace weft {

struct TooBigCounters {
  uint64_t dropped = 0;       // frames dropped for being larger than the overlay MTU
  uint64_t replies = 0;       // ICMP errors built for them
  uint64_t rate_limited = 0;  // of the dropped frames, how many went unanswered for the rate
};

class TooBigResponder {
 public:
  static constexpr int64_t kBurst = 20;
  static constexpr int64_t kPerSecond = 100;
  // IPv6's minimum MTU bounds an ICMPv6 error (RFC 4443 2.4 c); an ICMPv4 error quotes less.
  static constexpr size_t kMaxReply = 14 + 1280;

  // 0: every frame is forwarded (the MTU is not known yet).
  void set_mtu(size_t mtu) { mtu_ = mtu; }
  size_t mtu() const { return mtu_; }

  enum class Verdict { kForward, kDrop, kReply };
  // `vnet` (kVnetHdrLen bytes) and `frame` (>= 14 bytes) as captured from the local bridge.
  // kReply: drop the frame and inject reply() into the bridge (valid until the next check).
  Verdict check(ByteView vnet, ByteView frame, int64_t now_ms);
  ByteView reply() const { return ByteView(reply_.data(), reply_len_); }
  const TooBigCounters& counters() const { return counters_; }

 private:
  bool take_token(int64_t now_ms);
  void build_v4(ByteView frame, size_t ip_hdr_len);
  void build_v6(ByteView frame, size_t l3_len);

  size_t mtu_ = 0;
  int64_t tokens_milli_ = kBurst * 1000;  // thousandths of a reply
  int64_t last_refill_ms_ = INT64_MIN;
  TooBigCounters counters_;
  std::array<uint8_t, kMaxReply> reply_{};
  size_t reply_len_ = 0;
};

}  // namespace weft
