// DnsZone: the weave failures it must not repeat (AAAA on a known name is NOERROR, not NXDOMAIN;
// a removed source leaves nothing behind), then seeded random upserts, removes and replace_alls
// checked against a naive model (a list of entries, every answer computed by brute force) on
// every name, type and address after every step.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <stdexcept>

#include "common/ipv4_cidr.h"
#include "dns/message.h"
#include "dns/zone.h"

using namespace weft;
using namespace weft::dns;
using Kind = DnsZone::Kind;

namespace {

Name fqdn(const std::string& text) {
  return *parse_name(text);
}
uint32_t ip(const char* s) {
  return *parse_ipv4(s);
}

struct Model {
  std::map<std::string, ZoneEntry> entries;  // by key, names lower-cased relative

  DnsZone::Answer lookup(const std::string& rel, uint16_t type, uint64_t rotation) const {
    DnsZone::Answer a;
    if (rel.empty()) {
      a.kind = type == kTypeSOA ? Kind::kSoa : Kind::kNoData;
      return a;
    }
    bool exists = false, below = false;
    std::set<uint32_t> addrs;
    for (const auto& [k, e] : entries) {
      if (e.name == rel) {
        exists = true;
        addrs.insert(e.addresses.begin(), e.addresses.end());
      }
      if (e.name.size() > rel.size() && e.name.ends_with("." + rel)) below = true;
    }
    if (!exists) {
      a.kind = below ? Kind::kNoData : Kind::kNxDomain;
      return a;
    }
    if ((type != kTypeA && type != kTypeANY) || addrs.empty()) {
      a.kind = Kind::kNoData;
      return a;
    }
    a.kind = Kind::kAddresses;
    a.addresses.assign(addrs.begin(), addrs.end());
    std::rotate(a.addresses.begin(), a.addresses.begin() + long(rotation % addrs.size()),
                a.addresses.end());
    return a;
  }
  std::vector<std::string> ptr(uint32_t addr) const {
    std::set<std::string> names;
    for (const auto& [k, e] : entries)
      if (std::count(e.addresses.begin(), e.addresses.end(), addr)) names.insert(e.name);
    return {names.begin(), names.end()};
  }
};

std::string random_case(const std::string& s, std::mt19937& rng) {
  std::string out = s;
  for (char& c : out)
    if (c >= 'a' && c <= 'z' && rng() % 2) c = char(c - 'a' + 'A');
  return out;
}

}  // namespace

TEST_CASE("dns zone: names, namespaces, NODATA, NXDOMAIN, PTR") {
  DnsZone z;
  CHECK(DnsZone::workload_name("web", "default") == "web");
  CHECK(DnsZone::workload_name("web", "shop") == "web.shop");
  z.upsert("workload:h1/w1", DnsZone::workload_name("web", "default"), {ip("10.32.0.2")});
  z.upsert("workload:h2/w2", DnsZone::workload_name("web", "shop"), {ip("10.32.0.3")});
  z.upsert("manual:web", "web.weft.local.", {ip("10.32.0.9"), ip("10.32.0.2")});

  auto a = z.lookup(fqdn("WEB.weft.LOCAL"), kTypeA, 0);
  CHECK(a.kind == Kind::kAddresses);
  CHECK(a.addresses == std::vector<uint32_t>{ip("10.32.0.2"), ip("10.32.0.9")});
  CHECK(z.lookup(fqdn("web.weft.local"), kTypeA, 1).addresses ==
        std::vector<uint32_t>{ip("10.32.0.9"), ip("10.32.0.2")});
  CHECK(z.lookup(fqdn("web.shop.weft.local"), kTypeA, 0).addresses ==
        std::vector<uint32_t>{ip("10.32.0.3")});
  CHECK(z.lookup(fqdn("web.weft.local"), kTypeAAAA, 0).kind == Kind::kNoData);  // weave #2244
  CHECK(z.lookup(fqdn("shop.weft.local"), kTypeA, 0).kind == Kind::kNoData);    // RFC 8020
  CHECK(z.lookup(fqdn("nope.weft.local"), kTypeA, 0).kind == Kind::kNxDomain);
  CHECK(z.lookup(fqdn("weft.local"), kTypeSOA, 0).kind == Kind::kSoa);
  CHECK(z.lookup(fqdn("weft.local"), kTypeA, 0).kind == Kind::kNoData);
  CHECK(z.lookup(fqdn("example.com"), kTypeA, 0).kind == Kind::kNotOurs);

  auto p = z.lookup(reverse_name(ip("10.32.0.2")), kTypePTR, 0);
  CHECK(p.kind == Kind::kNames);
  REQUIRE(p.names.size() == 1);
  CHECK(p.names[0].to_string() == "web.weft.local.");
  CHECK(z.lookup(reverse_name(ip("10.32.0.2")), kTypeA, 0).kind == Kind::kNoData);
  CHECK(z.lookup(reverse_name(ip("10.32.0.77")), kTypePTR, 0).kind == Kind::kNotOurs);

  // A source that goes away takes only its own addresses.
  uint32_t serial = z.serial();
  CHECK(z.remove("manual:web"));
  CHECK(z.serial() != serial);
  CHECK(z.addresses("web") == std::vector<uint32_t>{ip("10.32.0.2")});
  CHECK(z.lookup(reverse_name(ip("10.32.0.9")), kTypePTR, 0).kind == Kind::kNotOurs);
  CHECK(z.remove("workload:h1/w1"));
  CHECK(z.lookup(fqdn("web.weft.local"), kTypeA, 0).kind == Kind::kNxDomain);
  CHECK_FALSE(z.remove("workload:h1/w1"));

  CHECK_THROWS_AS(z.upsert("k", "bad_name!", {}), std::invalid_argument);
  CHECK_THROWS_AS(z.upsert("k", "web.example.com.", {}), std::invalid_argument);
  CHECK_THROWS_AS(z.upsert("k", "weft.local", {}), std::invalid_argument);
  CHECK_THROWS_AS(z.upsert("k", std::string(64, 'a'), {}), std::invalid_argument);
  CHECK_THROWS_AS(z.replace_all({{"a", "ok", {}}, {"b", "not ok", {}}}), std::invalid_argument);
  CHECK(z.addresses("web.shop") == std::vector<uint32_t>{ip("10.32.0.3")});  // unchanged
  CHECK_THROWS_AS(DnsZone("."), std::invalid_argument);
}

TEST_CASE("dns zone: random changes agree with a naive model") {
  const std::vector<std::string> names = {"a", "b", "a.b", "c.a.b", "x.shop", "shop", "d.e.f"};
  const std::vector<std::string> probes = {"a",     "b",   "a.b", "c.a.b", "x.shop", "shop",
                                           "d.e.f", "e.f", "f",   "zz",    "q.a",    "b.a"};
  std::vector<uint32_t> pool;
  for (uint32_t i = 1; i <= 8; ++i) pool.push_back(ip("10.32.0.0") + i);
  for (uint32_t seed = 1; seed <= 30; ++seed) {
    CAPTURE(seed);
    std::mt19937 rng(seed);
    DnsZone z(seed % 2 ? "weft.local" : "Cluster.Example.");
    Model m;
    auto random_entry = [&](const std::string& key) {
      ZoneEntry e{key, names[rng() % names.size()], {}};
      for (size_t n = rng() % 4; n > 0; --n) e.addresses.push_back(pool[rng() % pool.size()]);
      return e;
    };
    for (int step = 0; step < 200; ++step) {
      std::string key = "k" + std::to_string(rng() % 6);
      int op = int(rng() % 10);
      if (op < 6) {
        ZoneEntry e = random_entry(key);
        z.upsert(key, random_case(e.name, rng), e.addresses);
        std::sort(e.addresses.begin(), e.addresses.end());
        e.addresses.erase(std::unique(e.addresses.begin(), e.addresses.end()), e.addresses.end());
        m.entries[key] = e;
      } else if (op < 9) {
        CHECK(z.remove(key) == (m.entries.erase(key) > 0));
      } else {
        std::vector<ZoneEntry> all;
        m.entries.clear();
        for (size_t n = rng() % 5; n > 0; --n) {
          ZoneEntry e = random_entry("k" + std::to_string(rng() % 6));
          all.push_back(e);
          std::sort(e.addresses.begin(), e.addresses.end());
          e.addresses.erase(std::unique(e.addresses.begin(), e.addresses.end()), e.addresses.end());
          m.entries[e.key] = e;  // a later duplicate key wins
        }
        z.replace_all(all);
      }
      uint64_t rotation = rng();
      for (const std::string& rel : probes) {
        Name q = *parse_name(random_case(rel, rng));
        q.labels.insert(q.labels.end(), z.domain().labels.begin(), z.domain().labels.end());
        for (uint16_t t : {kTypeA, kTypeAAAA, kTypeANY, kTypeSOA}) {
          auto want = m.lookup(rel, t, rotation);
          auto got = z.lookup(q, t, rotation);
          CAPTURE(rel);
          CAPTURE(t);
          CHECK(int(got.kind) == int(want.kind));
          CHECK(got.addresses == want.addresses);
        }
      }
      CHECK(z.lookup(z.domain(), kTypeSOA, 0).kind == Kind::kSoa);
      for (uint32_t a : pool) {
        auto want = m.ptr(a);
        auto got = z.lookup(reverse_name(a), kTypePTR, 0);
        CHECK(int(got.kind) == int(want.empty() ? Kind::kNotOurs : Kind::kNames));
        std::vector<std::string> got_names;
        for (const Name& n : got.names) {
          REQUIRE(n.ends_with_ci(z.domain()));
          Name rel = n;
          rel.labels.resize(n.labels.size() - z.domain().labels.size());
          got_names.push_back(rel.key());
        }
        CHECK(got_names == want);
      }
      std::vector<ZoneEntry> listed = z.entries();
      CHECK(listed.size() == m.entries.size());
    }
  }
}
