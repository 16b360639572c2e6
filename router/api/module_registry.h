#pragma once
// How a module (IPAM, the cluster state, DNS...) plugs into the router: one interface through
// which it registers its gossip channel (with membership and deadlines, see
// gossip/gossip_channel.h), its API routes and its metrics. The router implements it; a module
// never reaches into router internals.
#include <functional>
#include <string>

#include "gossip/gossip_channel.h"
#include "router/api/api_router.h"

namespace weft {

class ModuleRegistry {
 public:
  virtual ~ModuleRegistry() = default;
  // The mesh delivers the channel's messages and drives its timers from now on.
  virtual void add_channel(std::string name, GossipChannel* channel) = 0;
  virtual void add_route(ApiRoute route) = 0;
  // Called on every GET /metrics; returns Prometheus text (HELP/TYPE lines included).
  virtual void add_metrics(std::function<std::string()> text) = 0;
};

}  // namespace weft
