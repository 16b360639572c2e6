// The IPAM ring: seeding, giving space away, rmpeer take-over, the wire form (golden vector and
// malformed input), and the CRDT laws (merge commutative, associative, idempotent) on rings
// produced by seeded random histories of legal edits.
#include <doctest/doctest.h>

#include <random>
#include <vector>

#include "common/bytes.h"
#include "ipam/ring.h"

using namespace weft;
using namespace weft::ipam;

namespace {

Ipv4Cidr cidr(const char* s) {
  return parse_ipv4_cidr(s);
}
uint32_t ip(const char* s) {
  return *parse_ipv4(s);
}

Bytes wire(const Ring& r) {
  Bytes b;
  ByteWriter w(b);
  r.encode(w);
  return b;
}

Ring unwire(ByteView b) {
  ByteReader r(b);
  Ring ring = Ring::decode(r);
  r.expect_done();
  return ring;
}

// A naive check of the ring's meaning: who owns each address, address by address.
std::vector<PeerName> owners(const Ring& r) {
  std::vector<PeerName> out;
  Span w = r.whole();
  for (uint64_t a = w.start; a < w.end; ++a) out.push_back(*r.owner_of(uint32_t(a)));
  return out;
}

}  // namespace

TEST_CASE("a seeded ring splits the range evenly among the seeds, in name order") {
  Ring r = Ring::seeded(cidr("10.32.0.0/28"), {30, 10, 20}, 7);
  CHECK(r.seeds() == std::vector<PeerName>{10, 20, 30});
  CHECK(r.epoch() == 7);
  REQUIRE(r.tokens().size() == 3);
  CHECK(r.owner_of(ip("10.32.0.0")) == PeerName{10});
  CHECK(r.owner_of(ip("10.32.0.4")) == PeerName{10});
  CHECK(r.owner_of(ip("10.32.0.5")) == PeerName{20});
  CHECK(r.owner_of(ip("10.32.0.15")) == PeerName{30});
  // Free counts leave out the network and broadcast addresses.
  auto free = r.free_by_owner();
  CHECK(free[10] == 4);
  CHECK(free[20] == 5);
  CHECK(free[30] == 5);
  // Same inputs, same ring: that is what lets every seed build it alone.
  CHECK(Ring::seeded(cidr("10.32.0.0/28"), {20, 30, 10}, 7) == r);
}

TEST_CASE("give moves exactly the span, keeps the rest, and only the owner may give") {
  Ring r = Ring::seeded(cidr("10.0.0.0/24"), {1}, 0);
  r.give(1, {ip("10.0.0.64"), ip("10.0.0.128")}, 2);
  CHECK(r.owner_of(ip("10.0.0.63")) == PeerName{1});
  CHECK(r.owner_of(ip("10.0.0.64")) == PeerName{2});
  CHECK(r.owner_of(ip("10.0.0.127")) == PeerName{2});
  CHECK(r.owner_of(ip("10.0.0.128")) == PeerName{1});
  CHECK(r.owned_by(2) == std::vector<Span>{{ip("10.0.0.64"), ip("10.0.0.128")}});
  CHECK(r.owned_by(1) == std::vector<Span>{{ip("10.0.0.0"), ip("10.0.0.64")},
                                           {ip("10.0.0.128"), uint64_t{ip("10.0.0.0")} + 256}});
  CHECK_THROWS_AS(r.give(1, {ip("10.0.0.100"), ip("10.0.0.101")}, 3), std::logic_error);
  CHECK_THROWS_AS(r.give(2, {ip("10.0.0.60"), ip("10.0.0.70")}, 3), std::logic_error);
  // Giving a span back over existing tokens bumps their versions.
  uint32_t v = r.tokens().at(ip("10.0.0.64")).version;
  r.give(2, {ip("10.0.0.64"), ip("10.0.0.128")}, 1);
  CHECK(r.tokens().at(ip("10.0.0.64")).version == v + 1);
  CHECK(r.owned_by(1).size() == 1);
}

TEST_CASE("take_over hands a gone peer's tokens to the taker with higher versions") {
  Ring r = Ring::seeded(cidr("10.0.0.0/24"), {1, 2, 3}, 0);
  Ring old = r;
  CHECK(r.take_over(1, 2) == 85);
  CHECK(r.owned_by(2).empty());
  // Everyone else's copy accepts it: the versions moved forward.
  Ring other = old;
  CHECK(other.merge(r) == MergeResult::kChanged);
  CHECK(other == r);
}

TEST_CASE("ring wire form: golden vector and round trip") {
  Ring r = Ring::seeded(cidr("10.32.0.0/30"), {0xce31e006451a}, 0x0102);
  const char* kHex =
      "0a200000"          // range network
      "1e"                // prefix 30
      "0000000000000102"  // epoch
      "0001"
      "0000ce31e006451a"  // seeds
      "00000001"          // one token
      "0a200000"
      "0000ce31e006451a"
      "00000001"
      "00000002";  // start, owner, version, free
  CHECK(to_hex(wire(r)) == kHex);
  Bytes b;
  REQUIRE(from_hex(kHex, b));
  CHECK(unwire(b) == r);
  CHECK(unwire(wire(Ring(cidr("10.32.0.0/12")))).empty());
}

TEST_CASE("ring decoder rejects malformed rings") {
  Ring good = Ring::seeded(cidr("10.32.0.0/28"), {1, 2}, 0);
  Bytes b = wire(good);
  auto rejects = [](Bytes x) { CHECK_THROWS_AS(unwire(x), DecodeError); };
  for (size_t n = 0; n < b.size(); ++n) rejects(Bytes(b.begin(), b.begin() + long(n)));
  Bytes x = b;
  x[4] = 31;  // prefix out of the usable range
  rejects(x);
  x = b;
  x[3] = 1;  // host bits in the range
  rejects(x);
  x = b;
  x[20] = 0, x[21] = 0, x[22] = 0, x[23] = 0, x[24] = 0, x[25] = 0, x[26] = 0, x[27] = 0;  // seed 0
  rejects(x);
  // Tokens out of order: swap the two tokens' starts.
  size_t t0 = 4 + 1 + 8 + 2 + 16 + 4, t1 = t0 + 20;
  x = b;
  std::swap_ranges(x.begin() + long(t0), x.begin() + long(t0 + 4), x.begin() + long(t1));
  rejects(x);
  // A first token that is not the range's start.
  x = b;
  x[t0 + 3] = 1;
  rejects(x);
}

TEST_CASE("merge: the greater entry per token wins, separate bootstraps and ranges never mix") {
  Ring a = Ring::seeded(cidr("10.0.0.0/24"), {1, 2}, 5);
  Ring b = a;
  b.give(2, {ip("10.0.0.200"), ip("10.0.0.210")}, 1);
  Ring a2 = a;
  CHECK(a2.merge(b) == MergeResult::kChanged);
  CHECK(a2 == b);
  CHECK(a2.merge(b) == MergeResult::kUnchanged);
  CHECK(b.merge(a) == MergeResult::kUnchanged);

  Ring later = Ring::seeded(cidr("10.0.0.0/24"), {1, 2}, 6);
  CHECK(a2.merge(later) == MergeResult::kSeedConflict);
  CHECK(a.wins_over(later));
  CHECK(!later.wins_over(a));
  Ring other_seeds = Ring::seeded(cidr("10.0.0.0/24"), {1, 3}, 5);
  CHECK(a.wins_over(other_seeds));
  CHECK(a2.merge(Ring::seeded(cidr("10.0.1.0/24"), {1, 2}, 5)) == MergeResult::kRangeMismatch);
  Ring empty(cidr("10.0.0.0/24"));
  CHECK(empty.merge(a) == MergeResult::kChanged);
  CHECK(empty == a);
}

TEST_CASE("merge is commutative, associative and idempotent on random histories (seeded)") {
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    CAPTURE(seed);
    std::mt19937_64 rng(seed);
    const int peers = 5;
    // Each peer holds its own copy; legal edits are made by owners on their copies; copies are
    // merged at random. Snapshots collect many divergent rings of one history.
    std::vector<Ring> copy(peers, Ring::seeded(cidr("10.1.0.0/22"), {1, 2, 3, 4, 5}, 1));
    std::vector<Ring> snaps;
    for (int step = 0; step < 200; ++step) {
      int p = int(rng() % peers);
      PeerName self = PeerName(p + 1);
      switch (rng() % 4) {
        case 0: {  // give part of one of our spans to someone
          auto own = copy[p].owned_by(self);
          if (own.empty()) break;
          Span s = own[rng() % own.size()];
          uint64_t len = 1 + rng() % s.size();
          uint64_t off = rng() % (s.size() - len + 1);
          copy[p].give(self, {uint32_t(s.start + off), s.start + off + len},
                       PeerName(1 + rng() % peers));
          break;
        }
        case 1: {  // publish a free count
          for (const auto& [start, t] : copy[p].tokens())
            if (t.owner == self) {
              copy[p].set_free(self, start, uint32_t(rng() % 100));
              break;
            }
          break;
        }
        default: {
          int q = int(rng() % peers);
          CHECK(copy[p].merge(copy[q]) != MergeResult::kSeedConflict);
        }
      }
      if (rng() % 5 == 0) snaps.push_back(copy[p]);
    }
    REQUIRE(snaps.size() >= 3);
    for (int i = 0; i < 60; ++i) {
      const Ring& x = snaps[rng() % snaps.size()];
      const Ring& y = snaps[rng() % snaps.size()];
      const Ring& z = snaps[rng() % snaps.size()];
      Ring xy = x, yx = y;
      xy.merge(y);
      yx.merge(x);
      CHECK(xy == yx);
      CHECK(xy.digest() == yx.digest());
      Ring xx = x;
      xx.merge(x);
      CHECK(xx == x);
      Ring l = x, r = y;
      l.merge(y);
      l.merge(z);
      r.merge(z);
      Ring r2 = x;
      r2.merge(r);
      CHECK(l == r2);
      CHECK(owners(l).size() == 1024);
    }
    // Everyone converges to the same ring once all copies are merged.
    Ring all = copy[0];
    for (const Ring& c : copy) all.merge(c);
    for (Ring c : copy) {
      c.merge(all);
      CHECK(c == all);
    }
  }
}
