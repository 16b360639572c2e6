// DnsZoneFeed: the cluster state's workloads and hand-added records as DNS names. Examples for
// each rule, then seeded random state changes followed change by change, checked after every
// step against a fresh load of the same state (following must equal reloading) and against
// the names computed by brute force from the table.
#include <doctest/doctest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "common/ipv4_cidr.h"
#include "router/os/dns_zone_feed.h"

using namespace weft;
using nlohmann::json;
using state::Kind;

namespace {

uint32_t ip(const char* s) {
  return *parse_ipv4(s);
}

struct Fixture {
  state::ObjectTable table;
  dns::DnsZone zone;
  DnsZoneFeed feed{zone};
  uint64_t hlc = 1;

  // Writes like the state core does, then tells the feed.
  void put(Kind kind, const std::string& key, std::optional<json> value) {
    state::Entry e{kind, key, {hlc++, 1}, !value.has_value(), value ? value->dump() : ""};
    table.put(e);
    feed.apply({hlc, kind, key, e.deleted, e.value}, table);
  }
  void workload(const std::string& key, const std::string& name, const std::string& ns,
                std::vector<std::string> ips) {
    put(Kind::kWorkload, key, json{{"name", name}, {"namespace", ns}, {"ips", ips}});
  }
  void record(const std::string& name, const std::string& addr, bool add = true) {
    put(Kind::kDnsRecord, name + "|" + addr,
        add ? std::optional<json>(json{{"name", name}, {"ip", addr}}) : std::nullopt);
  }
  std::vector<uint32_t> addrs(const char* name) const { return zone.addresses(name); }
};

}  // namespace

TEST_CASE("DnsZoneFeed: workloads by name and namespace, with all their addresses") {
  Fixture f;
  f.workload("aa:00:00:00:00:01/w1", "web", "default", {"10.32.0.5/12", "10.32.0.6/12"});
  f.workload("aa:00:00:00:00:02/w2", "web", "shop", {"10.32.0.7/12"});
  f.put(Kind::kWorkload, "aa:00:00:00:00:01/w3",
        json{{"ips", json::array({"10.32.0.8/12"})}});  // no name
  CHECK(f.addrs("web") == std::vector{ip("10.32.0.5"), ip("10.32.0.6")});
  CHECK(f.addrs("web.shop.weft.local.") == std::vector{ip("10.32.0.7")});
  CHECK(f.feed.skipped() == 1);
  // Another workload with the same name adds its address; its detach takes exactly that away.
  f.workload("aa:00:00:00:00:02/w4", "web", "default", {"10.32.0.9/12"});
  CHECK(f.addrs("web").size() == 3);
  f.put(Kind::kWorkload, "aa:00:00:00:00:02/w4", std::nullopt);
  CHECK(f.addrs("web") == std::vector{ip("10.32.0.5"), ip("10.32.0.6")});
  // A changed workload (renamed) leaves nothing under its old name.
  f.workload("aa:00:00:00:00:01/w1", "api", "default", {"10.32.0.5/12"});
  CHECK(f.addrs("web").empty());
  CHECK(f.addrs("api") == std::vector{ip("10.32.0.5")});
}

TEST_CASE("DnsZoneFeed: records added by hand, per name whatever the spelling") {
  Fixture f;
  f.record("db", "10.32.1.1");
  f.record("DB.weft.local", "10.32.1.2");
  f.record("db.weft.local.", "10.32.1.3");
  CHECK(f.addrs("db") == std::vector{ip("10.32.1.1"), ip("10.32.1.2"), ip("10.32.1.3")});
  f.record("DB.weft.local", "10.32.1.2", /*add=*/false);
  CHECK(f.addrs("db") == std::vector{ip("10.32.1.1"), ip("10.32.1.3")});
  // A workload of the same name keeps its address when the records go.
  f.workload("aa:00:00:00:00:01/w1", "db", "default", {"10.32.0.5/12"});
  f.record("db", "10.32.1.1", false);
  f.record("db.weft.local.", "10.32.1.3", false);
  CHECK(f.addrs("db") == std::vector{ip("10.32.0.5")});
  // A name outside the domain (added on a router with another --dns-domain) is skipped.
  f.record("x.other.domain.", "10.32.1.9");
  CHECK(f.feed.skipped() == 1);
  CHECK(f.zone.entries().size() == 1);
}

TEST_CASE("DnsZoneFeed: following changes equals loading the state, on random histories") {
  const char* names[] = {"web", "db", "Web", "api.x", "db.weft.local.", "bad name"};
  const char* nss[] = {"default", "shop", ""};
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    CAPTURE(seed);
    std::mt19937_64 rng(seed);
    auto pick = [&](size_t n) { return size_t(rng() % n); };
    Fixture f;
    for (int step = 0; step < 200; ++step) {
      std::string a = "10.32.0." + std::to_string(1 + pick(6));
      if (pick(2)) {
        std::string key =
            "aa:00:00:00:00:0" + std::to_string(pick(3)) + "/w" + std::to_string(pick(4));
        if (pick(4) == 0) {
          f.put(Kind::kWorkload, key, std::nullopt);
        } else {
          std::string n = names[pick(3)];  // workload names are labels: web, db, Web
          f.workload(key, n, nss[pick(3)], {a + "/12", "10.33.0." + std::to_string(pick(3))});
        }
      } else {
        f.record(names[pick(std::size(names))], a, pick(3) != 0);
      }
      dns::DnsZone fresh;
      DnsZoneFeed reload(fresh);
      reload.load(f.table);
      REQUIRE(f.zone.entries() == fresh.entries());
      // Brute force: every live object's name holds its addresses, and nothing else is there.
      std::map<std::string, std::set<uint32_t>> want;
      for (const state::Entry* e : f.table.live(Kind::kWorkload)) {
        json w = json::parse(e->value);
        std::string ns = w["namespace"];
        std::string n = dns::parse_name(w["name"].get<std::string>())->key();
        if (!ns.empty() && ns != "default") n += "." + ns;
        for (const auto& s : w["ips"])
          want[n].insert(
              *parse_ipv4(s.get<std::string>().substr(0, s.get<std::string>().find('/'))));
      }
      for (const state::Entry* e : f.table.live(Kind::kDnsRecord)) {
        json r = json::parse(e->value);
        std::string n = r["name"];
        if (n == "bad name") continue;
        if (n == "db.weft.local.") n = "db";
        want[dns::parse_name(n)->key()].insert(*parse_ipv4(r["ip"].get<std::string>()));
      }
      std::map<std::string, std::set<uint32_t>> got;
      for (const auto& e : f.zone.entries())
        got[e.name].insert(e.addresses.begin(), e.addresses.end());
      REQUIRE(got == want);
    }
  }
}
