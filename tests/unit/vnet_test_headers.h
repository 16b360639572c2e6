#pragma once
// Virtio-net headers as the TAP hands them over, shared by the data-plane tests.
#include "common/bytes.h"
#include "router/dataplane/gso.h"

namespace weft::test {

// TSO for an Ethernet + 20-byte IPv4 + 20-byte TCP super-frame cut into `mss`-byte segments,
// checksum left partial (what the kernel sets with TUN_F_TSO4).
inline Bytes vnet_tso4(uint16_t mss) {
  VnetHdr h;
  h.flags = VnetHdr::kNeedsCsum;
  h.gso_type = VnetHdr::kGsoTcpV4;
  h.hdr_len = 54;
  h.gso_size = mss;
  h.csum_start = 34;
  h.csum_offset = 16;
  Bytes v(10);
  h.write(v.data());
  return v;
}

}  // namespace weft::test
