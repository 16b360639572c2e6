#pragma once
// A workload's resolver config (issue 11): `weft attach` points the workload at this host's
// router for DNS, `weft detach` takes that back.
//
// - A named netns NETNS gets /etc/netns/NETNS/resolv.conf, which `ip netns exec NETNS` (and
//   anything else that enters it the iproute2 way) bind-mounts over /etc/resolv.conf:
//       nameserver ROUTER_DNS
//       search NS.DOMAIN DOMAIN       (DOMAIN alone for namespace default)
//       options ndots:2
//   so `getent hosts web` and `ping web.shop` resolve (dns::workload_resolv_conf says why
//   ndots:2). The file starts with a comment saying weft wrote it; a resolv.conf there that weft
//   did not write is left alone (and said so), and detach removes only weft's.
// - A --pid workload's files are its own (its mount namespace, an image's /etc): weft writes
//   nothing there, and attach prints the lines to put in it.
// - ROUTER_DNS is where the router serves DNS (GET /dns/status). By default that is the
//   host's overlay address on the bridge; a host that has none gets one from IPAM first, as
//   `weft expose` does, and attach waits (up to 3 s) until the router serves on it.
// - With `weft launch --no-dns`, on a port other than 53 (resolv.conf cannot say one), or on a
//   loopback address (workloads cannot reach it), nothing is written and attach says why.
#include <string>

#include "cli/context.h"
#include "cli/overlay_state.h"
#include "common/ipv4_cidr.h"

namespace weft::cli {

// Called by attach with the data dir lock held, once the workload is attached; `k8s_ns` is its
// namespace ("default"...). Returns a sentence for attach's report ("" when there is nothing to
// say). Never throws for a DNS problem: the workload stays attached, and the sentence says
// what went wrong.
std::string configure_workload_dns(const Context& ctx, const NetnsRef& ns,
                                   const std::string& k8s_ns, const Ipv4Cidr& range);
// Called by detach: removes /etc/netns/NETNS/resolv.conf if weft wrote it (and the directory
// if that leaves it empty). Nothing for --pid workloads.
void remove_workload_dns(const NetnsRef& ns);

// The file attach writes for the named netns `netns` (tests, and `remove_workload_dns`).
std::string workload_resolv_conf_path(const std::string& netns);

}  // namespace weft::cli
