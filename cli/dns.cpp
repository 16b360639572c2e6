// `weft dns-add IP... NAME`, `weft dns-remove IP... NAME`, `weft dns-lookup NAME`: weave's DNS
// verbs. Records added by hand are cluster-wide: the router stores them (persisted in its data
// dir) and every router answers them. Names are relative to the cluster domain ("web",
// "web.shop" for namespace shop) or absolute inside it ("web.weft.local.").
//
//   POST /dns/add    {"ips": ["10.32.0.5", ...], "name": "web"}
//   POST /dns/remove {"ips": ["10.32.0.5", ...], "name": "web"}
//   GET  /dns/lookup?name=web  -> {"name": "web.weft.local.", "addresses": [...]}
#include <CLI/CLI.hpp>
#include <memory>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/output.h"
#include "cli/router_api.h"
#include "common/ipv4_cidr.h"
#include "dns/name.h"

namespace weft::cli {

namespace {

struct DnsArgs {
  std::vector<std::string> words;  // IP... NAME
};

void check_name(const std::string& name) {
  auto n = dns::parse_name(name);
  if (!n || n->labels.empty())
    throw CliError("\"" + name +
                   "\" is not a DNS name: use labels of letters, digits and '-' separated by "
                   "dots, like web or web.shop (namespace shop)");
}

// "10.32.0.5" or "10.32.0.5/12" (as `weft ps` shows addresses) -> "10.32.0.5".
std::vector<std::string> check_ips(const std::vector<std::string>& words) {
  std::vector<std::string> ips;
  for (const std::string& w : words) {
    auto ip = parse_ipv4(std::string_view(w).substr(0, w.find('/')));
    if (!ip)
      throw CliError("\"" + w +
                     "\" is not an IPv4 address; give the addresses first and the name last, "
                     "like: weft dns-add 10.32.0.5 web");
    ips.push_back(format_ipv4(*ip));
  }
  return ips;
}

std::string route_missing(const std::string& verb) {
  return "the weft router does not serve DNS records (" + verb +
         " is not available: is the router older than this weft? `weft version` shows both)";
}

void run_change(const Context& ctx, const DnsArgs& a, bool add) {
  const std::string verb = add ? "dns-add" : "dns-remove";
  if (a.words.size() < 2)
    throw CliError("weft " + verb + " needs at least one IP address and a name, like: weft " +
                   verb + " 10.32.0.5 web");
  std::string name = a.words.back();
  check_name(name);
  std::vector<std::string> ips =
      check_ips(std::vector<std::string>(a.words.begin(), a.words.end() - 1));
  nlohmann::json r;
  try {
    r = post_json_or_refusal(ctx, add ? "/dns/add" : "/dns/remove", {{"ips", ips}, {"name", name}},
                             std::chrono::seconds(10));
  } catch (const RouterRefusal& e) {
    if (e.status == 404) throw CliError(route_missing(verb));
    throw CliError("cannot " + std::string(add ? "add " : "remove ") + join(ips) +
                   (add ? " to " : " from ") + name + ": " + e.what() + ".");
  }
  std::string full = r.value("name", name);
  if (add) {
    say("Added " + join(ips) + " to " + full +
        ". Every weft host answers it within seconds, and it stays until `weft dns-remove " +
        join(ips, " ") + " " + name + "`, across restarts.");
  } else {
    say("Removed " + join(ips) + " from " + full +
        " (addresses of attached workloads stay until they are detached).");
  }
}

void run_lookup(const Context& ctx, const std::string& name) {
  check_name(name);
  nlohmann::json r = get_json(ctx, "/dns/lookup?name=" + name);
  const auto& addrs = r.value("addresses", nlohmann::json::array());
  if (addrs.empty())
    throw CliError(r.value("name", name) +
                   " has no addresses in weft DNS (`weft ps --all` lists workloads and their "
                   "names; `weft dns-add IP " +
                   name + "` adds one)");
  for (const auto& a : addrs) say(a.get<std::string>());
}

}  // namespace

void add_dns_commands(CLI::App& app, Context& ctx) {
  for (bool add : {true, false}) {
    auto a = std::make_shared<DnsArgs>();
    CLI::App* cmd = app.add_subcommand(
        add ? "dns-add" : "dns-remove",
        add ? "Add IPv4 addresses to a name in weft DNS, on every host, kept across restarts"
            : "Remove addresses added with dns-add from a name");
    cmd->add_option("IP... NAME", a->words,
                    "Addresses, then the name: relative to the cluster domain (web, or web.shop "
                    "for namespace shop) or absolute (web.weft.local.)")
        ->required();
    cmd->callback([&ctx, a, add] { run_change(ctx, *a, add); });
  }
  auto name = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand(
      "dns-lookup", "Print the addresses weft DNS answers for a name, one per line");
  cmd->add_option("NAME", *name, "web, web.shop or web.shop.weft.local.")->required();
  cmd->callback([&ctx, name] { run_lookup(ctx, *name); });
}

}  // namespace weft::cli
