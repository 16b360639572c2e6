// `weft connect` and `weft forget`: change the addresses the router keeps connecting to.
#include <CLI/CLI.hpp>
#include <algorithm>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/output.h"
#include "cli/router_api.h"
#include "common/host_port.h"

namespace weft::cli {

namespace {

using nlohmann::json;

struct TargetOptions {
  std::vector<std::string> peers;
  bool replace = false;
};

void validate_peers(const std::vector<std::string>& peers) {
  for (const auto& p : peers) {
    try {
      parse_host_port(p, kDefaultPort);
    } catch (const std::invalid_argument& e) {
      throw CliError("invalid peer \"" + p + "\": " + e.what() +
                     ". A peer is HOST or HOST:PORT, e.g. 10.0.0.2 or 10.0.0.2:6783.");
    }
  }
}

std::vector<std::string> targets_of(const json& j) {
  std::vector<std::string> out;
  if (j.is_object() && j.contains("targets") && j["targets"].is_array()) {
    for (const auto& t : j["targets"]) {
      if (t.is_string()) out.push_back(t.get<std::string>());
    }
  }
  return out;
}

// Items of `a` not in `b`, in `a`'s order.
std::vector<std::string> minus(const std::vector<std::string>& a,
                               const std::vector<std::string>& b) {
  std::vector<std::string> out;
  for (const auto& x : a) {
    if (std::find(b.begin(), b.end(), x) == b.end()) out.push_back(x);
  }
  return out;
}

std::string now_line(const std::vector<std::string>& targets) {
  return targets.empty() ? "The router now has no targets." : "Targets now: " + join(targets) + ".";
}

void run_connect(const Context& ctx, const TargetOptions& o) {
  if (o.peers.empty() && !o.replace) {
    throw CliError(
        "give at least one peer to connect to (HOST or HOST:PORT); "
        "`weft connect --replace` alone removes every target.");
  }
  validate_peers(o.peers);
  // The answer only lists the new targets; the status taken first shows what changed.
  std::vector<std::string> before = targets_of(get_status(ctx));
  std::vector<std::string> after =
      targets_of(post_json(ctx, "/connect", {{"peers", o.peers}, {"replace", o.replace}}));
  std::vector<std::string> added = minus(after, before), removed = minus(before, after);
  if (added.empty() && removed.empty()) {
    say("Nothing changed: " + join(o.peers) + (o.peers.size() == 1 ? " was" : " were") +
        " already among the targets. `weft status connections` shows how the connections are "
        "doing.");
    return;
  }
  if (!removed.empty()) say("Removed targets: " + join(removed) + ".");
  if (!added.empty()) {
    say("Added targets: " + join(added) +
        ". The router connects to them now; `weft status connections` shows progress.");
  }
  say(now_line(after));
}

void run_forget(const Context& ctx, const TargetOptions& o) {
  validate_peers(o.peers);
  std::vector<std::string> before = targets_of(get_status(ctx));
  std::vector<std::string> after = targets_of(post_json(ctx, "/forget", {{"peers", o.peers}}));
  std::vector<std::string> removed = minus(before, after);
  if (removed.empty()) {
    say("Nothing to forget: " + join(o.peers) + (o.peers.size() == 1 ? " is" : " are") +
        " not among the targets. `weft status targets` lists them.");
    return;
  }
  say("Forgot " + join(removed) + ": the router no longer tries to (re)connect to " +
      (removed.size() == 1 ? "it." : "them."));
  say(now_line(after));
}

}  // namespace

void add_target_commands(CLI::App& app, Context& ctx) {
  auto c = std::make_shared<TargetOptions>();
  CLI::App* connect = app.add_subcommand(
      "connect", "Make the router connect to more peers (and keep reconnecting to them)");
  connect->add_flag("--replace", c->replace, "Replace the current targets instead of adding");
  connect->add_option("peers", c->peers, "Peers: HOST or HOST:PORT");
  connect->callback([&ctx, c] { run_connect(ctx, *c); });

  auto f = std::make_shared<TargetOptions>();
  CLI::App* forget =
      app.add_subcommand("forget", "Stop the router from (re)connecting to these peers");
  forget->add_option("peers", f->peers, "Peers as given to `weft launch` or `weft connect`")
      ->required();
  forget->callback([&ctx, f] { run_forget(ctx, *f); });
}

}  // namespace weft::cli
