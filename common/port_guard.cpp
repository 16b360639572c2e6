#include "common/port_guard.h"

#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <sstream>
#include <stdexcept>

#include "common/atomic_file.h"
#include "common/run_program.h"

namespace weft {

namespace port_guard_rules {

namespace {

void check_veth(const std::string& v) {
  bool ok = v.size() > std::string(kWorkloadPortPrefix).size() && v.size() <= 15 &&
            v.rfind(kWorkloadPortPrefix, 0) == 0;
  for (char c : v) ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'));
  if (!ok) throw std::invalid_argument("not a weft workload port name: '" + v + "'");
}

void check_mac(const std::string& m) {
  bool ok = m.size() == 17;
  for (size_t i = 0; ok && i < m.size(); ++i)
    ok = i % 3 == 2 ? m[i] == ':' : std::isxdigit(static_cast<unsigned char>(m[i])) != 0;
  if (!ok) throw std::invalid_argument("not a MAC address: '" + m + "'");
}

std::string ip_text(uint32_t a) {
  return std::to_string(a >> 24) + "." + std::to_string((a >> 16) & 255) + "." +
         std::to_string((a >> 8) & 255) + "." + std::to_string(a & 255);
}

std::string ip_set(const std::vector<uint32_t>& ips) {
  std::string s = "{ ";
  for (size_t i = 0; i < ips.size(); ++i) s += (i ? ", " : "") + ip_text(ips[i]);
  return s + " }";
}

// The table, its map and its prerouting chain (created if missing), the chain's two rules
// written afresh: idempotent, and atomic with whatever follows in the same script.
std::string table_body() {
  const std::string t = std::string("bridge ") + kTable;
  return "add table " + t + "\n" + "add map " + t + " ports { type ifname : verdict; }\n" +
         "add chain " + t +
         " prerouting { type filter hook prerouting priority -200; policy accept; }\n" +
         "flush chain " + t + " prerouting\n" + "add rule " + t +
         " prerouting iifname vmap @ports\n" + "add rule " + t + " prerouting iifname \"" +
         kWorkloadPortPrefix +
         "*\" iifname != \"vethwe-*\" iifname != \"vethwepl*\" counter drop comment \"a workload "
         "port without a binding\"\n";
}

// The port's chain and counters, created empty if missing, then flushed and filled.
std::string port_rules(const PortBinding& b, const PortGuardLimits& l) {
  check_veth(b.veth);
  check_mac(b.mac);
  const std::string t = std::string("bridge ") + kTable;
  const std::string chain = "port_" + b.veth;
  const std::string spoof = "spoof_" + b.veth, flood = "flood_" + b.veth;
  std::ostringstream o;
  o << "add counter " << t << " " << spoof << "\n"
    << "add counter " << t << " " << flood << "\n"
    << "add chain " << t << " " << chain << "\n"
    << "flush chain " << t << " " << chain << "\n";
  auto rule = [&](const std::string& r) {
    o << "add rule " << t << " " << chain << " " << r << "\n";
  };
  rule("ether saddr != " + b.mac + " counter name " + spoof + " drop");
  if (b.ips.empty()) {
    // No address yet: neither IPv4 nor ARP may claim one.
    rule("ether type { ip, arp } counter name " + spoof + " drop");
  } else {
    // DHCP-style 0.0.0.0 sources and ARP probes are not needed by weft workloads: refused too.
    rule("ether type ip ip saddr != " + ip_set(b.ips) + " counter name " + spoof + " drop");
    rule("ether type arp arp saddr ether != " + b.mac + " counter name " + spoof + " drop");
    rule("ether type arp arp saddr ip != " + ip_set(b.ips) + " counter name " + spoof + " drop");
  }
  rule("ether daddr & 01:00:00:00:00:00 == 01:00:00:00:00:00 limit rate over " +
       std::to_string(l.broadcast_per_second) + "/second burst " +
       std::to_string(l.broadcast_burst) + " packets counter name " + flood + " drop");
  o << "add element " << t << " ports { \"" << b.veth << "\" : goto " << chain << " }\n";
  return o.str();
}

}  // namespace

std::string create_table() {
  return table_body();
}

std::string bind(const PortBinding& b, const PortGuardLimits& l) {
  // Idempotent: a re-bind refills the port's chain; its map element never changes.
  return table_body() + port_rules(b, l);
}

std::string unbind(const std::string& veth) {
  check_veth(veth);
  // `delete` fails on what does not exist, so each object is first added (a no-op when it is
  // there, the map element with the value it always has): unbinding an unbound port succeeds.
  const std::string t = std::string("bridge ") + kTable, chain = "port_" + veth;
  return table_body() + "add chain " + t + " " + chain + "\n" + "add element " + t + " ports { \"" +
         veth + "\" : goto " + chain + " }\n" + "delete element " + t + " ports { \"" + veth +
         "\" }\n" + "flush chain " + t + " " + chain + "\n" + "delete chain " + t + " " + chain +
         "\n" + "add counter " + t + " spoof_" + veth + "\n" + "delete counter " + t + " spoof_" +
         veth + "\n" + "add counter " + t + " flood_" + veth + "\n" + "delete counter " + t +
         " flood_" + veth + "\n";
}

std::string sync(const std::vector<PortBinding>& all, const PortGuardLimits& l) {
  std::string s = "add table bridge " + std::string(kTable) + "\ndelete table bridge " + kTable +
                  "\n" + table_body();
  for (const PortBinding& b : all) s += port_rules(b, l);
  return s;
}

}  // namespace port_guard_rules

std::string PortGuard::apply(const std::string& script) {
  char path[] = "/tmp/weft-port-guard.XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) return "cannot create a temporary file for nft";
  ::close(fd);
  std::string err;
  try {
    write_file_atomic(path, script, 0600);
    ProgramResult r = run_program({"nft", "-f", path});
    if (!r.ok()) err = "nft: " + first_line(r.err.empty() ? r.out : r.err);
  } catch (const std::exception& e) {
    err = e.what();
  }
  ::unlink(path);
  return err;
}

std::string PortGuard::bind(const PortBinding& b) {
  return apply(port_guard_rules::bind(b));
}
std::string PortGuard::unbind(const std::string& veth) {
  return apply(port_guard_rules::unbind(veth));
}
std::string PortGuard::sync(const std::vector<PortBinding>& all) {
  return apply(port_guard_rules::sync(all));
}

std::map<std::string, PortGuardCounts> PortGuard::counts() {
  std::map<std::string, PortGuardCounts> c;
  ProgramResult r =
      run_program({"nft", "list", "counters", "table", "bridge", port_guard_rules::kTable});
  if (!r.ok()) return c;
  // Lines: "counter spoof_vethwe... {" then "packets N bytes M".
  std::istringstream in(r.out);
  std::string line;
  uint64_t* into = nullptr;
  while (std::getline(in, line)) {
    for (auto [prefix, spoof] : {std::pair{"counter spoof_", true}, {"counter flood_", false}}) {
      auto at = line.find(prefix);
      if (at == std::string::npos) continue;
      std::string veth = line.substr(at + std::string(prefix).size());
      veth = veth.substr(0, veth.find_first_of(" {"));
      into = spoof ? &c[veth].spoofed : &c[veth].flood_limited;
    }
    auto p = line.find("packets ");
    if (p != std::string::npos && into) {
      *into += std::stoull(line.substr(p + 8));
      into = nullptr;
    }
  }
  return c;
}

}  // namespace weft
