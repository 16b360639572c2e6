#include "ipam/ring.h"

#include <algorithm>
#include <stdexcept>

namespace weft::ipam {

namespace {

constexpr size_t kMaxSeeds = 4096;
constexpr size_t kTokenWireLen = 4 + 8 + 4 + 4;

uint64_t mix(uint64_t h, uint64_t v) {
  // FNV-1a over the value's bytes, then a splitmix finaliser: cheap and well spread.
  for (int i = 0; i < 8; ++i) h = (h ^ ((v >> (8 * i)) & 0xff)) * 0x100000001b3ull;
  h ^= h >> 31;
  h *= 0x7fb5d329728ea185ull;
  return h ^ (h >> 27);
}

}  // namespace

Span Ring::whole() const {
  return {range_.network(), uint64_t{range_.network()} + (uint64_t{1} << (32 - range_.prefix))};
}

Ring Ring::seeded(Ipv4Cidr range, std::vector<PeerName> seeds, uint64_t epoch) {
  std::sort(seeds.begin(), seeds.end());
  seeds.erase(std::unique(seeds.begin(), seeds.end()), seeds.end());
  if (seeds.empty()) throw std::logic_error("a ring needs at least one seed");
  range.addr = range.network();
  Ring r(range);
  r.seeds_ = seeds;
  r.epoch_ = epoch;
  Span w = r.whole();
  uint64_t n = std::min<uint64_t>(seeds.size(), w.size());
  for (uint64_t i = 0; i < n; ++i) {
    uint32_t start = uint32_t(w.start + w.size() * i / n);
    r.tokens_[start] = Token{seeds[i], 1, 0};
  }
  for (auto& [start, t] : r.tokens_) {
    Span s = r.span_of(start);
    uint64_t free = s.size();
    for (uint32_t a : {range.network(), range.broadcast()})
      if (s.contains(a)) --free;
    t.free = uint32_t(free);
  }
  return r;
}

MergeResult Ring::merge(const Ring& other) {
  if (other.empty()) return MergeResult::kUnchanged;
  if (empty()) {
    if (range_.prefix != other.range_.prefix || range_.network() != other.range_.network())
      return MergeResult::kRangeMismatch;
    *this = other;
    return MergeResult::kChanged;
  }
  if (!(range_ == other.range_)) return MergeResult::kRangeMismatch;
  if (!same_bootstrap(other)) return MergeResult::kSeedConflict;
  bool changed = false;
  for (const auto& [start, theirs] : other.tokens_) {
    auto [it, inserted] = tokens_.try_emplace(start, theirs);
    if (inserted) {
      changed = true;
    } else if (it->second < theirs) {
      it->second = theirs;
      changed = true;
    }
  }
  return changed ? MergeResult::kChanged : MergeResult::kUnchanged;
}

std::optional<PeerName> Ring::owner_of(uint32_t a) const {
  auto it = tokens_.upper_bound(a);
  if (it == tokens_.begin()) return std::nullopt;
  return std::prev(it)->second.owner;
}

Span Ring::span_of(uint32_t token_start) const {
  auto it = tokens_.upper_bound(token_start);
  return {token_start, it == tokens_.end() ? whole().end : uint64_t{it->first}};
}

std::vector<Span> Ring::owned_by(PeerName peer) const {
  std::vector<Span> out;
  for (const auto& [start, t] : tokens_) {
    if (t.owner != peer) continue;
    Span s = span_of(start);
    if (!out.empty() && out.back().end == s.start)
      out.back().end = s.end;
    else
      out.push_back(s);
  }
  return out;
}

std::map<PeerName, uint64_t> Ring::free_by_owner() const {
  std::map<PeerName, uint64_t> out;
  for (const auto& [start, t] : tokens_) out[t.owner] += t.free;
  return out;
}

void Ring::bump(uint32_t token_start, PeerName owner, uint32_t free) {
  auto [it, inserted] = tokens_.try_emplace(token_start, Token{owner, 1, free});
  if (!inserted) it->second = Token{owner, it->second.version + 1, free};
}

void Ring::give(PeerName self, Span span, PeerName to) {
  Span w = whole();
  if (span.size() == 0 || span.start < w.start || span.end > w.end)
    throw std::logic_error("give: span outside the range");
  for (uint64_t a = span.start; a < span.end;) {
    auto o = owner_of(uint32_t(a));
    if (o != self) throw std::logic_error("give: span not owned by the giver");
    auto next = tokens_.upper_bound(uint32_t(a));
    a = next == tokens_.end() ? w.end : next->first;
  }
  // Keep the part after the span ours before re-labelling the span's start.
  if (span.end < w.end && !tokens_.count(uint32_t(span.end))) bump(uint32_t(span.end), self, 0);
  for (auto it = tokens_.lower_bound(span.start); it != tokens_.end() && it->first < span.end; ++it)
    it->second = Token{to, it->second.version + 1, 0};
  if (!tokens_.count(span.start)) bump(span.start, to, 0);
  // The receiver publishes exact counts once it has the ring; until then show the span as free
  // (the giver hands over only unallocated space).
  for (auto it = tokens_.lower_bound(span.start); it != tokens_.end() && it->first < span.end;
       ++it) {
    Span s = span_of(it->first);
    uint64_t free = s.size();
    for (uint32_t a : {range_.network(), range_.broadcast()})
      if (s.contains(a)) --free;
    it->second.free = uint32_t(free);
  }
}

void Ring::set_free(PeerName self, uint32_t token_start, uint32_t free) {
  auto it = tokens_.find(token_start);
  if (it == tokens_.end() || it->second.owner != self)
    throw std::logic_error("set_free: not our token");
  if (it->second.free == free) return;
  it->second = Token{self, it->second.version + 1, free};
}

uint64_t Ring::take_over(PeerName self, PeerName gone) {
  uint64_t taken = 0;
  for (auto& [start, t] : tokens_) {
    if (t.owner != gone) continue;
    taken += span_of(start).size();
    t = Token{self, t.version + 1, t.free};
  }
  return taken;
}

uint64_t Ring::digest() const {
  uint64_t h = mix(0xcbf29ce484222325ull, range_.network());
  h = mix(h, uint64_t(range_.prefix));
  h = mix(h, epoch_);
  for (PeerName s : seeds_) h = mix(h, s);
  for (const auto& [start, t] : tokens_) {
    h = mix(h, start);
    h = mix(h, t.owner);
    h = mix(h, (uint64_t{t.version} << 32) | t.free);
  }
  return h;
}

void Ring::encode(ByteWriter& w) const {
  w.u32(range_.network());
  w.u8(uint8_t(range_.prefix));
  w.u64(epoch_);
  w.u16(uint16_t(seeds_.size()));
  for (PeerName s : seeds_) w.u64(s);
  w.u32(uint32_t(tokens_.size()));
  for (const auto& [start, t] : tokens_) {
    w.u32(start);
    w.u64(t.owner);
    w.u32(t.version);
    w.u32(t.free);
  }
}

Ring Ring::decode(ByteReader& r) {
  Ipv4Cidr range;
  range.addr = r.u32();
  range.prefix = r.u8();
  if (range.prefix < 1 || range.prefix > 30) throw DecodeError("ipam ring: bad prefix length");
  if (range.addr != range.network()) throw DecodeError("ipam ring: range has host bits set");
  Ring ring(range);
  ring.epoch_ = r.u64();
  size_t nseeds = r.u16();
  if (nseeds > kMaxSeeds || nseeds * 8 > r.remaining())
    throw DecodeError("ipam ring: bad seed count");
  for (size_t i = 0; i < nseeds; ++i) {
    PeerName s = r.u64();
    if (s == 0 || s > kPeerNameMask) throw DecodeError("ipam ring: bad seed name");
    if (!ring.seeds_.empty() && s <= ring.seeds_.back())
      throw DecodeError("ipam ring: seeds not sorted");
    ring.seeds_.push_back(s);
  }
  size_t ntokens = r.u32();
  if (ntokens * kTokenWireLen > r.remaining()) throw DecodeError("ipam ring: bad token count");
  if ((ntokens == 0) != ring.seeds_.empty())
    throw DecodeError("ipam ring: seeds without tokens or tokens without seeds");
  Span w = ring.whole();
  for (size_t i = 0; i < ntokens; ++i) {
    uint32_t start = r.u32();
    Token t{r.u64(), r.u32(), r.u32()};
    if (i == 0 && start != w.start) throw DecodeError("ipam ring: does not start at the range");
    if (!w.contains(start)) throw DecodeError("ipam ring: token outside the range");
    if (!ring.tokens_.empty() && start <= ring.tokens_.rbegin()->first)
      throw DecodeError("ipam ring: tokens not in order");
    if (t.owner == 0 || t.owner > kPeerNameMask) throw DecodeError("ipam ring: bad owner");
    ring.tokens_.emplace(start, t);
  }
  return ring;
}

}  // namespace weft::ipam
