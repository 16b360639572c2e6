#pragma once
// Who an Ethernet frame says it is from: its source MAC and, for IPv4, IPv6 and ARP, its source
// IP address. The forwarder checks both against the peer a frame came from (forwarder.h).
// Parses untrusted bytes (a workload's frame, or a peer's): fuzzed by fuzz_inner_frame.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "common/bytes.h"
#include "router/dataplane/mac.h"

namespace weft {

// An IPv4 or IPv6 address; IPv4 as an IPv4-mapped IPv6 address (::ffff:a.b.c.d), so one table
// holds both.
struct InnerIp {
  std::array<uint8_t, 16> b{};

  static InnerIp v4(const uint8_t* p);  // 4 bytes, network order
  static InnerIp v6(const uint8_t* p);  // 16 bytes
  bool is_v4() const;
  // What a packet may come from: not unspecified, multicast, IPv4 broadcast or loopback.
  bool is_unicast_source() const;
  std::pair<uint64_t, uint64_t> words() const;  // hash input (AddressTable)
  std::string to_string() const;

  friend bool operator==(const InnerIp&, const InnerIp&) = default;
  friend auto operator<=>(const InnerIp&, const InnerIp&) = default;
};

struct InnerSource {
  Mac mac;
  // IPv4 / IPv6 source address, or an ARP packet's sender protocol address (IPv4 over Ethernet).
  std::optional<InnerIp> ip;
  // An ARP packet whose sender hardware address is not the frame's source MAC: it would teach
  // the receivers' ARP caches a MAC its sender does not own.
  bool arp_sender_mismatch = false;
};

// `frame` is at least kEthHdrLen bytes. One 802.1Q tag is looked through. A frame too short for
// its protocol's source address yields no ip.
InnerSource parse_inner_source(ByteView frame);

}  // namespace weft
