#include "npc/blocked_flows.h"

#include <cstdio>

#include "npc/planner.h"

namespace weft::npc {

namespace {

std::string ipv4(const uint8_t* p) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", p[0], p[1], p[2], p[3]);
  return buf;
}

std::string end_name(const ClusterView& view, const std::string& ip) {
  const Workload* w = view.find_workload_by_ip(ip);
  return w ? w->key() + " (" + ip + ")" : ip;
}

}  // namespace

std::optional<BlockedPacket> parse_blocked_packet(std::string_view prefix, const uint8_t* p,
                                                  size_t size) {
  if (size < 20 || (p[0] >> 4) != 4) return std::nullopt;
  size_t ihl = size_t(p[0] & 0x0f) * 4;
  if (ihl < 20 || ihl > size) return std::nullopt;
  BlockedPacket b;
  b.prefix = std::string(prefix);
  b.src = ipv4(p + 12);
  b.dst = ipv4(p + 16);
  uint8_t proto = p[9];
  bool first_fragment = ((p[6] & 0x1f) | p[7]) == 0;
  b.protocol = proto == 6     ? "TCP"
               : proto == 17  ? "UDP"
               : proto == 132 ? "SCTP"
               : proto == 1   ? "ICMP"
                              : std::to_string(proto);
  if ((proto == 6 || proto == 17 || proto == 132) && first_fragment && size >= ihl + 4)
    b.dport = (p[ihl + 2] << 8) | p[ihl + 3];
  return b;
}

std::optional<std::string> BlockedFlowLog::on_packet(const BlockedPacket& p,
                                                     const ClusterView& view, int64_t now_ms) {
  ++counts_[{p.protocol, p.dport}];
  auto key = std::make_tuple(p.src, p.dst, p.protocol, p.dport);
  auto it = last_logged_.find(key);
  if (it != last_logged_.end() && now_ms - it->second < quiet_ms_) return std::nullopt;
  if (it == last_logged_.end() && last_logged_.size() >= max_flows_) {
    for (auto e = last_logged_.begin(); e != last_logged_.end();)
      e = now_ms - e->second >= quiet_ms_ ? last_logged_.erase(e) : std::next(e);
    if (last_logged_.size() >= max_flows_) last_logged_.clear();
  }
  last_logged_[key] = now_ms;
  std::string src = end_name(view, p.src), dst = end_name(view, p.dst);
  std::string why;
  if (p.prefix == kLogPrefixEgress) {
    why = src.substr(0, src.find(' ')) + " is isolated for egress";
  } else if (p.prefix == kLogPrefixIngress) {
    why = dst.substr(0, dst.find(' ')) + " is isolated for ingress";
  } else if (p.prefix == kLogPrefixPort) {
    why = "a workload port weft-npc has not programmed (yet), or a spoofed source address";
  } else {
    why = "denied (" + p.prefix + ")";
  }
  return "blocked " + p.protocol + " " + src + " -> " + dst +
         (p.dport ? " port " + std::to_string(p.dport) : "") + ": " + why;
}

}  // namespace weft::npc
