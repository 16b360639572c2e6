// IPAM gossip on arbitrary bytes. The input is a sequence of messages (u16 length + bytes).
// Each is decoded (ipam::decode), and every decoded ring is checked and merged: re-encoding gives
// the same bytes' meaning, merging in either order gives the same ring (rings of the first ring's
// bootstrap), merging is idempotent, and the owners' spans tile the range. Every message is also
// delivered to a live IpamCore as a neighbour message, a unicast and a broadcast (malformed ones
// must throw DecodeError and change nothing), after which the core still allocates only inside
// its own space and never hands out an address twice.
#include <cstddef>
#include <cstdint>
#include <set>
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

struct NullSender : GossipSender {
  void send_neighbor(std::string_view, PeerName, ByteView) override {}
  void send_unicast(std::string_view, PeerName, ByteView) override {}
  void broadcast(std::string_view, ByteView) override {}
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
      require(decode(encode(d)).index() == d.index());
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
  NullSender sender;
  Env env;
  Store store;
  IpamConfig cfg;
  cfg.self = kSelf;
  cfg.range = parse_ipv4_cidr("10.32.0.0/26");
  IpamCore core(cfg, sender, env, store);
  core.start(0);
  int64_t now = 1;
  std::set<uint32_t> handed;
  auto alloc = [&](const std::string& h) {
    core.allocate(h, now, [&](const AllocResult& r) {
      if (r.ok()) require(handed.insert(r.address).second || !core.lookup(h).empty());
    });
  };
  alloc("before");
  for (const Bytes& m : msgs) {
    for (int how = 0; how < 3; ++how) {
      try {
        if (how == 0) core.on_neighbor(kOther, m, now);
        if (how == 1) core.on_unicast(kOther, m, now);
        if (how == 2) core.on_broadcast(kOther, kOther, m, now);
      } catch (const DecodeError&) {
      }
      now += 50;
      core.on_timer(now);
    }
    alloc("h" + std::to_string(now));
  }
  check_ring(core.ring());
  for (const auto& [addr, holder] : core.allocations().by_address()) {
    require(cfg.range.contains(addr));
    require(!reserved_address(cfg.range, addr));
  }
  return 0;
}
