// The nftables rules that bind a workload's MAC and IPs to its bridge port
// (common/port_guard.h): what each script says, and that names from outside never reach nft
// unchecked. tests/integration/test_attack_workload_spoof.sh runs them against the kernel.
#include <doctest/doctest.h>

#include <stdexcept>
#include <string>

#include "common/port_guard.h"

namespace rules = weft::port_guard_rules;

namespace {
bool has(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}
const weft::PortBinding kB{"vethwe1a2b3c4d", "aa:bb:cc:dd:ee:01", {0x0a200101, 0x0a200102}};
}  // namespace

TEST_CASE("a binding allows only the port's own MAC and addresses, and limits broadcasts") {
  std::string s = rules::bind(kB);
  CHECK(has(s, "add table bridge weft\n"));
  CHECK(has(s, "type filter hook prerouting priority -200"));
  CHECK(has(s, "iifname vmap @ports"));
  CHECK(has(s, "iifname \"vethwe*\" iifname != \"vethwe-*\" iifname != \"vethwepl*\" counter "
               "drop"));  // unbound workload
                          // ports: fail closed
  CHECK(has(s,
            "add rule bridge weft port_vethwe1a2b3c4d ether saddr != aa:bb:cc:dd:ee:01 "
            "counter name spoof_vethwe1a2b3c4d drop"));
  CHECK(has(s, "ip saddr != { 10.32.1.1, 10.32.1.2 } counter name spoof_vethwe1a2b3c4d drop"));
  CHECK(has(s, "arp saddr ether != aa:bb:cc:dd:ee:01"));
  CHECK(has(s, "arp saddr ip != { 10.32.1.1, 10.32.1.2 }"));
  CHECK(has(s,
            "limit rate over 500/second burst 1000 packets counter name flood_vethwe1a2b3c4d "
            "drop"));
  CHECK(has(s, "add element bridge weft ports { \"vethwe1a2b3c4d\" : goto port_vethwe1a2b3c4d }"));
  // Nothing outside the table: every statement names bridge weft.
  for (std::string kw : {"add rule ", "add chain ", "add counter ", "add element "}) {
    size_t p = 0;
    while ((p = s.find(kw, p)) != std::string::npos) {
      CHECK(s.compare(p + kw.size(), 12, "bridge weft ") == 0);
      p += kw.size();
    }
  }
}

TEST_CASE("a port without addresses may send neither IPv4 nor ARP") {
  weft::PortBinding b = kB;
  b.ips.clear();
  CHECK(has(rules::bind(b), "ether type { ip, arp } counter name spoof_vethwe1a2b3c4d drop"));
}

TEST_CASE("unbind removes the element, the chain and the counters; sync rebuilds the table") {
  std::string u = rules::unbind("vethwe1a2b3c4d");
  CHECK(has(u, "delete element bridge weft ports { \"vethwe1a2b3c4d\" }"));
  CHECK(has(u, "delete chain bridge weft port_vethwe1a2b3c4d"));
  CHECK(has(u, "delete counter bridge weft spoof_vethwe1a2b3c4d"));
  std::string s = rules::sync({kB});
  CHECK(has(s, "delete table bridge weft"));
  CHECK(s.find("delete table") < s.find("add rule"));
}

TEST_CASE("names and MACs that weft did not make are refused") {
  for (const char* v :
       {"eth0", "vethwe", "vethwe1;drop", "vethwe\"x", "vethweABCDEF12", "vethwe0123456789"}) {
    CAPTURE(v);
    CHECK_THROWS_AS(rules::unbind(v), std::invalid_argument);
  }
  weft::PortBinding b = kB;
  b.mac = "aa:bb:cc:dd:ee:0g";
  CHECK_THROWS_AS(rules::bind(b), std::invalid_argument);
  b.mac = "aa:bb:cc:dd:ee:01 drop";
  CHECK_THROWS_AS(rules::bind(b), std::invalid_argument);
}
