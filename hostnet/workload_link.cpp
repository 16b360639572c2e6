#include "hostnet/workload_link.h"

#include <algorithm>

#include "hostnet/host_net.h"

namespace weft {

namespace {

constexpr const char* kAsRoot = "Run the command as root.";

}  // namespace

std::string remove_workload_link(const std::string& veth, const std::string& ifname) {
  ProgramResult undo = ip({"link", "del", veth});
  if (!undo.ok() && undo.err.find("Cannot find device") != std::string::npos) {
    return "Nothing was left behind: the veth pair " + veth + " / " + ifname + " is gone.";
  }
  return undo.ok() ? "Nothing was left behind: the half-made veth pair " + veth + " / " + ifname +
                         " was removed."
                   : "Also could not remove the half-made veth " + veth + " (" +
                         first_line(undo.err) + "): remove it with `ip link del " + veth + "`.";
}

WorkloadLink create_workload_link(const WorkloadLinkSpec& s) {
  WorkloadLink link;
  link.veth = new_veth_name();
  link.routed = std::none_of(s.addrs.begin(), s.addrs.end(),
                             [&](const Ipv4Cidr& a) { return a.covers(s.range); });
  const std::string mtu = std::to_string(s.mtu);
  const std::string& path = s.netns_path;
  const std::string& ifn = s.ifname;
  // One request creates both ends, the inner one directly inside the workload: it either fully
  // happens or not at all.
  must(ip({"link", "add", link.veth, "mtu", mtu, "type", "veth", "peer", "name", ifn, "mtu", mtu,
           "netns", path}),
       "create the veth pair " + link.veth + " / " + ifn + " for " + s.label, kAsRoot);
  try {
    if (auto e = disable_ipv6_autoconf(link.veth, true); !e.empty()) {
      throw HostNetError("cannot turn off IPv6 router advertisements on " + link.veth + ": " + e +
                         ".");
    }
    must(ip({"link", "set", "dev", link.veth, "master", s.bridge, "up"}),
         "add " + link.veth + " to the bridge " + s.bridge, kAsRoot);
    if (auto e = in_netns(path, [&] { return disable_ipv6_autoconf(ifn, false); }); !e.empty()) {
      throw HostNetError("cannot turn off IPv6 router advertisements on " + ifn + " in " + s.label +
                         ": " + e + ".");
    }
    for (const auto& a : s.addrs) {
      must(ip_in(path, {"addr", "add", a.to_string(), "dev", ifn}),
           "add " + a.to_string() + " to " + ifn + " in " + s.label, kAsRoot);
    }
    must(ip_in(path, {"link", "set", "dev", ifn, "up"}), "bring " + ifn + " up in " + s.label,
         kAsRoot);
    if (link.routed) {
      must(ip_in(path, {"route", "add", s.range.to_string(), "dev", ifn}),
           "add a route for the overlay range " + s.range.to_string() + " in " + s.label,
           "Does the workload already route that range elsewhere (`" + s.ip_in_hint + " route`)?");
    }
    auto info = link_info(ifn, path);
    if (!info || !info->contains("address") || !(*info)["address"].is_string()) {
      throw HostNetError("cannot read the MAC address of " + ifn + " in " + s.label + ".");
    }
    link.mac = (*info)["address"].get<std::string>();
  } catch (const std::exception& e) {
    throw HostNetError(std::string(e.what()) + "\n" + remove_workload_link(link.veth, ifn));
  }
  return link;
}

std::string announce_workload(const WorkloadLinkSpec& s, const std::string& veth, int limit_ms) {
  std::string notes;
  if (!wait_port_forwarding(veth, limit_ms)) {
    notes = "Note: the bridge port " + veth + " was not forwarding after " +
            std::to_string(limit_ms / 1000) + " s; announcing the addresses anyway.";
  }
  std::vector<uint32_t> ips;
  for (const auto& a : s.addrs) ips.push_back(a.addr);
  if (auto e = in_netns(s.netns_path, [&] { return send_gratuitous_arps(s.ifname, ips); });
      !e.empty()) {
    if (!notes.empty()) notes += "\n";
    notes += "Note: could not announce the addresses with a gratuitous ARP (" + e +
             "); peers learn them at the workload's first packet instead.";
  }
  return notes;
}

}  // namespace weft
