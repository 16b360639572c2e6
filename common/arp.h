#pragma once
// Gratuitous ARP (an "ARP Announcement", RFC 5227 §2.3): tells the segment, and the weft routers
// that learn MACs from it, which MAC an IPv4 address now lives at. Pure.
#include <array>
#include <cstdint>

namespace weft {

// The 28-byte ARP packet (Ethernet, IPv4) to send to ff:ff:ff:ff:ff:ff: a request whose sender
// and target protocol addresses are both `ip` (host byte order), from `mac`, target hardware
// address zero.
std::array<uint8_t, 28> gratuitous_arp(const std::array<uint8_t, 6>& mac, uint32_t ip);

}  // namespace weft
