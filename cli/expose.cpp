// `weft expose` and `weft hide`: give the host itself an address on the overlay (on the bridge
// weft), so it can talk to the workloads, and take it away again.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <filesystem>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/datadir_lock.h"
#include "cli/expose.h"
#include "hostnet/host_net.h"
#include "cli/ipam_client.h"
#include "cli/output.h"
#include "cli/overlay_state.h"
#include "cli/workload_registry.h"
#include "common/ipv4_cidr.h"

namespace weft::cli {

namespace {

namespace fs = std::filesystem;

Ipv4Cidr parse_given(const std::string& s, const Ipv4Cidr& range) {
  try {
    return parse_ipv4_cidr(s, range.prefix);
  } catch (const std::invalid_argument& e) {
    throw CliError("invalid address: " + std::string(e.what()) + ".");
  }
}

// The host's conventional overlay address: the range's first.
std::string host_example(const Ipv4Cidr& range) {
  return Ipv4Cidr{range.network() + 1, range.prefix}.to_string();
}

std::string list(const std::vector<Ipv4Cidr>& addrs) {
  std::vector<std::string> s;
  for (const auto& a : addrs) s.push_back(a.to_string());
  return join(s);
}

// Whether the overlay range is routed through the bridge (a route `weft expose` added).
bool range_routed_via_bridge(const Ipv4Cidr& range) {
  ProgramResult r = ip({"-j", "route", "show", "exact", range.to_string()});
  if (!r.ok()) return false;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  if (!j.is_array()) return false;
  for (const auto& route : j) {
    if (route.is_object() && route.value("dev", "") == kBridgeName) return true;
  }
  return false;
}

void expose_address(const Context& ctx, const Ipv4Cidr& c, const Ipv4Cidr& range);

void run_expose(const Context& ctx, const std::string& given) {
  const std::string dir = ctx.datadir();
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    throw CliError("weft is not set up on this host (no " + dir + "); run `weft launch` first.");
  }
  DatadirLock lock(dir);
  OverlayConfig cfg = require_overlay_config(ctx);
  const Ipv4Cidr range = parse_ipv4_cidr(cfg.range);
  if (!bridge_exists()) {
    throw CliError(std::string("the bridge ") + kBridgeName +
                   " is missing on this host; run `weft launch` to create it, then expose.");
  }
  if (given.empty()) {
    // IPAM picks the address; the checks below hold for it by construction.
    Ipv4Cidr a = ipam_addresses(ctx, kHostHolder, {}, "for this host").front();
    for (const auto& b : bridge_addresses()) {
      if (b.addr == a.addr) {
        say("This host already has " + b.to_string() + " on the overlay (bridge " + kBridgeName +
            "); nothing to do. `weft hide` removes it.");
        return;
      }
    }
    expose_address(ctx, a, range);
    return;
  }
  Ipv4Cidr c = parse_given(given, range);
  if (!range.contains(c.addr)) {
    throw CliError(c.to_string() + " is outside the overlay range " + range.to_string() +
                   "; give an address inside it, like " + host_example(range) + ".");
  }
  if (c.prefix < 31 && (c.addr == c.network() || c.addr == c.broadcast() ||
                        c.addr == range.network() || c.addr == range.broadcast())) {
    throw CliError(c.to_string() +
                   " is a network or broadcast address, which no interface can use; give a host "
                   "address like " +
                   host_example(range) + ".");
  }
  for (const auto& b : bridge_addresses()) {
    if (b == c) {
      say("This host already has " + c.to_string() + " on the overlay (bridge " + kBridgeName +
          "); nothing to do. `weft hide " + c.to_string() + "` removes it.");
      return;
    }
    if (b.addr == c.addr) {
      throw CliError("this host already has " + c.address() + " on the overlay as " +
                     b.to_string() + "; `weft hide " + b.to_string() + "` first to change it.");
    }
  }
  for (const auto& r : read_workloads(ctx)) {
    if (is_stale(r)) continue;
    for (const auto& ip : r.ips) {
      if (parse_ipv4_cidr(ip, 32).addr == c.addr) {
        throw CliError(c.address() + " is already used by the workload " + r.name + " (netns " +
                       r.netns_label() + "); choose another address.");
      }
    }
  }
  ipam_addresses(ctx, kHostHolder, {c}, "for this host");
  expose_address(ctx, c, range);
}

// Puts the (IPAM-held) address on the bridge, with a route for the range when needed.
void expose_address(const Context& ctx, const Ipv4Cidr& c, const Ipv4Cidr& range) {
  ProgramResult added = ip({"addr", "add", c.to_string(), "dev", kBridgeName});
  if (!added.ok()) ipam_release(ctx, kHostHolder, c.addr);
  must(added, "add " + c.to_string() + " to the bridge " + kBridgeName, "Run the command as root.");
  bool routed = false;
  if (!c.covers(range) && !range_routed_via_bridge(range)) {
    ProgramResult r = ip({"route", "add", range.to_string(), "dev", kBridgeName});
    if (!r.ok()) {
      ip({"addr", "del", c.to_string(), "dev", kBridgeName});
      ipam_release(ctx, kHostHolder, c.addr);
      must(r, "route the overlay range " + range.to_string() + " through the bridge",
           "Does this host route that range elsewhere (`ip route`)? Nothing was changed.");
    }
    routed = true;
  }
  if (auto e = send_gratuitous_arps(kBridgeName, {c.addr}); !e.empty()) {
    warn("Note: could not announce " + c.address() + " with a gratuitous ARP (" + e + ").");
  }
  say("This host now has " + c.to_string() + " on the overlay (bridge " + kBridgeName + ")" +
      (routed ? ", with a route for " + range.to_string() : "") +
      ": it can reach the workloads and they can reach it. `weft hide " + c.to_string() +
      "` removes it.");
}

void run_hide(const Context& ctx, const std::string& given) {
  if (!bridge_exists()) {
    say(std::string("Nothing to hide: there is no bridge ") + kBridgeName +
        " on this host, so it has no overlay address. `weft expose CIDR` gives it one.");
    return;
  }
  std::optional<DatadirLock> lock;
  std::optional<OverlayConfig> cfg;
  std::error_code ec;
  if (fs::is_directory(ctx.datadir(), ec)) {
    lock.emplace(ctx.datadir());
    cfg = read_overlay_config(ctx);
  }
  const Ipv4Cidr range = parse_ipv4_cidr(cfg ? cfg->range : kDefaultOverlayRange);
  std::vector<Ipv4Cidr> exposed = bridge_addresses();
  std::vector<Ipv4Cidr> targets;
  if (given.empty()) {
    targets = exposed;
  } else {
    Ipv4Cidr c = parse_given(given, range);
    for (const auto& b : exposed) {
      if (b.addr == c.addr) targets.push_back(b);
    }
    if (targets.empty()) {
      say(c.address() + " is not exposed on this host; nothing to hide. " +
          (exposed.empty() ? "This host has no overlay address."
                           : "Its overlay addresses: " + list(exposed) + "."));
      return;
    }
  }
  if (targets.empty()) {
    say("This host has no overlay address; nothing to hide. `weft expose CIDR` gives it one.");
    return;
  }
  for (const auto& t : targets) {
    must(ip({"addr", "del", t.to_string(), "dev", kBridgeName}),
         "remove " + t.to_string() + " from the bridge " + kBridgeName, "Run the command as root.");
    if (auto e = ipam_release(ctx, kHostHolder, t.addr); !e.empty())
      warn("Note: IPAM could not release " + t.address() + " (" + e +
           "); it stays allocated to this host.");
  }
  if (targets.size() == exposed.size() && range_routed_via_bridge(range)) {
    ip({"route", "del", range.to_string(), "dev", kBridgeName});
  }
  std::vector<Ipv4Cidr> rest;
  for (const auto& b : exposed) {
    if (std::find(targets.begin(), targets.end(), b) == targets.end()) rest.push_back(b);
  }
  std::string left = rest.empty() ? "this host no longer has an address on the overlay."
                                  : "this host keeps " + list(rest) + ".";
  say("Hid " + list(targets) + ": " + left + " `weft expose CIDR` exposes it again.");
}

}  // namespace

Ipv4Cidr ensure_host_exposed(const Context& ctx, const Ipv4Cidr& range) {
  if (auto have = bridge_addresses(); !have.empty()) return have.front();
  Ipv4Cidr a = ipam_addresses(ctx, kHostHolder, {}, "for this host").front();
  expose_address(ctx, a, range);
  return a;
}

void add_expose_commands(CLI::App& app, Context& ctx) {
  auto e = std::make_shared<std::string>();
  CLI::App* expose = app.add_subcommand(
      "expose",
      "Give this host an address on the overlay (on the bridge weft), so it can talk to the "
      "workloads: `weft expose` (IPAM picks the address) or `weft expose 10.32.0.1/12`");
  expose->add_option("cidr", *e,
                     "IP/CIDR inside the overlay range (a bare IP gets its prefix); default: one "
                     "from IPAM");
  expose->callback([&ctx, e] { run_expose(ctx, *e); });

  auto h = std::make_shared<std::string>();
  CLI::App* hide = app.add_subcommand(
      "hide", "Remove this host's overlay address (the given one, or all of them)");
  hide->add_option("cidr", *h, "The address to remove (default: every one)");
  hide->callback([&ctx, h] { run_hide(ctx, *h); });
}

}  // namespace weft::cli
