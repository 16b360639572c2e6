#pragma once
// The addresses this peer has handed out, and to whom ("netns:NAME", a container id...). Only
// addresses inside space this peer owns are allocated here; the ring says which space that is.
// A holder may hold several addresses (a workload with more than one).
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/ipv4_cidr.h"
#include "ipam/ring.h"

namespace weft::ipam {

class Allocations {
 public:
  const std::map<uint32_t, std::string>& by_address() const { return by_addr_; }
  size_t size() const { return by_addr_.size(); }

  // The holder's addresses, lowest first.
  std::vector<uint32_t> of(const std::string& holder) const;
  const std::string* holder_of(uint32_t addr) const;

  // Records addr for holder. The address must be free (checked: std::logic_error).
  void add(uint32_t addr, const std::string& holder);
  // Releases every address of holder; returns them.
  std::vector<uint32_t> remove_holder(const std::string& holder);
  void remove(uint32_t addr) { by_addr_.erase(addr); }

  // The lowest address in `span` that is neither allocated nor reserved (the range's network
  // and broadcast addresses). With `avoid_dot_0_255`, also skips a.b.c.0 and a.b.c.255: valid
  // in a range wider than /24, but some tools and people take them for network or broadcast
  // addresses.
  std::optional<uint32_t> first_free(Span span, const Ipv4Cidr& range,
                                     bool avoid_dot_0_255 = false) const;
  // Allocatable addresses in `span`: its size less the reserved and allocated ones.
  uint64_t free_in(Span span, const Ipv4Cidr& range) const;
  // The longest run of free (unallocated, unreserved) addresses inside the spans given.
  std::optional<Span> largest_free_run(const std::vector<Span>& spans, const Ipv4Cidr& range) const;

 private:
  std::map<uint32_t, std::string> by_addr_;
};

}  // namespace weft::ipam
