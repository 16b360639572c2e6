#pragma once
// What `weft expose` does, for other commands: `weft attach` gives the host an overlay address
// when the router's DNS server waits for one (see cli/workload_dns.h).
#include "cli/context.h"
#include "common/ipv4_cidr.h"

namespace weft::cli {

// Unless the bridge has an IPv4 address already, takes one from IPAM for this host (holder
// "host") and puts it on the bridge, with a route for `range`, as `weft expose` without an
// address does (and says so). The caller holds the data dir lock. Returns the bridge's first
// address. Throws CliError when that cannot be done.
Ipv4Cidr ensure_host_exposed(const Context& ctx, const Ipv4Cidr& range);

}  // namespace weft::cli
