// `weft label NETNS|--pid PID K=V... K-...` and `weft namespace label|list`: labels on
// workloads and namespaces, as NetworkPolicies select them (kubectl label semantics: K=V sets,
// K- removes). The router checks keys and values as Kubernetes does and keeps them.
#include <CLI/CLI.hpp>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/output.h"
#include "cli/overlay_state.h"
#include "cli/router_api.h"
#include "common/text_table.h"

namespace weft::cli {

namespace {

using nlohmann::json;

// {"set": {...}, "remove": [...]} from K=V and K- arguments.
json label_changes(const std::vector<std::string>& args) {
  if (args.empty()) throw CliError("give at least one label: KEY=VALUE sets it, KEY- removes it.");
  json set = json::object(), remove = json::array();
  for (const auto& a : args) {
    size_t eq = a.find('=');
    if (eq != std::string::npos && eq > 0) {
      set[a.substr(0, eq)] = a.substr(eq + 1);
    } else if (a.size() > 1 && a.back() == '-') {
      remove.push_back(a.substr(0, a.size() - 1));
    } else {
      throw CliError("invalid label \"" + a + "\": KEY=VALUE sets a label, KEY- removes one.");
    }
  }
  return {{"set", set}, {"remove", remove}};
}

std::string format_labels(const json& labels) {
  std::string out;
  for (const auto& [k, v] : labels.items())
    out += (out.empty() ? "" : ",") + k + "=" + v.get<std::string>();
  return out.empty() ? "<none>" : out;
}

struct LabelOptions {
  std::vector<std::string> args;  // NETNS then labels, or only labels with --pid
  int pid = 0;
};

void run_label(const Context& ctx, const LabelOptions& o) {
  std::vector<std::string> labels = o.args;
  NetnsRef ns;
  if (o.pid > 0) {
    ns.pid = o.pid;
  } else {
    if (labels.empty())
      throw CliError("give the workload: `weft label NETNS K=V...` or --pid PID.");
    ns.name = labels.front();
    labels.erase(labels.begin());
  }
  json body = label_changes(labels);
  body["id"] = ns.label();
  json r;
  try {
    r = post_json_or_refusal(ctx, "/workloads/label", body, std::chrono::seconds(10));
  } catch (const RouterRefusal& e) {
    throw CliError(e.what());
  }
  say("workload " + ns.label() + " " + r.value("result", "labeled") + ": labels now " +
      format_labels(r["workload"].value("labels", json::object())) + ".");
}

void run_namespace_label(const Context& ctx, const std::vector<std::string>& args) {
  if (args.empty()) throw CliError("give the namespace: `weft namespace label NS K=V... K-...`.");
  json body = label_changes({args.begin() + 1, args.end()});
  body["namespace"] = args.front();
  json r;
  try {
    r = post_json_or_refusal(ctx, "/namespaces/label", body, std::chrono::seconds(10));
  } catch (const RouterRefusal& e) {
    throw CliError(e.what());
  }
  say("namespace/" + args.front() + " " + r.value("result", "labeled") + ": labels now " +
      format_labels(r["namespace"].value("labels", json::object())) + ".");
}

void run_namespace_list(const Context& ctx, bool as_json) {
  json list = get_json(ctx, "/namespaces").at("namespaces");
  if (as_json) {
    std::cout << list.dump(2) << "\n";
    return;
  }
  std::vector<std::vector<std::string>> table{{"NAME", "LABELS"}};
  for (const auto& n : list)
    table.push_back({n.value("name", ""), format_labels(n.value("labels", json::object()))});
  std::cout << text_table(table) << std::flush;
}

}  // namespace

void add_label_commands(CLI::App& app, Context& ctx) {
  auto lo = std::make_shared<LabelOptions>();
  CLI::App* label = app.add_subcommand(
      "label",
      "Change an attached workload's labels: KEY=VALUE sets one, KEY- removes one.\n"
      "  weft label web1 app=web tier-        weft label --pid 1234 app=db");
  label->add_option("args", lo->args, "NETNS (unless --pid), then KEY=VALUE and KEY- changes");
  label->add_option("--pid", lo->pid, "The workload's process (as given to attach)")
      ->check(CLI::PositiveNumber);
  label->callback([&ctx, lo] { run_label(ctx, *lo); });

  CLI::App* ns =
      app.add_subcommand("namespace", "Namespaces: their labels, as policies select them");
  ns->require_subcommand(1);
  auto nargs = std::make_shared<std::vector<std::string>>();
  CLI::App* nl = ns->add_subcommand(
      "label", "Set (KEY=VALUE) or remove (KEY-) labels of a namespace, cluster-wide");
  nl->add_option("args", *nargs, "NS, then KEY=VALUE and KEY- changes")->required();
  nl->callback([&ctx, nargs] { run_namespace_label(ctx, *nargs); });
  auto njson = std::make_shared<bool>(false);
  CLI::App* nls = ns->add_subcommand("list", "Every namespace in use or labelled, with its labels");
  nls->add_flag("--json", *njson, "Print them as JSON");
  nls->callback([&ctx, njson] { run_namespace_list(ctx, *njson); });
}

}  // namespace weft::cli
