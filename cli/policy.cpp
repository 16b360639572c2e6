// `weft policy apply|list|get|delete`: NetworkPolicies (networking.k8s.io/v1), kept by the
// router in the cluster state and enforced by weft-npc. `apply` takes what `kubectl apply -f`
// takes for NetworkPolicies: YAML or JSON, several documents, or a `kind: List`; the whole input
// is checked first (k8s/policy_documents.h), and an invalid document applies nothing.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <fstream>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/output.h"
#include "cli/router_api.h"
#include "common/http_message.h"
#include "common/text_table.h"
#include "k8s/label_selector.h"
#include "k8s/network_policy.h"
#include "k8s/policy_documents.h"
#include "k8s/yaml_json.h"
#include "npc/cluster_view_json.h"
#include "npc/planner.h"
#include "npc/why.h"

namespace weft::cli {

namespace {

using nlohmann::json;

// What a policy selects, as `kubectl get networkpolicy` shows it.
std::string selector_text(const json& spec) {
  static const json kEmpty = json::object();
  auto it = spec.find("podSelector");
  const json& sel = it != spec.end() && it->is_object() ? *it : kEmpty;
  std::string out;
  if (auto ml = sel.find("matchLabels"); ml != sel.end() && ml->is_object())
    for (auto kv = ml->begin(); kv != ml->end(); ++kv)
      out += (out.empty() ? "" : ",") + kv.key() + "=" +
             (kv->is_string() ? kv->get<std::string>() : kv->dump());
  if (auto me = sel.find("matchExpressions"); me != sel.end() && me->is_array())
    for (const json& e : *me) out += (out.empty() ? "" : ",") + e.dump();
  return out.empty() ? "<none>" : out;
}

std::string read_input(const std::string& file) {
  if (file == "-") {
    return std::string(std::istreambuf_iterator<char>(std::cin), {});
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) throw CliError("cannot read " + file + ": no such file or not readable.");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void run_apply(const Context& ctx, const std::string& file) {
  if (file.empty())
    throw CliError("give the policies: `weft policy apply -f FILE` (or -f - for stdin).");
  std::string text = read_input(file);
  k8s::PolicyDocuments docs;
  try {
    docs = k8s::parse_policy_documents(text);
  } catch (const k8s::PolicyInputError& e) {
    throw CliError(std::string("error: the input is invalid; nothing was applied:\n") + e.what());
  }
  for (const auto& s : docs.skipped) warn("warning: " + s);
  if (docs.policies.empty()) {
    say("No NetworkPolicy in the input; nothing to apply.");
    return;
  }
  json list = json::array();
  for (const auto& p : docs.policies) list.push_back(k8s::to_json(p));
  json r;
  try {
    r = post_json_or_refusal(ctx, "/policies/apply", {{"policies", list}},
                             std::chrono::seconds(30));
  } catch (const RouterRefusal& e) {
    throw CliError(std::string("error: the router refused the policies; nothing was applied:\n") +
                   e.what());
  }
  for (const auto& x : r.at("results"))
    say("networkpolicy.networking.k8s.io/" + x.value("name", "") + " " + x.value("result", ""));
}

void run_list(const Context& ctx, const std::string& ns, bool as_json) {
  std::string target = "/policies";
  if (!ns.empty()) target += "?namespace=" + percent_encode(ns);
  json list = get_json(ctx, target).at("policies");
  if (as_json) {
    std::cout << list.dump(2) << "\n";
    return;
  }
  if (list.empty()) {
    say(ns.empty() ? "No NetworkPolicies. `weft policy apply -f FILE` adds some."
                   : "No NetworkPolicies in namespace " + ns + ".");
    return;
  }
  std::vector<std::vector<std::string>> table{
      {"NAMESPACE", "NAME", "POD-SELECTOR", "POLICY-TYPES"}};
  for (const auto& p : list) {
    std::string types;
    try {
      k8s::NetworkPolicy np = k8s::network_policy_from_json(p);
      if (np.isolates_ingress()) types = "Ingress";
      if (np.isolates_egress()) types += std::string(types.empty() ? "" : ",") + "Egress";
    } catch (const std::exception&) {
      types = "?";
    }
    json md = p.value("metadata", json::object());
    table.push_back({md.value("namespace", ""), md.value("name", ""),
                     selector_text(p.value("spec", json::object())), types});
  }
  std::cout << text_table(table) << std::flush;
}

// The cluster as weft-npc sees it (the router's GET /state).
npc::ClusterSnapshot cluster_snapshot(const Context& ctx) {
  try {
    return npc::parse_cluster_snapshot(get_json(ctx, "/state"));
  } catch (const std::invalid_argument& e) {
    throw CliError(std::string("the router's cluster state is unreadable: ") + e.what());
  }
}

// What weft-npc cannot enforce as written about policy NS/NAME (the planner's own problems).
std::vector<std::string> policy_problems(const npc::ClusterSnapshot& snap,
                                         const std::string& name) {
  std::vector<std::string> out;
  // The planner finds problems while planning the hosts whose workloads a policy selects.
  std::set<std::string> hosts, all(snap.problems.begin(), snap.problems.end());
  for (const npc::Workload& w : snap.view.workloads) hosts.insert(w.host);
  for (const std::string& host : hosts) {
    npc::PlannerConfig cfg;
    cfg.local_host = host;
    for (const std::string& p : npc::plan(snap.view, cfg).problems) all.insert(p);
  }
  for (const std::string& p : all)
    if (p.find(name + " ") != std::string::npos || p.find(name + ":") != std::string::npos)
      out.push_back(p);
  return out;
}

void run_get(const Context& ctx, const std::string& name, const std::string& format) {
  if (name.find('/') == std::string::npos)
    throw CliError("give the policy as NAMESPACE/NAME, e.g. `weft policy get default/" + name +
                   "`.");
  json p = get_json(ctx, "/policies/get?name=" + percent_encode(name)).at("policy");
  if (format == "json")
    std::cout << p.dump(2) << "\n";
  else
    std::cout << k8s::to_yaml(p) << std::flush;
  for (const std::string& problem : policy_problems(cluster_snapshot(ctx), name))
    warn("Warning: not enforced as written: " + problem);
}

// `weft policy why SRC DST PORT/PROTO`: the planner's own verdict (npc/why.h).
void run_why(const Context& ctx, const std::string& src, const std::string& dst,
             const std::string& port_proto, bool as_json) {
  size_t slash = port_proto.find('/');
  std::string proto = slash == std::string::npos ? "TCP" : port_proto.substr(slash + 1);
  std::transform(proto.begin(), proto.end(), proto.begin(), ::toupper);
  int port = 0;
  try {
    size_t used = 0;
    port = std::stoi(port_proto.substr(0, slash), &used);
    if (used != port_proto.substr(0, slash).size()) throw std::invalid_argument("");
  } catch (const std::exception&) {
    throw CliError("give the port as NUMBER/PROTOCOL, e.g. 80/TCP or 53/UDP (got \"" + port_proto +
                   "\").");
  }
  npc::ClusterSnapshot snap = cluster_snapshot(ctx);
  npc::Explanation x;
  try {
    x = npc::explain(snap.view, src, dst, port, proto);
  } catch (const std::invalid_argument& e) {
    throw CliError(std::string(e.what()) +
                   ". Name workloads as NAMESPACE/NAME (`weft ps --all`) "
                   "or give an address.");
  }
  if (!as_json) {
    std::cout << x.text << std::flush;
    return;
  }
  auto direction = [](const npc::DirectionVerdict& v) {
    json j = {{"applies", v.applies},
              {"isolated", v.isolated},
              {"policies", v.policies},
              {"allowed", v.allowed()}};
    if (v.admitted_by) j["admitted_by"] = *v.admitted_by;
    return j;
  };
  std::cout << json{{"allowed", x.allowed},
                    {"source", x.src},
                    {"destination", x.dst},
                    {"port", port},
                    {"protocol", proto},
                    {"egress", direction(x.egress)},
                    {"ingress", direction(x.ingress)}}
                   .dump(2)
            << "\n";
}

void run_delete(const Context& ctx, const std::vector<std::string>& names) {
  for (const auto& n : names)
    if (n.find('/') == std::string::npos)
      throw CliError("give each policy as NAMESPACE/NAME (\"" + n + "\" has no namespace).");
  json r = post_json(ctx, "/policies/delete", {{"names", names}}, std::chrono::seconds(10));
  bool missing = false;
  for (const auto& x : r.at("results")) {
    if (x.value("result", "") == "deleted") {
      say("networkpolicy.networking.k8s.io \"" + x.value("name", "") + "\" deleted");
    } else {
      missing = true;
      warn("Error: networkpolicy \"" + x.value("name", "") +
           "\" not found; `weft policy list` shows them.");
    }
  }
  if (missing) throw CliError("some policies were not found (the others were deleted).");
}

}  // namespace

void add_policy_commands(CLI::App& app, Context& ctx) {
  CLI::App* policy = app.add_subcommand(
      "policy", "Kubernetes NetworkPolicies (networking.k8s.io/v1) for the workloads on weft");
  policy->require_subcommand(1);

  auto file = std::make_shared<std::string>();
  CLI::App* apply = policy->add_subcommand(
      "apply", "Create or update NetworkPolicies from YAML or JSON (several documents or a List)");
  apply->add_option("-f,--filename", *file, "The file, or - for standard input")->required();
  apply->callback([&ctx, file] { run_apply(ctx, *file); });

  auto ns = std::make_shared<std::string>();
  auto as_json = std::make_shared<bool>(false);
  CLI::App* list = policy->add_subcommand("list", "The cluster's NetworkPolicies");
  list->add_option("-n,--namespace", *ns, "Only this namespace's");
  list->add_flag("--json", *as_json, "Print them as JSON");
  list->callback([&ctx, ns, as_json] { run_list(ctx, *ns, *as_json); });

  auto name = std::make_shared<std::string>();
  auto format = std::make_shared<std::string>("yaml");
  CLI::App* get = policy->add_subcommand("get", "One NetworkPolicy, as it was applied");
  get->add_option("name", *name, "NAMESPACE/NAME")->required();
  get->add_option("-o,--output", *format, "yaml or json")->check(CLI::IsMember({"yaml", "json"}));
  get->callback([&ctx, name, format] { run_get(ctx, *name, *format); });

  auto names = std::make_shared<std::vector<std::string>>();
  CLI::App* del = policy->add_subcommand("delete", "Delete NetworkPolicies, cluster-wide");
  del->add_option("names", *names, "NAMESPACE/NAME...")->required();
  del->callback([&ctx, names] { run_delete(ctx, *names); });

  auto why = std::make_shared<std::vector<std::string>>();
  auto why_json = std::make_shared<bool>(false);
  CLI::App* w = policy->add_subcommand(
      "why", "Would a connection be allowed, and by which policy and rule (or why not)");
  w->add_option("args", *why,
                "SRC DST PORT/PROTO: workloads as NAMESPACE/NAME or addresses, e.g. "
                "shop/web shop/db 5432/TCP")
      ->expected(3)
      ->required();
  w->add_flag("--json", *why_json, "Print the verdict as JSON");
  w->callback([&ctx, why, why_json] { run_why(ctx, (*why)[0], (*why)[1], (*why)[2], *why_json); });
}

}  // namespace weft::cli
