#include "router/os/udp_batch.h"

#include <netinet/in.h>
#include <netinet/udp.h>
#include <spdlog/spdlog.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstring>

namespace weft {

namespace {

socklen_t to_sockaddr(const UdpEndpoint& e, sockaddr_storage& ss) {
  ss = {};
  if (e.v6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(e.port);
    std::memcpy(&a->sin6_addr, e.ip.data(), 16);
    return sizeof(sockaddr_in6);
  }
  auto* a = reinterpret_cast<sockaddr_in*>(&ss);
  a->sin_family = AF_INET;
  a->sin_port = htons(e.port);
  std::memcpy(&a->sin_addr, e.ip.data(), 4);
  return sizeof(sockaddr_in);
}

UdpEndpoint from_sockaddr(const sockaddr_storage& ss) {
  UdpEndpoint e;
  if (ss.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
    const uint8_t* ip = a->sin6_addr.s6_addr;
    static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(ip, kMapped, 12) == 0) {
      std::memcpy(e.ip.data(), ip + 12, 4);
    } else {
      std::memcpy(e.ip.data(), ip, 16);
      e.v6 = true;
    }
    e.port = ntohs(a->sin6_port);
  } else {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
    std::memcpy(e.ip.data(), &a->sin_addr, 4);
    e.port = ntohs(a->sin_port);
  }
  return e;
}

}  // namespace

UdpGsoSender::UdpGsoSender(int fd) : fd_(fd) {
  out_.reserve(kMaxBytes + 2048);
}

void UdpGsoSender::send(const UdpEndpoint& to, ByteView datagram) {
  if (count_ > 0 && (!(to_ == to) || datagram.size() > size_ || last_short_ ||
                     out_.size() + datagram.size() > kMaxBytes || count_ >= kMaxSegments))
    flush();
  if (count_ == 0) {
    to_ = to;
    size_ = datagram.size();
  }
  out_.insert(out_.end(), datagram.begin(), datagram.end());
  ++count_;
  last_short_ = datagram.size() < size_;  // only the last segment may be shorter
}

void UdpGsoSender::flush() {
  if (count_ == 0) return;
  sockaddr_storage ss;
  iovec iov{out_.data(), out_.size()};
  msghdr msg{};
  msg.msg_name = &ss;
  msg.msg_namelen = to_sockaddr(to_, ss);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(uint16_t))] = {};
  if (count_ > 1 && gso_) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_UDP;
    c->cmsg_type = UDP_SEGMENT;
    c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
    uint16_t seg = static_cast<uint16_t>(size_);
    std::memcpy(CMSG_DATA(c), &seg, sizeof seg);
  }
  bool sent = false;
  if (count_ == 1 || gso_) {
    sent = ::sendmsg(fd_, &msg, 0) >= 0;
    if (sent && count_ > 1) ++gso_sends_;
    if (!sent && count_ > 1 && errno != EAGAIN && errno != ENOBUFS) {
      // The kernel or the path will not segment for us (e.g. datagrams larger than the
      // underlay MTU): stop asking, and send this run one datagram at a time.
      gso_ = false;
      spdlog::info("UDP GSO unavailable ({}); sending one datagram per call", strerror(errno));
    }
  }
  if (!sent && count_ > 1 && !gso_) {
    msg.msg_control = nullptr;
    msg.msg_controllen = 0;
    sent = true;
    for (size_t off = 0; off < out_.size(); off += size_) {
      iov.iov_base = out_.data() + off;
      iov.iov_len = std::min(size_, out_.size() - off);
      if (::sendmsg(fd_, &msg, 0) < 0) sent = false;
    }
  }
  if (!sent) ++send_errors_;
  out_.clear();
  count_ = 0;
  last_short_ = false;
}

UdpGroReceiver::UdpGroReceiver(int fd)
    : fd_(fd),
      bufs_(kMessages * kBufferBytes),
      names_(kMessages),
      controls_(kMessages),
      iovs_(kMessages),
      msgs_(kMessages) {
  int on = 1;
  gro_ = ::setsockopt(fd_, SOL_UDP, UDP_GRO, &on, sizeof on) == 0;
  // A bundle holds at most 64 datagrams (UDP_GRO_CNT_MAX).
  out_.reserve(kMessages * 64);
}

const std::vector<UdpGroReceiver::Datagram>& UdpGroReceiver::receive() {
  out_.clear();
  for (size_t i = 0; i < kMessages; ++i) {
    iovs_[i] = {bufs_.data() + i * kBufferBytes, kBufferBytes};
    msghdr& h = msgs_[i].msg_hdr;
    h = {};
    h.msg_name = &names_[i];
    h.msg_namelen = sizeof(sockaddr_storage);
    h.msg_iov = &iovs_[i];
    h.msg_iovlen = 1;
    h.msg_control = controls_[i].data();
    h.msg_controllen = controls_[i].size();
  }
  int n = ::recvmmsg(fd_, msgs_.data(), kMessages, MSG_DONTWAIT, nullptr);
  for (int i = 0; i < n; ++i) {
    const msghdr& h = msgs_[i].msg_hdr;
    size_t len = msgs_[i].msg_len;
    if (h.msg_flags & MSG_TRUNC) continue;  // larger than any datagram we send
    size_t seg = len;
    for (cmsghdr* c = CMSG_FIRSTHDR(&h); c; c = CMSG_NXTHDR(const_cast<msghdr*>(&h), c)) {
      if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
        int v;
        std::memcpy(&v, CMSG_DATA(c), sizeof v);
        if (v > 0) seg = static_cast<size_t>(v);
      }
    }
    if (seg < len) ++gro_bundles_;
    UdpEndpoint from = from_sockaddr(names_[i]);
    const uint8_t* base = bufs_.data() + size_t(i) * kBufferBytes;
    for (size_t off = 0; off < len && out_.size() < out_.capacity(); off += seg)
      out_.push_back({from, ByteView(base + off, std::min(seg, len - off))});
  }
  return out_;
}

}  // namespace weft
