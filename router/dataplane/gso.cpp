#include "router/dataplane/gso.h"

#include <cstring>

#include "router/dataplane/net_bytes.h"

namespace weft {

namespace {

constexpr size_t kEth = 14;

}  // namespace

VnetHdr VnetHdr::read(ByteView b) {
  VnetHdr h;
  h.flags = b[0];
  h.gso_type = b[1];
  std::memcpy(&h.hdr_len, b.data() + 2, 2);
  std::memcpy(&h.gso_size, b.data() + 4, 2);
  std::memcpy(&h.csum_start, b.data() + 6, 2);
  std::memcpy(&h.csum_offset, b.data() + 8, 2);
  return h;
}

void VnetHdr::write(uint8_t* out) const {
  out[0] = flags;
  out[1] = gso_type;
  std::memcpy(out + 2, &hdr_len, 2);
  std::memcpy(out + 4, &gso_size, 2);
  std::memcpy(out + 6, &csum_start, 2);
  std::memcpy(out + 8, &csum_offset, 2);
}

bool segment_frame(ByteView vnet, ByteView frame, Bytes& scratch,
                   const std::function<void(ByteView vnet, ByteView frame)>& emit,
                   size_t segs_per_chunk) {
  VnetHdr h = VnetHdr::read(vnet);
  uint8_t gso = h.gso_type & 0x7f;  // bit 7 is ECN
  if (gso == VnetHdr::kGsoNone) {
    emit(vnet, frame);
    return true;
  }
  if (gso != VnetHdr::kGsoTcpV4 && gso != VnetHdr::kGsoTcpV6) return false;
  const uint8_t* f = frame.data();
  if (frame.size() < kEth + 40) return false;
  uint16_t ethertype = net::load16(f + 12);
  bool v4 = gso == VnetHdr::kGsoTcpV4;
  if ((v4 && ethertype != 0x0800) || (!v4 && ethertype != 0x86dd)) return false;
  size_t ip_len = v4 ? size_t(f[kEth] & 0x0f) * 4 : 40;
  if (v4 && (ip_len < 20 || f[kEth + 9] != 6)) return false;
  if (!v4 && f[kEth + 6] != 6) return false;  // no extension headers with TSO here
  size_t tcp_off = kEth + ip_len;
  if (frame.size() < tcp_off + 20) return false;
  size_t tcp_len = size_t(f[tcp_off + 12] >> 4) * 4;
  size_t hdrs = tcp_off + tcp_len;
  if (tcp_len < 20 || frame.size() < hdrs || h.gso_size == 0) return false;
  size_t payload = frame.size() - hdrs;
  size_t mss = h.gso_size;
  segs_per_chunk = std::max<size_t>(segs_per_chunk, 1);
  size_t chunk = mss * segs_per_chunk;
  uint32_t seq = net::load32(f + tcp_off + 4);
  uint16_t ip_id = v4 ? net::load16(f + kEth + 4) : 0;
  uint8_t flags = f[tcp_off + 13];
  scratch.resize(hdrs + std::min(chunk, payload));
  VnetHdr sh;
  sh.flags = VnetHdr::kNeedsCsum;
  sh.csum_start = static_cast<uint16_t>(tcp_off);
  sh.csum_offset = 16;
  uint8_t svnet[10];
  for (size_t off = 0, i = 0; off < payload; off += chunk, i += segs_per_chunk) {
    size_t n = std::min(chunk, payload - off);
    // A chunk of several segments stays a GSO frame (the receiver's kernel segments it).
    bool gso_chunk = n > mss;
    sh.gso_type = gso_chunk ? h.gso_type : VnetHdr::kGsoNone;
    sh.gso_size = gso_chunk ? h.gso_size : 0;
    sh.hdr_len = gso_chunk ? static_cast<uint16_t>(hdrs) : 0;
    sh.write(svnet);
    bool last = off + n == payload;
    uint8_t* s = scratch.data();
    std::memcpy(s, f, hdrs);
    std::memcpy(s + hdrs, f + hdrs + off, n);
    size_t seg_tcp = tcp_len + n;
    if (v4) {
      net::store16(s + kEth + 2, static_cast<uint16_t>(ip_len + seg_tcp));
      net::store16(s + kEth + 4, static_cast<uint16_t>(ip_id + i));
      net::store16(s + kEth + 10, 0);
      net::store16(s + kEth + 10, net::checksum_finish(net::checksum_add(0, s + kEth, ip_len)));
    } else {
      net::store16(s + kEth + 4, static_cast<uint16_t>(seg_tcp));
    }
    net::store32(s + tcp_off + 4, seq + static_cast<uint32_t>(off));
    uint8_t fl = flags;
    if (!last) fl &= static_cast<uint8_t>(~0x09);  // FIN, PSH only on the last segment
    if (i > 0) fl &= static_cast<uint8_t>(~0x80);  // CWR only on the first
    s[tcp_off + 13] = fl;
    // Partial checksum: the pseudo-header sum, as the kernel expects with NEEDS_CSUM.
    uint32_t acc =
        v4 ? net::checksum_add(0, s + kEth + 12, 8) : net::checksum_add(0, s + kEth + 8, 32);
    acc += 6 + static_cast<uint32_t>(seg_tcp);
    net::store16(s + tcp_off + 16, net::checksum_fold(acc));
    emit(ByteView(svnet, 10), ByteView(s, hdrs + n));
  }
  return true;
}

bool complete_checksum(ByteView vnet, uint8_t* frame, size_t len) {
  VnetHdr h = VnetHdr::read(vnet);
  if (!(h.flags & VnetHdr::kNeedsCsum)) return true;
  size_t start = h.csum_start, at = size_t(h.csum_start) + h.csum_offset;
  if (start >= len || at + 2 > len) return false;
  // The field holds the pseudo-header sum; summing from csum_start includes it.
  uint16_t c = net::checksum_finish(net::checksum_add(0, frame + start, len - start));
  net::store16(frame + at, c == 0 && h.csum_offset == 6 ? 0xffff : c);  // UDP: 0 means "none"
  return true;
}

}  // namespace weft

namespace weft {

namespace {
constexpr uint8_t kTcpAck = 0x10, kTcpPsh = 0x08;
}

SegmentCoalescer::SegmentCoalescer(CoalescedFrameSink& out) : out_(out) {
  buf_.reserve(kMaxFrame + 64);
}

bool SegmentCoalescer::mergeable(ByteView vnet, ByteView frame, Layout& l) {
  if (vnet.size() < 10) return false;
  VnetHdr h = VnetHdr::read(vnet);
  if (h.flags != VnetHdr::kNeedsCsum || h.gso_type != VnetHdr::kGsoNone) return false;
  const uint8_t* f = frame.data();
  if (frame.size() < kEth + 40 || frame.size() > kMaxFrame) return false;
  uint16_t ethertype = net::load16(f + 12);
  size_t ip_payload_end;
  if (ethertype == 0x0800) {
    // No IP options (the header is compared byte for byte anyway) and no fragments.
    if (f[kEth] != 0x45 || f[kEth + 9] != 6 || (net::load16(f + kEth + 6) & 0x3fff) != 0)
      return false;
    l.v4 = true;
    l.tcp_off = kEth + 20;
    ip_payload_end = kEth + net::load16(f + kEth + 2);
  } else if (ethertype == 0x86dd) {
    if ((f[kEth] >> 4) != 6 || f[kEth + 6] != 6) return false;
    l.v4 = false;
    l.tcp_off = kEth + 40;
    ip_payload_end = l.tcp_off + net::load16(f + kEth + 4);
  } else {
    return false;
  }
  // Ethernet padding or a truncated frame: not one of ours.
  if (ip_payload_end != frame.size()) return false;
  size_t tcp_len = size_t(f[l.tcp_off + 12] >> 4) * 4;
  l.hdrs = l.tcp_off + tcp_len;
  if (tcp_len < 20 || frame.size() <= l.hdrs) return false;
  if (h.csum_start != l.tcp_off || h.csum_offset != 16) return false;
  l.tcp_flags = f[l.tcp_off + 13];
  if ((l.tcp_flags & ~(kTcpAck | kTcpPsh)) != 0 || !(l.tcp_flags & kTcpAck)) return false;
  l.payload = frame.size() - l.hdrs;
  l.seq = net::load32(f + l.tcp_off + 4);
  return true;
}

bool SegmentCoalescer::continues(ByteView frame, const Layout& l) const {
  if (closed_ || l.v4 != first_.v4 || l.hdrs != first_.hdrs || l.seq != next_seq_ ||
      l.payload > mss_ || buf_.size() + l.payload > kMaxFrame)
    return false;
  const uint8_t* a = buf_.data();
  const uint8_t* b = frame.data();
  // Everything but the fields that differ between segments of one super-frame: IP length, id
  // and checksum, TCP sequence number, flags and checksum.
  auto same = [&](size_t from, size_t to) {
    return std::memcmp(a + from, b + from, to - from) == 0;
  };
  if (!same(0, kEth)) return false;
  if (l.v4) {
    if (!same(kEth, kEth + 2) || !same(kEth + 6, kEth + 10) || !same(kEth + 12, kEth + 20))
      return false;
  } else if (!same(kEth, kEth + 4) || !same(kEth + 6, kEth + 40)) {
    return false;
  }
  size_t t = first_.tcp_off;
  return same(t, t + 4) && same(t + 8, t + 13) && same(t + 14, t + 16) && same(t + 18, first_.hdrs);
}

void SegmentCoalescer::add(ByteView vnet, ByteView frame) {
  Layout l;
  if (!mergeable(vnet, frame, l)) {
    flush();
    out_.write_frame(vnet, frame);
    return;
  }
  if (count_ > 0 && !continues(frame, l)) flush();
  if (count_ == 0) {
    buf_.assign(frame.begin(), frame.end());
    std::memcpy(vnet_, vnet.data(), 10);
    first_ = l;
    mss_ = l.payload;
  } else {
    buf_.insert(buf_.end(), frame.begin() + static_cast<ptrdiff_t>(l.hdrs), frame.end());
    buf_[first_.tcp_off + 13] |= l.tcp_flags & kTcpPsh;
  }
  ++count_;
  next_seq_ = l.seq + static_cast<uint32_t>(l.payload);
  closed_ = l.payload < mss_ || (l.tcp_flags & kTcpPsh);
}

void SegmentCoalescer::flush() {
  if (count_ == 0) return;
  if (count_ == 1) {
    out_.write_frame(ByteView(vnet_, 10), buf_);
  } else {
    uint8_t* s = buf_.data();
    size_t t = first_.tcp_off;
    size_t seg_tcp = buf_.size() - t;
    if (first_.v4) {
      net::store16(s + kEth + 2, static_cast<uint16_t>(20 + seg_tcp));
      net::store16(s + kEth + 10, 0);
      net::store16(s + kEth + 10, net::checksum_finish(net::checksum_add(0, s + kEth, 20)));
    } else {
      net::store16(s + kEth + 4, static_cast<uint16_t>(seg_tcp));
    }
    // As the kernel's own TSO frames: the pseudo-header sum over the whole TCP length.
    uint32_t acc =
        first_.v4 ? net::checksum_add(0, s + kEth + 12, 8) : net::checksum_add(0, s + kEth + 8, 32);
    acc += 6 + static_cast<uint32_t>(seg_tcp);
    net::store16(s + t + 16, net::checksum_fold(acc));
    VnetHdr h;
    h.flags = VnetHdr::kNeedsCsum;
    h.gso_type = first_.v4 ? VnetHdr::kGsoTcpV4 : VnetHdr::kGsoTcpV6;
    h.hdr_len = static_cast<uint16_t>(first_.hdrs);
    h.gso_size = static_cast<uint16_t>(mss_);
    h.csum_start = static_cast<uint16_t>(t);
    h.csum_offset = 16;
    uint8_t v[10];
    h.write(v);
    out_.write_frame(ByteView(v, 10), buf_);
    ++merged_frames_;
    merged_segments_ += count_;
  }
  count_ = 0;
  closed_ = false;
  buf_.clear();
}

}  // namespace weft
