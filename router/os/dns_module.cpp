#include "router/os/dns_module.h"

#include <ifaddrs.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>

#include <cstring>
#include <nlohmann/json.hpp>
#include <set>

#include "common/host_port.h"
#include "common/ipv4_cidr.h"
#include "dns/upstreams.h"

namespace weft {

using nlohmann::json;

namespace {

DnsServerConfig server_config(const DnsModuleConfig& c) {
  DnsServerConfig s;
  s.enabled = c.enabled;
  s.listen = c.listen;
  s.ttl_s = c.ttl_s;
  s.upstreams = c.upstreams;
  s.resolv_conf = c.resolv_conf;
  return s;
}

}  // namespace

DnsModule::DnsModule(boost::asio::io_context& io, DnsModuleConfig cfg, StateService& state)
    : cfg_(std::move(cfg)),
      state_(state),
      zone_(cfg_.domain),
      feed_(zone_),
      server_(std::make_unique<DnsServer>(io, server_config(cfg_), zone_)),
      bridge_timer_(io) {}

DnsModule::~DnsModule() {
  bridge_timer_.cancel();
}

uint32_t DnsModule::interface_address(const std::string& ifname) {
  ifaddrs* ifs = nullptr;
  if (getifaddrs(&ifs) != 0) return 0;
  uint32_t found = 0;
  for (ifaddrs* i = ifs; i && !found; i = i->ifa_next)
    if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET && ifname == i->ifa_name)
      found = ntohl(reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr.s_addr);
  freeifaddrs(ifs);
  return found;
}

void DnsModule::start(ModuleRegistry& registry) {
  feed_.load(state_.core().table());
  state_.on_changes([this](const state::Change& c) { feed_.apply(c, state_.core().table()); });
  registry.add_route({"GET", "/dns/lookup", ApiAccess::kRead,
                      [this](const HttpRequest& req, HttpResponder respond) {
                        server_->handle(req, std::move(respond));
                      }});
  registry.add_route(
      {"GET", "/dns/status", ApiAccess::kRead, [this](const HttpRequest&, HttpResponder respond) {
         json j = {{"enabled", cfg_.enabled},
                   {"listen", server_->listen_address()},
                   {"follows_bridge", cfg_.enabled && cfg_.listen.empty()},
                   {"bridge", cfg_.bridge},
                   {"domain", zone_.domain().to_string()},
                   {"ttl", cfg_.ttl_s},
                   {"upstreams", server_->upstreams()}};
         respond({200, "application/json", j.dump()});
       }});
  registry.add_metrics([this] { return metrics_text(); });
  if (!cfg_.enabled) {
    spdlog::info("DNS: off (--no-dns); names are still kept for `weft dns-lookup`");
    return;
  }
  if (!cfg_.listen.empty()) {
    server_->start();
    return;
  }
  follow_bridge();
}

// Binds to the bridge's address when it appears or changes; unbinds when it goes.
void DnsModule::follow_bridge() {
  uint32_t a = interface_address(cfg_.bridge);
  if (a != bridge_addr_) {
    bridge_addr_ = a;
    if (a == 0) {
      server_->stop();
      spdlog::info(
          "DNS: the bridge {} has no IPv4 address: not serving until it has one (`weft "
          "expose`, or the first `weft attach`)",
          cfg_.bridge);
    } else {
      try {
        server_->set_listen(format_ipv4(a) + ":53");
      } catch (const std::exception& e) {
        ++bind_failures_;
        spdlog::error("DNS: {}", e.what());
      }
    }
  }
  bridge_timer_.expires_after(std::chrono::milliseconds(cfg_.bridge_poll_ms));
  bridge_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) follow_bridge();
  });
}

nlohmann::json DnsModule::resolver_config(const std::string& ns) const {
  const std::string listen = server_->listen_address();
  if (listen.empty()) return nullptr;
  HostPort hp;
  try {
    hp = parse_host_port(listen, 53);
  } catch (const std::invalid_argument&) {
    return nullptr;
  }
  if (hp.port != 53) return nullptr;
  std::string domain = cfg_.domain;
  if (!domain.empty() && domain.back() == '.') domain.pop_back();
  return {{"nameservers", {hp.host}},
          {"domain", domain},
          {"search", dns::workload_search(ns, cfg_.domain)},
          {"options", {dns::kWorkloadResolverOptions}}};
}

std::string DnsModule::metrics_text() const {
  std::string m = server_->metrics_text();
  m += "# HELP weft_dns_names Names in the cluster domain (workloads and records added by hand).\n"
       "# TYPE weft_dns_names gauge\n";
  std::set<std::string> names;
  for (const auto& e : zone_.entries()) names.insert(e.name);
  m += "weft_dns_names " + std::to_string(names.size()) + "\n";
  m += "# HELP weft_dns_skipped_objects_total Workloads and records that got no DNS name.\n"
       "# TYPE weft_dns_skipped_objects_total counter\n"
       "weft_dns_skipped_objects_total " +
       std::to_string(feed_.skipped()) + "\n";
  m += "# HELP weft_dns_bind_failures_total Times the DNS server could not bind its address.\n"
       "# TYPE weft_dns_bind_failures_total counter\n"
       "weft_dns_bind_failures_total " +
       std::to_string(bind_failures_) + "\n";
  m += "# HELP weft_dns_listening Whether the DNS server is bound (1) or not (0).\n"
       "# TYPE weft_dns_listening gauge\n"
       "weft_dns_listening " +
       std::string(server_->listen_address().empty() ? "0" : "1") + "\n";
  return m;
}

}  // namespace weft
