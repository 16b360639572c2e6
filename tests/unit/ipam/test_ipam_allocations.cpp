// The per-peer allocation table, against a naive model (a set of taken addresses) under seeded
// random operations; and the IPAM state file: round trip, and a clear error for corrupted files.
#include <doctest/doctest.h>

#include <random>
#include <set>

#include "ipam/allocations.h"
#include "ipam/state_file.h"

using namespace weft;
using namespace weft::ipam;

TEST_CASE("allocations against a naive model (seeded random operations)") {
  const Ipv4Cidr range = parse_ipv4_cidr("10.9.0.0/26");
  const uint32_t base = range.network();
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    CAPTURE(seed);
    std::mt19937_64 rng(seed);
    Allocations a;
    std::map<uint32_t, std::string> model;
    for (int step = 0; step < 400; ++step) {
      uint32_t addr = base + uint32_t(rng() % 64);
      std::string holder = "h" + std::to_string(rng() % 10);
      switch (rng() % 3) {
        case 0:
          if (model.count(addr)) {
            CHECK_THROWS_AS(a.add(addr, holder), std::logic_error);
          } else {
            a.add(addr, holder);
            model[addr] = holder;
          }
          break;
        case 1: {
          auto got = a.remove_holder(holder);
          std::vector<uint32_t> want;
          for (auto it = model.begin(); it != model.end();)
            if (it->second == holder) {
              want.push_back(it->first);
              it = model.erase(it);
            } else {
              ++it;
            }
          CHECK(got == want);
          break;
        }
        default:
          break;
      }
      // Queries over a random span.
      uint32_t s = base + uint32_t(rng() % 64);
      uint64_t e = s + 1 + rng() % (base + 64 - s);
      Span span{s, e};
      std::optional<uint32_t> first;
      uint64_t free = 0;
      for (uint64_t x = s; x < e; ++x) {
        bool ok = !model.count(uint32_t(x)) && !reserved_address(range, uint32_t(x));
        if (ok && !first) first = uint32_t(x);
        free += ok;
      }
      CHECK(a.first_free(span, range) == first);
      CHECK(a.free_in(span, range) == free);
      // Largest run over two spans.
      std::vector<Span> spans{{base, uint64_t{base} + 20}, {base + 30, uint64_t{base} + 64}};
      uint64_t best = 0;
      for (const Span& sp : spans) {
        uint64_t run = 0;
        for (uint64_t x = sp.start; x < sp.end; ++x) {
          bool ok = !model.count(uint32_t(x)) && !reserved_address(range, uint32_t(x));
          run = ok ? run + 1 : 0;
          best = std::max(best, run);
        }
      }
      auto got = a.largest_free_run(spans, range);
      CHECK((got ? got->size() : 0) == best);
      if (got)
        for (uint64_t x = got->start; x < got->end; ++x) CHECK(!model.count(uint32_t(x)));
      CHECK(a.size() == model.size());
    }
  }
}

TEST_CASE("IPAM state file round trip") {
  IpamState s;
  s.ring = Ring::seeded(parse_ipv4_cidr("10.32.0.0/12"), {0xaa, 0xbb}, 1700000000000);
  s.ring.give(0xaa, {*parse_ipv4("10.32.1.0"), *parse_ipv4("10.32.2.0")}, 0xcc);
  s.allocations.add(*parse_ipv4("10.32.0.1"), "netns:a");
  s.allocations.add(*parse_ipv4("10.32.0.2"), "netns:b");
  IpamState back = parse_state_json(state_json(s));
  CHECK(back.ring == s.ring);
  CHECK(back.allocations.by_address() == s.allocations.by_address());
  IpamState empty;
  empty.ring = Ring(parse_ipv4_cidr("10.32.0.0/12"));
  CHECK(parse_state_json(state_json(empty)).ring.empty());
}

TEST_CASE("a corrupted IPAM state file is a clear error, never a crash") {
  IpamState s;
  s.ring = Ring::seeded(parse_ipv4_cidr("10.32.0.0/28"), {0xaa}, 0);
  s.allocations.add(*parse_ipv4("10.32.0.1"), "netns:a");
  std::string good = state_json(s);
  for (const char* bad : {"", "{", "[]", "null", "{\"format\":2}", "{\"format\":1}",
                          "{\"format\":1,\"range\":\"10.32.0.1/28\",\"allocations\":[]}",
                          "{\"format\":1,\"range\":\"banana\",\"allocations\":[]}"})
    CHECK_THROWS_AS(parse_state_json(bad), std::invalid_argument);
  // Every truncation, and some byte flips, either parse to something valid or throw
  // invalid_argument.
  std::mt19937_64 rng(7);
  for (size_t n = 0; n < good.size(); ++n) {
    try {
      parse_state_json(good.substr(0, n));
    } catch (const std::invalid_argument&) {
    }
    std::string flipped = good;
    flipped[rng() % flipped.size()] = char(rng() % 128);
    try {
      parse_state_json(flipped);
    } catch (const std::invalid_argument&) {
    }
  }
  std::string dup = good;
  auto pos = dup.find("\"netns:a\"");
  dup.insert(dup.find(']', pos), ",{\"address\":\"10.32.0.1\",\"holder\":\"x\"}");
  CHECK_THROWS_WITH_AS(parse_state_json(dup), doctest::Contains("allocated twice"),
                       std::invalid_argument);
}

TEST_CASE(
    "first_free can skip a.b.c.0 and a.b.c.255 (valid, but they look like network addresses)") {
  const Ipv4Cidr range = parse_ipv4_cidr("10.32.0.0/12");
  Allocations a;
  Span s{*parse_ipv4("10.40.0.0"), uint64_t{*parse_ipv4("10.40.1.1")}};
  CHECK(a.first_free(s, range) == *parse_ipv4("10.40.0.0"));
  CHECK(a.first_free(s, range, true) == *parse_ipv4("10.40.0.1"));
  Span edge{*parse_ipv4("10.40.0.255"), uint64_t{*parse_ipv4("10.40.1.1")}};
  CHECK(a.first_free(edge, range, true) == std::nullopt);
  CHECK(a.first_free(edge, range) == *parse_ipv4("10.40.0.255"));
}
