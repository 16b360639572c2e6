#pragma once
// Batched UDP I/O for the data plane on a non-blocking socket: UDP GSO on send (the segments of
// one super-frame, equal-size datagrams to one peer, leave in one sendmsg) and UDP GRO plus
// recvmmsg on receive (a burst of datagrams arrives in one syscall, the kernel having glued
// same-size datagrams of one sender into bundles). Buffers are allocated once.
#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/bytes.h"
#include "router/dataplane/dataplane_core.h"

namespace weft {

class UdpGsoSender {
 public:
  // One GSO send is capped near 64 KB and 64 segments by the kernel.
  static constexpr size_t kMaxBytes = 65000, kMaxSegments = 64;
  explicit UdpGsoSender(int fd);

  // Queues `datagram` behind the pending ones when it can leave in the same GSO send (same
  // peer, not larger than the first, the pending run not ended by a shorter one), else sends the
  // pending run first. Nothing goes out before flush() unless the run is full.
  void send(const UdpEndpoint& to, ByteView datagram);
  void flush();
  uint64_t send_errors() const { return send_errors_; }
  // Runs of more than one datagram that left in one GSO send (for tests).
  uint64_t gso_sends() const { return gso_sends_; }

 private:
  int fd_;
  bool gso_ = true;  // off for good once the kernel refuses a GSO send
  bool last_short_ = false;
  Bytes out_;
  UdpEndpoint to_;
  size_t size_ = 0, count_ = 0;
  uint64_t send_errors_ = 0;
  uint64_t gso_sends_ = 0;
};

class UdpGroReceiver {
 public:
  static constexpr size_t kMessages = 16;        // per recvmmsg
  static constexpr size_t kBufferBytes = 65536;  // one GRO bundle or one datagram
  struct Datagram {
    UdpEndpoint from;
    ByteView data;
  };
  // Turns UDP_GRO on when the kernel has it (bundles are split here either way).
  explicit UdpGroReceiver(int fd);

  // Reads what is queued, up to kMessages bundles, in one recvmmsg. Returns the datagrams
  // (views into buffers that the next receive() reuses); empty when nothing was queued.
  const std::vector<Datagram>& receive();
  bool gro() const { return gro_; }
  // Messages that held a GRO bundle of more than one datagram (for tests).
  uint64_t gro_bundles() const { return gro_bundles_; }

 private:
  int fd_;
  bool gro_ = false;
  uint64_t gro_bundles_ = 0;
  std::vector<uint8_t> bufs_;
  std::vector<sockaddr_storage> names_;
  std::vector<std::array<uint8_t, 64>> controls_;
  std::vector<iovec> iovs_;
  std::vector<mmsghdr> msgs_;
  std::vector<Datagram> out_;
};

}  // namespace weft
