// IPAM gossip on arbitrary bytes. The input is a sequence of messages (u16 length + bytes).
// Each is decoded (ipam::decode): re-encoding and decoding again gives the same message, field by
// field, and the same bytes as the first re-encoding. Every decoded ring is checked and merged:
// merging in either order gives the same ring (rings of the first ring's bootstrap), merging is
// idempotent, and the owners' spans tile the range. Every message is also delivered to a live
// IpamCore as a neighbour message, a unicast and a broadcast: one that does not decode must throw
// DecodeError, and a delivery that throws DecodeError must leave the ring, the allocations, the
// counters and the pending requests as they were and send nothing. Throughout, the core hands out
// addresses only inside its own space and the range, never one address to two holders, and its
// allocations are exactly the ones it acknowledged.
#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <tuple>
#include <vector>

#include "common/bytes.h"
#include "fuzz_common.h"
#include "ipam/ipam_core.h"
#include "ipam/messages.h"

using namespace weft;
using namespace weft::ipam;
using weft::fuzz::require;

namespace {

constexpr PeerName kSelf = 0x0a, kOther = 0x0b;

// Counts what the core sends (a rejected message must send nothing).
struct CountingSender : GossipSender {
  uint64_t sent = 0;
  void send_neighbor(std::string_view, PeerName, ByteView) override { ++sent; }
  void send_unicast(std::string_view, PeerName, ByteView) override { ++sent; }
  void broadcast(std::string_view, ByteView) override { ++sent; }
};
struct Env : IpamEnv {
  std::vector<PeerInfo> peers() override { return {{kSelf, "a", true}, {kOther, "b", true}}; }
  void log(Severity, const std::string&) override {}
};
struct Store : IpamStore {
  void save(const IpamState&) override {}
};

void check_ring(const Ring& r) {
  Bytes b;
  ByteWriter w(b);
  r.encode(w);
  ByteReader rd(b);
  require(Ring::decode(rd) == r);
  if (r.empty()) return;
  uint64_t covered = 0;
  std::set<PeerName> owners;
  for (const auto& [start, t] : r.tokens()) owners.insert(t.owner);
  for (PeerName o : owners)
    for (const Span& s : r.owned_by(o)) {
      covered += s.size();
      require(r.owner_of(s.start) == o);
      require(r.owner_of(uint32_t(s.end - 1)) == o);
    }
  require(covered == r.whole().size());
}

// a and b are the same message, field by field.
bool same_message(const Message& a, const Message& b) {
  if (a.index() != b.index()) return false;
  return std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        const T& y = std::get<T>(b);
        if constexpr (std::is_same_v<T, RingMsg>) return x.ring == y.ring;
        if constexpr (std::is_same_v<T, DigestMsg>) return x.digest == y.digest;
        if constexpr (std::is_same_v<T, ProposalMsg>)
          return std::tie(x.seq, x.since, x.quorum, x.seeds) ==
                 std::tie(y.seq, y.since, y.quorum, y.seeds);
        if constexpr (std::is_same_v<T, RequestMsg>)
          return std::tie(x.request_id, x.address, x.held) ==
                 std::tie(y.request_id, y.address, y.held);
        if constexpr (std::is_same_v<T, GrantMsg>)
          return std::tie(x.request_id, x.ring) == std::tie(y.request_id, y.ring);
        if constexpr (std::is_same_v<T, RefuseMsg>)
          return std::tie(x.request_id, x.reason, x.ring) ==
                 std::tie(y.request_id, y.reason, y.ring);
      },
      a);
}

bool decodes(ByteView b) {
  try {
    decode(b);
    return true;
  } catch (const DecodeError&) {
    return false;
  }
}

// What a rejected message must not change.
struct CoreSnapshot {
  Ring ring;
  std::map<uint32_t, std::string> allocations;
  std::vector<uint64_t> counters;
  size_t pending;
  uint64_t sent;
  bool operator==(const CoreSnapshot&) const = default;
};

CoreSnapshot snapshot(const IpamCore& core, const CountingSender& sender) {
  const IpamCounters& c = core.counters();
  return {core.ring(),
          core.allocations().by_address(),
          {c.allocations, c.releases, c.requests_sent, c.grants_given, c.refusals_received,
           c.rings_adopted, c.bootstrap_conflicts, c.store_failures, c.reclaims, c.conflicts_found},
          core.pending(),
          sender.sent};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteView in(data, size);
  std::vector<Bytes> msgs;
  for (size_t pos = 0; pos + 2 <= in.size() && msgs.size() < 16;) {
    size_t len = (size_t(in[pos]) << 8) | in[pos + 1];
    pos += 2;
    len = std::min(len, in.size() - pos);
    msgs.emplace_back(in.begin() + long(pos), in.begin() + long(pos + len));
    pos += len;
  }
  std::vector<Ring> rings;
  for (const Bytes& m : msgs) {
    try {
      Message d = decode(m);
      Bytes once = encode(d);
      Message again = decode(once);
      require(same_message(again, d));
      require(encode(again) == once);
      if (auto* r = std::get_if<RingMsg>(&d)) rings.push_back(r->ring);
      if (auto* g = std::get_if<GrantMsg>(&d)) rings.push_back(g->ring);
    } catch (const DecodeError&) {
    }
  }
  for (const Ring& r : rings) check_ring(r);
  if (!rings.empty()) {
    const Ring& base = rings.front();
    Ring fwd = base, rev = base;
    for (const Ring& r : rings)
      if (r.same_bootstrap(base) && r.range() == base.range()) fwd.merge(r);
    for (auto it = rings.rbegin(); it != rings.rend(); ++it)
      if (it->same_bootstrap(base) && it->range() == base.range()) rev.merge(*it);
    require(fwd == rev);
    Ring again = fwd;
    require(again.merge(fwd) == MergeResult::kUnchanged);
    check_ring(fwd);
  }

  // A live core, bootstrapped alone over a small range, fed every message three ways.
  CountingSender sender;
  Env env;
  Store store;
  IpamConfig cfg;
  cfg.self = kSelf;
  cfg.range = parse_ipv4_cidr("10.32.0.0/26");
  IpamCore core(cfg, sender, env, store);
  core.start(0);
  int64_t now = 1;
  std::map<uint32_t, std::string> acked;  // every acknowledged allocation: address -> holder
  auto alloc = [&](const std::string& h) {
    core.allocate(h, now, [&, h](const AllocResult& r) {
      if (!r.ok()) return;
      require(cfg.range.contains(r.address) && !reserved_address(cfg.range, r.address));
      // Never one address to two holders: an address acknowledged before went to this holder.
      auto [it, fresh] = acked.emplace(r.address, h);
      require(fresh || it->second == h);
      // Handed out from the core's own space, and recorded for this holder.
      require(core.ring().owner_of(r.address) == kSelf);
      const std::string* holder = core.allocations().holder_of(r.address);
      require(holder && *holder == h);
    });
  };
  alloc("before");
  for (const Bytes& m : msgs) {
    bool malformed = !decodes(m);
    for (int how = 0; how < 3; ++how) {
      CoreSnapshot before = snapshot(core, sender);
      bool threw = false;
      try {
        if (how == 0) core.on_neighbor(kOther, m, now);
        if (how == 1) core.on_unicast(kOther, m, now);
        if (how == 2) core.on_broadcast(kOther, kOther, m, now);
      } catch (const DecodeError&) {
        threw = true;
      }
      require(threw || !malformed);
      if (threw) require(snapshot(core, sender) == before);
      now += 50;
      core.on_timer(now);
    }
    alloc("h" + std::to_string(now));
  }
  check_ring(core.ring());
  for (const auto& [addr, holder] : core.allocations().by_address()) {
    require(cfg.range.contains(addr));
    require(!reserved_address(cfg.range, addr));
    // Nothing allocated that was not acknowledged (to that holder).
    auto it = acked.find(addr);
    require(it != acked.end() && it->second == holder);
  }
  return 0;
}
