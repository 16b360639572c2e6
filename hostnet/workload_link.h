#pragma once
// A workload's link to the overlay: a veth pair from the bridge `weft` (host end "vethwe" + 8
// hex digits) into the workload's network namespace (ARCHITECTURE.md §1), with its addresses, the
// overlay MTU, IPv6 autoconfiguration off and a route for the overlay range. The one way weft
// makes it: `weft attach` (cli/attach.cpp) and the router's CNI endpoint /workloads/attach
// (router/os/workload_attacher.h) both call create_workload_link. Neither IPAM nor the workload
// record is done here: the caller has the addresses already and registers the workload after.
#include <string>
#include <vector>

#include "common/ipv4_cidr.h"
#include "common/overlay.h"

namespace weft {

struct WorkloadLinkSpec {
  std::string netns_path;  // e.g. /run/netns/w1, /proc/PID/ns/net
  std::string label;       // the namespace in messages, e.g. "w1", "container 3f2a..."
  // How a user runs `ip` in the namespace, for hints ("ip -n w1", "nsenter --net=PATH ip").
  std::string ip_in_hint;
  std::string ifname = kWorkloadIfName;  // the interface inside the namespace
  std::string bridge = kBridgeName;
  std::vector<Ipv4Cidr> addrs;  // at least one
  int mtu = 0;
  Ipv4Cidr range;  // the overlay range: routed on `ifname` unless an address's prefix covers it
};

struct WorkloadLink {
  std::string veth;     // the host end, on the bridge
  std::string mac;      // of `ifname`, inside the namespace
  bool routed = false;  // a route for the range was added
};

// Creates the pair in one request (the inner end directly inside the namespace), then sets it
// up as the header says. Throws HostNetError saying what failed; the half-made pair is then
// removed and the message ends by saying so (or how to remove it by hand).
WorkloadLink create_workload_link(const WorkloadLinkSpec& spec);

// Removes the pair by its host end (the inner end goes with it); nothing when it is gone
// already. Returns a sentence for the end of an error message: "Nothing was left behind: ..."
// or how to remove it by hand.
std::string remove_workload_link(const std::string& veth, const std::string& ifname);

// Once the bridge forwards the port (it comes up a moment after the inner end, at most
// `limit_ms`), announces the addresses with gratuitous ARPs from inside the namespace, so the
// bridge and the router learn where they live. Returns notes for the user ("" when all went
// well); never fails the attach.
std::string announce_workload(const WorkloadLinkSpec& spec, const std::string& veth,
                              int limit_ms = 3000);

}  // namespace weft
