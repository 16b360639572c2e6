// Mac helpers and MacTable: targeted tests for learning, moves, expiry, forgetting a peer and the
// size bound, then seeded random operations checked against a naive model (std::map + timestamps)
// on every answer.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <optional>
#include <random>
#include <stdexcept>
#include <unordered_set>
#include <vector>

#include "router/dataplane/mac.h"
#include "router/dataplane/mac_table.h"

using weft::kLocalPeer;
using weft::LearnResult;
using weft::LearnStatus;
using weft::Mac;
using weft::MacTable;
using weft::MacTableConfig;
using weft::PeerName;

namespace {

Mac mac(uint64_t v) {
  return Mac::from_u64(0x020000000000ull | v);
}  // locally administered

// What the table must answer, written the obvious way.
struct Model {
  struct Entry {
    PeerName owner;
    int64_t seen;
  };
  MacTableConfig cfg;
  std::map<Mac, Entry> m;

  bool expired(const Entry& e, int64_t now) const { return now - e.seen >= cfg.expiry_ms; }
  LearnResult learn(const Mac& k, PeerName owner, int64_t now) {
    if (k.is_multicast() || k.is_zero()) return {LearnStatus::kInvalid};
    auto it = m.find(k);
    if (it == m.end()) {
      if (m.size() >= cfg.max_entries) return {LearnStatus::kTableFull};
      m[k] = {owner, now};
      return {LearnStatus::kNew};
    }
    if (!expired(it->second, now) && it->second.owner != owner &&
        now - it->second.seen < cfg.move_hold_ms)
      return {LearnStatus::kConflict, it->second.owner};
    LearnResult r{LearnStatus::kRefreshed};
    if (expired(it->second, now)) {
      r.status = LearnStatus::kNew;
    } else if (it->second.owner != owner) {
      r = {LearnStatus::kMoved, it->second.owner};
    }
    it->second.owner = owner;
    it->second.seen = std::max(it->second.seen, now);
    return r;
  }
  bool held_by_other(const Mac& k, PeerName owner, int64_t now) const {
    auto it = m.find(k);
    return it != m.end() && !expired(it->second, now) && it->second.owner != owner &&
           now - it->second.seen < cfg.move_hold_ms;
  }
  std::optional<PeerName> lookup(const Mac& k, int64_t now) const {
    auto it = m.find(k);
    if (it == m.end() || expired(it->second, now)) return std::nullopt;
    return it->second.owner;
  }
  size_t expire(int64_t now) {
    return std::erase_if(m, [&](const auto& kv) { return expired(kv.second, now); });
  }
  size_t forget_peer(PeerName p) {
    return std::erase_if(m, [&](const auto& kv) { return kv.second.owner == p; });
  }
};

bool same(const LearnResult& a, const LearnResult& b) {
  return a.status == b.status &&
         ((a.status != LearnStatus::kMoved && a.status != LearnStatus::kConflict) ||
          a.previous_owner == b.previous_owner);
}

}  // namespace

TEST_CASE("Mac formats, parses and classifies addresses") {
  const Mac m{{0x0a, 0x1b, 0x2c, 0x3d, 0x4e, 0x5f}};
  CHECK(m.to_string() == "0a:1b:2c:3d:4e:5f");
  CHECK(Mac::parse("0a:1b:2c:3d:4e:5f") == m);
  CHECK(Mac::parse("0A:1B:2C:3D:4E:5F") == m);
  CHECK(m.to_u64() == 0x0a1b2c3d4e5full);
  CHECK(Mac::from_u64(0x0a1b2c3d4e5full) == m);
  CHECK(Mac::from_u64(0xffff0a1b2c3d4e5full) == m);  // only the low 48 bits
  for (const char* bad : {"", "0a:1b:2c:3d:4e", "0a:1b:2c:3d:4e:5f:", "0a-1b-2c-3d-4e-5f",
                          "0a:1b:2c:3d:4e:5g", "0a:1b:2c:3d:4e:5 ", "a:1b:2c:3d:4e:5f0"}) {
    CAPTURE(bad);
    CHECK_FALSE(Mac::parse(bad).has_value());
  }

  CHECK_FALSE(m.is_multicast());
  CHECK(m.is_unicast_source());
  CHECK(Mac{{0x01, 0x00, 0x5e, 0x00, 0x00, 0x01}}.is_multicast());  // IPv4 multicast
  CHECK(Mac{{0x33, 0x33, 0x00, 0x00, 0x00, 0x01}}.is_multicast());  // IPv6 multicast
  CHECK_FALSE(Mac{{0x33, 0x33, 0x00, 0x00, 0x00, 0x01}}.is_broadcast());
  CHECK(weft::kBroadcastMac.is_broadcast());
  CHECK(weft::kBroadcastMac.is_multicast());
  CHECK(weft::kBroadcastMac.to_string() == "ff:ff:ff:ff:ff:ff");
  CHECK(Mac{}.is_zero());
  CHECK_FALSE(Mac{}.is_unicast_source());
  CHECK_FALSE(weft::kBroadcastMac.is_unicast_source());
  CHECK(Mac{{0x02, 0, 0, 0, 0, 0}}.is_unicast_source());  // locally administered unicast

  std::unordered_set<Mac> set;
  for (uint64_t i = 0; i < 1000; ++i) set.insert(mac(i));
  set.insert(mac(7));
  CHECK(set.size() == 1000);
  CHECK(mac(1) < mac(2));
}

TEST_CASE("MacTable learns, refreshes and detects moves") {
  MacTable t;
  CHECK(t.size() == 0);
  CHECK_FALSE(t.lookup(mac(1), 0).has_value());

  CHECK(t.learn(mac(1), 0xaa, 1000).status == LearnStatus::kNew);
  CHECK(t.lookup(mac(1), 1000) == PeerName{0xaa});
  CHECK(t.learn(mac(1), 0xaa, 2000).status == LearnStatus::kRefreshed);
  CHECK(t.learn(mac(2), kLocalPeer, 2000).status == LearnStatus::kNew);
  CHECK(t.size() == 2);

  const LearnResult r = t.learn(mac(1), 0xbb, 3000);
  CHECK(r.status == LearnStatus::kMoved);
  CHECK(r.previous_owner == 0xaa);
  CHECK(t.lookup(mac(1), 3000) == PeerName{0xbb});
  const LearnResult back = t.learn(mac(1), 0xaa, 3001);
  CHECK(back.status == LearnStatus::kMoved);
  CHECK(back.previous_owner == 0xbb);
  CHECK(t.lookup(mac(2), 3001) == kLocalPeer);
  CHECK(t.size() == 2);

  const auto e = t.entries();
  REQUIRE(e.size() == 2);
  CHECK(e[0].key == mac(1));
  CHECK(e[0].owner == 0xaa);
  CHECK(e[0].last_seen_ms == 3001);
  CHECK(e[1].key == mac(2));
  CHECK(e[1].owner == kLocalPeer);
}

TEST_CASE("MacTable holds a binding its owner used recently; a quiet one moves") {
  MacTable t({.expiry_ms = 60'000, .move_hold_ms = 1000});
  CHECK(t.learn(mac(1), 0xaa, 0).status == LearnStatus::kNew);
  CHECK_FALSE(t.held_by_other(mac(1), 0xaa, 500));
  CHECK(t.held_by_other(mac(1), 0xbb, 500));
  const LearnResult r = t.learn(mac(1), 0xbb, 500);
  CHECK(r.status == LearnStatus::kConflict);
  CHECK(r.previous_owner == 0xaa);
  CHECK(t.lookup(mac(1), 500) == PeerName{0xaa});  // unchanged, timestamp too:
  CHECK(t.learn(mac(1), 0xbb, 999).status == LearnStatus::kConflict);
  CHECK_FALSE(t.held_by_other(mac(1), 0xbb, 1000));
  CHECK(t.learn(mac(1), 0xbb, 1000).status == LearnStatus::kMoved);
  // The owner refreshes: held again from then on.
  CHECK(t.learn(mac(1), 0xbb, 1500).status == LearnStatus::kRefreshed);
  CHECK(t.learn(mac(1), 0xaa, 2499).status == LearnStatus::kConflict);
  CHECK_FALSE(t.held_by_other(mac(2), 0xbb, 0));  // unknown: nobody holds it
}

TEST_CASE("IpTable keeps IPv4 and IPv6 addresses apart and never learns non-unicast sources") {
  using weft::InnerIp;
  using weft::IpTable;
  const uint8_t v4[4] = {10, 32, 1, 1};
  uint8_t v6[16] = {0xfd};
  v6[15] = 1;
  IpTable t({.move_hold_ms = 1000});
  CHECK(t.learn(InnerIp::v4(v4), 0xaa, 0).status == LearnStatus::kNew);
  CHECK(t.learn(InnerIp::v6(v6), 0xbb, 0).status == LearnStatus::kNew);
  CHECK(t.lookup(InnerIp::v4(v4), 0) == PeerName{0xaa});
  CHECK(t.lookup(InnerIp::v6(v6), 0) == PeerName{0xbb});
  CHECK(t.learn(InnerIp::v4(v4), 0xbb, 10).status == LearnStatus::kConflict);
  const uint8_t bad4[][4] = {{0, 0, 0, 0}, {255, 255, 255, 255}, {224, 0, 0, 1}, {127, 0, 0, 1}};
  for (const auto& a : bad4)
    CHECK(t.learn(InnerIp::v4(a), 0xaa, 0).status == LearnStatus::kInvalid);
  uint8_t mc6[16] = {0xff, 0x02};
  mc6[15] = 1;
  uint8_t lo6[16] = {};
  lo6[15] = 1;
  CHECK(t.learn(InnerIp::v6(mc6), 0xaa, 0).status == LearnStatus::kInvalid);
  CHECK(t.learn(InnerIp::v6(lo6), 0xaa, 0).status == LearnStatus::kInvalid);
  CHECK(t.learn(InnerIp{}, 0xaa, 0).status == LearnStatus::kInvalid);
  CHECK(t.size() == 2);
  CHECK(InnerIp::v4(v4).to_string() == "10.32.1.1");
  CHECK(InnerIp::v6(v6).to_string() == "fd00::1");
  CHECK(InnerIp::v4(v4).is_v4());
  CHECK_FALSE(InnerIp::v6(v6).is_v4());
}

TEST_CASE("MacTable never learns group or zero addresses") {
  MacTable t;
  for (const Mac& m : {weft::kBroadcastMac, Mac{{0x01, 0x00, 0x5e, 0x7f, 0x00, 0x01}},
                       Mac{{0x33, 0x33, 0xff, 0x00, 0x00, 0x01}}, Mac{}}) {
    CAPTURE(m.to_string());
    CHECK(t.learn(m, 0xaa, 0).status == LearnStatus::kInvalid);
    CHECK_FALSE(t.lookup(m, 0).has_value());
  }
  CHECK(t.size() == 0);
}

TEST_CASE("MacTable expires entries not seen for the expiry") {
  MacTable t({.expiry_ms = 1000});
  t.learn(mac(1), 0xaa, 0);
  t.learn(mac(2), 0xbb, 500);
  CHECK(t.lookup(mac(1), 999) == PeerName{0xaa});
  CHECK_FALSE(t.lookup(mac(1), 1000).has_value());  // gone at once, before expire() runs
  CHECK(t.size() == 2);
  CHECK(t.learn(mac(2), 0xbb, 1400).status == LearnStatus::kRefreshed);  // extends its life

  // Past its expiry a binding is forgotten: re-learning it behind another peer is not a move.
  CHECK(t.learn(mac(1), 0xcc, 1200).status == LearnStatus::kNew);
  CHECK(t.lookup(mac(1), 1200) == PeerName{0xcc});

  CHECK(t.expire(2199) == 0);
  CHECK(t.expire(2200) == 1);  // mac(1), last seen at 1200
  CHECK(t.size() == 1);
  CHECK(t.lookup(mac(2), 2399) == PeerName{0xbb});
  CHECK(t.expire(2400) == 1);
  CHECK(t.size() == 0);
  CHECK(t.learn(mac(2), 0xaa, 2400).status == LearnStatus::kNew);
}

TEST_CASE("MacTable keeps the later timestamp when time runs backwards") {
  MacTable t({.expiry_ms = 1000});
  t.learn(mac(1), 0xaa, 5000);
  CHECK(t.learn(mac(1), 0xaa, 4000).status == LearnStatus::kRefreshed);
  CHECK(t.lookup(mac(1), 4500) == PeerName{0xaa});  // stamped in the future: fresh
  CHECK(t.lookup(mac(1), 5999) == PeerName{0xaa});
  CHECK_FALSE(t.lookup(mac(1), 6000).has_value());
}

TEST_CASE("MacTable forgets every MAC of a peer that left") {
  MacTable t;
  for (uint64_t i = 0; i < 300; ++i) t.learn(mac(i), i % 3 == 0 ? 0xaa : 0xbb, 0);
  CHECK(t.forget_peer(0xaa) == 100);
  CHECK(t.forget_peer(0xaa) == 0);
  CHECK(t.size() == 200);
  for (uint64_t i = 0; i < 300; ++i) {
    CAPTURE(i);
    CHECK(t.lookup(mac(i), 0) == (i % 3 == 0 ? std::nullopt : std::optional<PeerName>(0xbb)));
  }
  CHECK(t.forget_peer(0xbb) == 200);
  CHECK(t.size() == 0);
}

TEST_CASE("MacTable refuses new MACs when full and keeps the ones it has") {
  MacTable t({.expiry_ms = 1000, .max_entries = 4});
  for (uint64_t i = 0; i < 4; ++i) CHECK(t.learn(mac(i), 0xaa, 0).status == LearnStatus::kNew);
  CHECK(t.learn(mac(9), 0xaa, 10).status == LearnStatus::kTableFull);
  CHECK_FALSE(t.lookup(mac(9), 10).has_value());
  CHECK(t.size() == 4);
  // Known MACs still refresh and move while full.
  CHECK(t.learn(mac(0), 0xaa, 600).status == LearnStatus::kRefreshed);
  CHECK(t.learn(mac(1), 0xbb, 600).status == LearnStatus::kMoved);
  for (uint64_t i = 0; i < 4; ++i) CHECK(t.lookup(mac(i), 600).has_value());
  // Expiry makes room again.
  CHECK(t.expire(1000) == 2);
  CHECK(t.learn(mac(9), 0xaa, 1000).status == LearnStatus::kNew);
  CHECK(t.size() == 3);

  MacTable none({.max_entries = 0});
  CHECK(none.learn(mac(1), 0xaa, 0).status == LearnStatus::kTableFull);
  CHECK(none.size() == 0);
}

TEST_CASE("MacTable grows only for new MACs, never on the steady path") {
  MacTable t({.max_entries = 5000});
  for (uint64_t i = 0; i < 5000; ++i) REQUIRE(t.learn(mac(i), i, 0).status == LearnStatus::kNew);
  const size_t cap = t.capacity();
  CHECK(cap * 3 >= t.size() * 4);  // at most 3/4 full
  CHECK(cap <= 8192);              // and never bigger than max_entries needs
  CHECK(t.learn(mac(5000), 1, 0).status == LearnStatus::kTableFull);
  for (int round = 0; round < 3; ++round) {
    for (uint64_t i = 0; i < 5000; ++i) {
      t.learn(mac(i), i + static_cast<uint64_t>(round), 10 + round);
      REQUIRE(t.lookup(mac(i), 10 + round).has_value());
    }
  }
  t.expire(1'000'000'000);
  CHECK(t.size() == 0);
  for (uint64_t i = 0; i < 5000; ++i) t.learn(mac(i + 7000), 1, 1'000'000'000);
  CHECK(t.capacity() == cap);  // the slots are reused, not reallocated
}

TEST_CASE("MacTable rejects a nonsensical configuration") {
  CHECK_THROWS_AS(MacTable({.expiry_ms = 0}), std::invalid_argument);
  CHECK_THROWS_AS(MacTable({.max_entries = size_t{1} << 40}), std::invalid_argument);
}

TEST_CASE("MacTable agrees with a naive model on random operations") {
  struct Scenario {
    int64_t expiry_ms;
    size_t max_entries;
    uint64_t mac_space;  // small: many collisions of learn on the same MAC, many moves
    int64_t max_step_ms;
    int64_t move_hold_ms;
  };
  const Scenario scenarios[] = {
      {1000, 24, 40, 120, 0},     // bound hit often, entries expire often
      {1000, 48, 60, 40, 0},      // 48 of 64 slots: long probe runs, wrapping past the end
      {5000, 3, 8, 600, 0},       // tiny table
      {60000, 1500, 2000, 5, 0},  // growth from 64 slots, few expiries
      {300, 200, 150, 30, 0},     {1000, 24, 40, 120, 200},  // moves held while the owner is active
      {60000, 1500, 2000, 5, 50},
  };
  const PeerName owners[] = {0x111111111111, 0x222222222222, 0x333333333333, kLocalPeer};
  for (uint64_t seed = 1; seed <= 42; ++seed) {
    const Scenario& sc = scenarios[seed % std::size(scenarios)];
    CAPTURE(seed);
    std::mt19937_64 rng(seed);
    auto pick = [&](uint64_t n) { return rng() % n; };
    MacTableConfig cfg{.expiry_ms = sc.expiry_ms,
                       .max_entries = sc.max_entries,
                       .hash_seed = rng(),
                       .move_hold_ms = sc.move_hold_ms};
    MacTable t(cfg);
    Model model{cfg, {}};
    // A few group and zero addresses in the mix, which must never be learned.
    auto random_mac = [&]() -> Mac {
      const uint64_t r = pick(sc.mac_space + 3);
      if (r == sc.mac_space) return weft::kBroadcastMac;
      if (r == sc.mac_space + 1) return Mac{{0x01, 0x00, 0x5e, 0, 0, 1}};
      if (r == sc.mac_space + 2) return Mac{};
      return mac(r * 0x10001);  // spread over several bytes
    };
    int64_t now = static_cast<int64_t>(pick(1'000'000));
    bool ok = true;
    for (int step = 0; step < 20000 && ok; ++step) {
      now += static_cast<int64_t>(pick(static_cast<uint64_t>(sc.max_step_ms)));
      if (pick(500) == 0) now += sc.expiry_ms;  // a quiet spell: everything expires
      const uint64_t op = pick(100);
      if (op < 55) {
        const Mac m = random_mac();
        const PeerName o = owners[pick(pick(4) == 0 ? 4 : 2)];  // mostly two owners: moves
        const LearnResult got = t.learn(m, o, now), want = model.learn(m, o, now);
        if (!same(got, want)) {
          FAIL_CHECK("learn disagrees at step " << step << " on " << m.to_string());
          ok = false;
        }
      } else if (op < 90) {
        const Mac m = random_mac();
        const PeerName o = owners[pick(4)];
        if (t.lookup(m, now) != model.lookup(m, now) ||
            t.held_by_other(m, o, now) != model.held_by_other(m, o, now)) {
          FAIL_CHECK("lookup disagrees at step " << step << " on " << m.to_string());
          ok = false;
        }
      } else if (op < 97) {
        if (t.expire(now) != model.expire(now)) {
          FAIL_CHECK("expire disagrees at step " << step);
          ok = false;
        }
      } else {
        const PeerName o = owners[pick(4)];
        if (t.forget_peer(o) != model.forget_peer(o)) {
          FAIL_CHECK("forget_peer disagrees at step " << step);
          ok = false;
        }
      }
      if (t.size() != model.m.size()) {
        FAIL_CHECK("size disagrees at step " << step);
        ok = false;
      }
      // Every so often, every address: an entry lost in a probe run shows up here.
      if (step % 97 == 0) {
        for (uint64_t r = 0; r < sc.mac_space; ++r) {
          if (t.lookup(mac(r * 0x10001), now) != model.lookup(mac(r * 0x10001), now)) {
            FAIL_CHECK("full scan disagrees at step " << step << " on MAC #" << r);
            ok = false;
            break;
          }
        }
      }
    }
    const auto entries = t.entries();
    REQUIRE(entries.size() == model.m.size());
    size_t i = 0;
    for (const auto& [m, e] : model.m) {
      CHECK(entries[i].key == m);
      CHECK(entries[i].owner == e.owner);
      CHECK(entries[i].last_seen_ms == e.seen);
      ++i;
    }
  }
}
