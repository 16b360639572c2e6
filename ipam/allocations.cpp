#include "ipam/allocations.h"

#include <stdexcept>

namespace weft::ipam {

std::vector<uint32_t> Allocations::of(const std::string& holder) const {
  std::vector<uint32_t> out;
  for (const auto& [a, h] : by_addr_)
    if (h == holder) out.push_back(a);
  return out;
}

const std::string* Allocations::holder_of(uint32_t addr) const {
  auto it = by_addr_.find(addr);
  return it == by_addr_.end() ? nullptr : &it->second;
}

void Allocations::add(uint32_t addr, const std::string& holder) {
  if (!by_addr_.emplace(addr, holder).second)
    throw std::logic_error("address allocated twice: " + format_ipv4(addr));
}

std::vector<uint32_t> Allocations::remove_holder(const std::string& holder) {
  std::vector<uint32_t> out = of(holder);
  for (uint32_t a : out) by_addr_.erase(a);
  return out;
}

std::optional<uint32_t> Allocations::first_free(Span span, const Ipv4Cidr& range,
                                                bool avoid_dot_0_255) const {
  uint64_t a = span.start;
  // Walk the allocations inside the span in order; the first gap is the answer.
  for (auto it = by_addr_.lower_bound(span.start); a < span.end; ++a) {
    while (it != by_addr_.end() && it->first < a) ++it;
    bool taken = it != by_addr_.end() && it->first == a;
    uint8_t last = uint8_t(a & 0xff);
    if (avoid_dot_0_255 && (last == 0 || last == 255)) continue;
    if (!taken && !reserved_address(range, uint32_t(a))) return uint32_t(a);
  }
  return std::nullopt;
}

uint64_t Allocations::free_in(Span span, const Ipv4Cidr& range) const {
  uint64_t used = 0;
  for (auto it = by_addr_.lower_bound(span.start); it != by_addr_.end() && it->first < span.end;
       ++it)
    ++used;
  for (uint32_t r : {range.network(), range.broadcast()})
    if (span.contains(r) && !by_addr_.count(r)) ++used;
  return span.size() - used;
}

std::optional<Span> Allocations::largest_free_run(const std::vector<Span>& spans,
                                                  const Ipv4Cidr& range) const {
  std::optional<Span> best;
  auto consider = [&](uint64_t s, uint64_t e) {
    if (e > s && (!best || e - s > best->size())) best = Span{uint32_t(s), e};
  };
  for (const Span& sp : spans) {
    uint64_t run_start = sp.start;
    // Blockers inside the span: allocated addresses and the reserved ones, in order.
    std::map<uint64_t, bool> blockers;
    for (auto it = by_addr_.lower_bound(sp.start); it != by_addr_.end() && it->first < sp.end; ++it)
      blockers[it->first] = true;
    for (uint32_t r : {range.network(), range.broadcast()})
      if (sp.contains(r)) blockers[r] = true;
    for (const auto& [b, unused] : blockers) {
      consider(run_start, b);
      run_start = b + 1;
    }
    consider(run_start, sp.end);
  }
  return best;
}

}  // namespace weft::ipam
