#pragma once
// DNS as a router module (issue 11): the cluster domain's zone, fed from the cluster state
// (DnsZoneFeed), served by a DnsServer on the address this host's workloads reach, with its
// routes and metrics registered through the ModuleRegistry. The daemon only constructs and
// starts it.
//
// Where it listens: `--dns-listen ADDR[:PORT]` when given (bound at start; a failure stops the
// router, with the fix). Otherwise it follows the bridge's first IPv4 address, port 53: the
// host's overlay address (`weft expose`, or what `weft attach` gives the host for DNS), which
// every workload on this host reaches through its route for the overlay range. The bridge is
// polled (bridge_poll_ms); while it has no address nothing is bound, and a new address
// rebinds. Workloads on other hosts use their own host's router: every router answers the
// whole cluster domain.
//
// Routes:
//   GET /dns/lookup?name=NAME  see dns_server.h
//   GET /dns/status            {"enabled", "listen": "10.32.0.1:53" or "", "follows_bridge",
//                               "bridge", "domain": "weft.local.", "ttl", "upstreams": [...]}
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "dns/zone.h"
#include "router/api/module_registry.h"
#include "router/os/dns_server.h"
#include "router/os/dns_zone_feed.h"
#include "router/os/state_service.h"

namespace weft {

struct DnsModuleConfig {
  bool enabled = true;  // --no-dns: false (no socket; /dns/lookup still answers)
  std::string listen;   // --dns-listen; "": follow the bridge's address (see above)
  std::string bridge = "weft";
  std::string domain = "weft.local.";  // --dns-domain
  uint32_t ttl_s = 1;                  // --dns-ttl
  std::vector<std::string> upstreams;  // --dns-upstream; empty: the host's resolv.conf
  std::string resolv_conf = "/etc/resolv.conf";
  int64_t bridge_poll_ms = 1000;
};

class DnsModule {
 public:
  // Throws std::invalid_argument (a sentence for the user) for an invalid domain.
  DnsModule(boost::asio::io_context& io, DnsModuleConfig cfg, StateService& state);
  ~DnsModule();
  DnsModule(const DnsModule&) = delete;
  DnsModule& operator=(const DnsModule&) = delete;

  // Loads the zone from the state and follows it, binds (or starts following the bridge), adds
  // the routes and metrics. Throws std::runtime_error when an explicit --dns-listen cannot be
  // bound.
  void start(ModuleRegistry& registry);

  // What a workload in namespace `ns` should put in its resolver config, as a CNI result's "dns"
  // ({"nameservers", "domain", "search", "options"}), or null while DNS does not serve on port 53
  // of an address (CNI's nameservers carry no port).
  nlohmann::json resolver_config(const std::string& ns) const;

  // The first IPv4 address of interface `ifname` in this namespace, host byte order; 0 if none.
  static uint32_t interface_address(const std::string& ifname);

 private:
  void follow_bridge();
  std::string metrics_text() const;

  DnsModuleConfig cfg_;
  StateService& state_;
  dns::DnsZone zone_;
  DnsZoneFeed feed_;
  std::unique_ptr<DnsServer> server_;
  boost::asio::steady_timer bridge_timer_;
  // The bridge address the server follows; a sentinel until the first look (logged then).
  uint32_t bridge_addr_ = UINT32_MAX;
  uint64_t bind_failures_ = 0;
};

}  // namespace weft
