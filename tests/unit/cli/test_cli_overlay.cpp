#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "common/arp.h"
#include "common/ipv4_cidr.h"
#include "common/overlay.h"

using nlohmann::json;
using weft::choose_underlay_mtu;
using weft::Ipv4Cidr;
using weft::LinkMtu;
using weft::parse_ipv4_cidr;

TEST_CASE("parse_ipv4_cidr reads addresses with and without a prefix") {
  Ipv4Cidr a = parse_ipv4_cidr("10.32.1.5/12");
  CHECK(a.addr == 0x0a200105);
  CHECK(a.prefix == 12);
  CHECK(a.to_string() == "10.32.1.5/12");
  CHECK(a.address() == "10.32.1.5");
  CHECK(weft::format_ipv4(a.network()) == "10.32.0.0");
  CHECK(weft::format_ipv4(a.broadcast()) == "10.47.255.255");
  CHECK(parse_ipv4_cidr("10.32.1.5", 12) == a);
  CHECK(parse_ipv4_cidr("0.0.0.0/0").mask() == 0);
  CHECK(parse_ipv4_cidr("255.255.255.255/32").mask() == 0xffffffff);
}

TEST_CASE("parse_ipv4_cidr rejects malformed input with a reason") {
  for (const char* bad :
       {"", "10.32.1.5", "10.32.1/12", "10.32.1.256/12", "10.32.1.5/33", "10.32.1.5/",
        "10.32.1.5/1a", "10.32.1.5/012", "010.32.1.5/12", "10.32.1.5.6/12", " 10.32.1.5/12",
        "10.32.1.5/12 ", "fd00::1/64", "w1", "-1.2.3.4/8"}) {
    CAPTURE(bad);
    CHECK_THROWS_AS(parse_ipv4_cidr(bad), std::invalid_argument);
  }
  try {
    parse_ipv4_cidr("fd00::1/64");
  } catch (const std::invalid_argument& e) {
    CHECK(std::string(e.what()).find("IPv6") != std::string::npos);
  }
}

TEST_CASE("Ipv4Cidr contains and covers") {
  Ipv4Cidr range = parse_ipv4_cidr("10.32.0.0/12");
  CHECK(range.contains(parse_ipv4_cidr("10.47.255.254/32").addr));
  CHECK_FALSE(range.contains(parse_ipv4_cidr("10.48.0.1/32").addr));
  CHECK(parse_ipv4_cidr("10.32.1.5/12").covers(range));
  CHECK(parse_ipv4_cidr("10.1.2.3/8").covers(range));
  CHECK_FALSE(parse_ipv4_cidr("10.32.1.5/24").covers(range));
  CHECK_FALSE(parse_ipv4_cidr("10.64.0.1/12").covers(range));
}

TEST_CASE("overlay_mtu subtracts weft's overhead") {
  static_assert(weft::overlay_mtu(1500) == 1500 - weft::kOverlayOverhead);
  CHECK(weft::overlay_mtu(9000) == 9000 - weft::kOverlayOverhead);
}

TEST_CASE("weft's interface names") {
  CHECK(weft::is_weft_veth_name("vethwe0123abcd"));
  CHECK_FALSE(weft::is_weft_veth_name("vethwe0123ABCD"));
  CHECK_FALSE(weft::is_weft_veth_name("vethwe0123abc"));
  CHECK_FALSE(weft::is_weft_veth_name("vethwe-bridge"));   // Weave Net's
  CHECK_FALSE(weft::is_weft_veth_name("vethwepl123456"));  // Weave Net's
  CHECK(weft::is_weft_interface("weft"));
  CHECK(weft::is_weft_interface("weft-tap"));
  CHECK(weft::is_weft_interface("weft-pcap-br"));
  CHECK_FALSE(weft::is_weft_interface("eth0"));
  CHECK_FALSE(weft::is_weft_interface("weftx"));
}

TEST_CASE("example_address follows the range") {
  CHECK(weft::example_address(parse_ipv4_cidr("10.32.0.0/12")) == "10.32.1.5/12");
  CHECK(weft::example_address(parse_ipv4_cidr("192.168.7.0/24")) == "192.168.7.1/24");
}

TEST_CASE("overlay.json round-trips and is checked") {
  weft::OverlayConfig c{1397, "10.32.0.0/12"};
  CHECK(weft::overlay_config_json(c) == "{\"mtu\":1397,\"range\":\"10.32.0.0/12\"}\n");
  CHECK(weft::parse_overlay_config(weft::overlay_config_json(c)) == c);
  for (const char* bad :
       {"", "[]", "{\"mtu\":1400}", "{\"mtu\":\"1400\",\"range\":\"10.32.0.0/12\"}",
        "{\"mtu\":100,\"range\":\"10.32.0.0/12\"}", "{\"mtu\":1400,\"range\":\"10.32.0.1/12\"}",
        "{\"mtu\":1400,\"range\":\"nope\"}"}) {
    CAPTURE(bad);
    CHECK_THROWS_AS(weft::parse_overlay_config(bad), std::invalid_argument);
  }
}

TEST_CASE("choose_underlay_mtu: default route, else the largest up interface, else 1500") {
  json links = json::parse(R"([
    {"ifname":"lo","mtu":65536,"flags":["LOOPBACK","UP","LOWER_UP"]},
    {"ifname":"eth0","mtu":1500,"flags":["BROADCAST","UP"]},
    {"ifname":"eth1","mtu":9000,"flags":["BROADCAST","UP"]},
    {"ifname":"eth2","mtu":9500,"flags":["BROADCAST"]},
    {"ifname":"weft","mtu":65000,"flags":["BROADCAST","UP"]},
    {"ifname":"vethwe0123abcd","mtu":65000,"flags":["UP"]},
    {"ifname":"broken"}])");
  std::vector<LinkMtu> l = weft::links_from_ip_json(links);
  CHECK(l.size() == 6);
  json routes = json::parse(R"([{"dst":"default","gateway":"10.0.0.1","dev":"eth0"}])");
  CHECK(weft::default_route_dev(routes) == "eth0");
  CHECK(weft::default_route_dev(json::array()) == std::nullopt);
  CHECK(choose_underlay_mtu(l, "eth0").mtu == 1500);
  CHECK(choose_underlay_mtu(l, "eth0").source.find("default route") != std::string::npos);
  // No default route: the largest MTU of interfaces that are up, not loopback, not weft's own.
  CHECK(choose_underlay_mtu(l, std::nullopt).mtu == 9000);
  // A default route through weft's own bridge does not count either.
  CHECK(choose_underlay_mtu(l, "weft").mtu == 9000);
  CHECK(choose_underlay_mtu({}, std::nullopt).mtu == 1500);
}

TEST_CASE("gratuitous_arp announces the address from the MAC") {
  auto p = weft::gratuitous_arp({0x02, 0x42, 0xac, 0x11, 0x00, 0x02}, 0x0a200105);
  const std::array<uint8_t, 28> want = {
      0x00, 0x01, 0x08, 0x00, 6,    4,    0x00, 0x01,         // Ethernet/IPv4, request
      0x02, 0x42, 0xac, 0x11, 0x00, 0x02, 10,   32,   1, 5,   // sender MAC, IP
      0,    0,    0,    0,    0,    0,    10,   32,   1, 5};  // target MAC (zero), IP
  CHECK(p == want);
}
