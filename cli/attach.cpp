// `weft attach`, `weft detach` and `weft ps`: workloads (network namespaces) on the overlay. Each
// gets a veth pair: the host end (vethweXXXXXXXX) on the bridge `weft`, the other end (ethweft)
// inside the workload with its addresses, the overlay MTU and a route for the overlay range.
#include <signal.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/datadir_lock.h"
#include "cli/ipam_client.h"
#include "cli/output.h"
#include "cli/overlay_state.h"
#include "cli/router_api.h"
#include "cli/workload_dns.h"
#include "cli/workload_registry.h"
#include "common/ipv4_cidr.h"
#include "hostnet/host_net.h"
#include "hostnet/workload_link.h"

namespace weft::cli {

namespace {

namespace fs = std::filesystem;

struct AttachOptions {
  std::vector<std::string> args;  // addresses, then the namespace unless --pid is given
  std::string name;
  int pid = 0;
  std::string ns;                   // --namespace
  std::vector<std::string> labels;  // --label K=V
  std::vector<std::string> ports;   // --port NAME=NUMBER/PROTO
};

struct DetachOptions {
  std::string netns;
  int pid = 0;
};

// Holds SIGINT, SIGTERM and SIGHUP while a change is half-made, so an interrupted attach still
// either completes or is undone; a signal that arrived meanwhile acts when this ends.
class HoldSignals {
 public:
  HoldSignals() {
    sigset_t s;
    sigemptyset(&s);
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&s, sig);
    ::sigprocmask(SIG_BLOCK, &s, &old_);
  }
  ~HoldSignals() { ::sigprocmask(SIG_SETMASK, &old_, nullptr); }
  HoldSignals(const HoldSignals&) = delete;
  HoldSignals& operator=(const HoldSignals&) = delete;

 private:
  sigset_t old_;
};

// `ip -n NAME` for a named namespace; nsenter for a pid's.
std::string ip_in_prefix(const NetnsRef& ns) {
  return ns.pid > 0 ? "nsenter --net=" + ns.path() + " ip" : "ip -n " + ns.name;
}
std::string ip_in_hint(const NetnsRef& ns, const std::string& args) {
  return ip_in_prefix(ns) + " " + args;
}

std::string detach_hint(const NetnsRef& ns) {
  return ns.pid > 0 ? "weft detach --pid " + std::to_string(ns.pid) : "weft detach " + ns.name;
}

bool valid_workload_name(const std::string& n) {
  if (n.empty() || n.size() > 63 || !std::isalnum(static_cast<unsigned char>(n[0]))) return false;
  return std::all_of(n.begin(), n.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

// An IPv4 address with or without a prefix, or anything with a colon (IPv6): what a namespace
// name given in an address's place looks like.
bool looks_like_address(const std::string& s) {
  return parse_ipv4(s.substr(0, s.find('/'))).has_value() || s.find(':') != std::string::npos;
}

// --label K=V, each once (the router checks keys and values as Kubernetes does).
std::map<std::string, std::string> parse_labels(const std::vector<std::string>& given) {
  std::map<std::string, std::string> out;
  for (const auto& l : given) {
    size_t eq = l.find('=');
    if (eq == std::string::npos || eq == 0)
      throw CliError("invalid --label \"" + l + "\": give KEY=VALUE, e.g. --label app=web.");
    if (!out.emplace(l.substr(0, eq), l.substr(eq + 1)).second)
      throw CliError("--label " + l.substr(0, eq) + " is given twice; give each key once.");
  }
  return out;
}

// --port NAME=NUMBER[/PROTO] (PROTO TCP, UDP or SCTP; TCP when left out).
std::vector<WorkloadPort> parse_ports(const std::vector<std::string>& given) {
  std::vector<WorkloadPort> out;
  for (const auto& p : given) {
    size_t eq = p.find('=');
    auto bad = [&] {
      return CliError("invalid --port \"" + p +
                      "\": give NAME=NUMBER/PROTO, e.g. --port http=80/TCP (PROTO TCP, UDP or "
                      "SCTP).");
    };
    if (eq == std::string::npos || eq == 0) throw bad();
    WorkloadPort wp;
    wp.name = p.substr(0, eq);
    std::string rest = p.substr(eq + 1);
    size_t slash = rest.find('/');
    if (slash != std::string::npos) {
      wp.protocol = rest.substr(slash + 1);
      for (char& c : wp.protocol)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      rest = rest.substr(0, slash);
    }
    try {
      size_t used = 0;
      wp.port = std::stoi(rest, &used);
      if (used != rest.size()) throw bad();
    } catch (const std::logic_error&) {
      throw bad();
    }
    out.push_back(wp);
  }
  return out;
}

// The namespace to attach and the addresses, from the positional arguments.
NetnsRef split_args(const AttachOptions& o, std::vector<std::string>& addrs) {
  NetnsRef ns;
  addrs = o.args;
  if (o.pid > 0) {
    ns.pid = o.pid;
    if (!addrs.empty() && !looks_like_address(addrs.back()) &&
        addrs.back().find('.') == std::string::npos) {
      throw CliError("give either a network namespace name or --pid PID, not both (\"" +
                     addrs.back() + "\" and --pid " + std::to_string(o.pid) + ").");
    }
    return ns;
  }
  if (addrs.empty()) {
    throw CliError(
        "give the workload's network namespace: `weft attach NETNS` (a name from "
        "`ip netns list`) or `weft attach --pid PID`.");
  }
  ns.name = addrs.back();
  addrs.pop_back();
  if (looks_like_address(ns.name)) {
    throw CliError("\"" + ns.name +
                   "\" looks like an address, but the network namespace comes last: `weft attach "
                   "10.32.1.5/12 NETNS` (or --pid PID).");
  }
  if (ns.name == "." || ns.name == ".." || ns.name.find('/') != std::string::npos) {
    throw CliError("\"" + ns.name +
                   "\" is not a network namespace name; `ip netns list` shows them.");
  }
  return ns;
}

// The addresses, validated against the overlay range and each other.
std::vector<Ipv4Cidr> parse_addresses(const std::vector<std::string>& given, const NetnsRef& ns,
                                      const Ipv4Cidr& range) {
  const std::string ex = example_address(range);
  (void)ns;
  std::vector<Ipv4Cidr> out;
  for (const auto& s : given) {
    Ipv4Cidr c;
    try {
      c = parse_ipv4_cidr(s, range.prefix);
    } catch (const std::invalid_argument& e) {
      throw CliError("invalid address: " + std::string(e.what()) + ".");
    }
    if (!range.contains(c.addr)) {
      throw CliError(c.to_string() + " is outside the overlay range " + range.to_string() +
                     " (set by `weft launch --ipalloc-range`); give an address inside it, like " +
                     ex + ".");
    }
    if (c.prefix < 31 && (c.addr == c.network() || c.addr == c.broadcast())) {
      throw CliError(c.to_string() + " is the " +
                     (c.addr == c.network() ? "network" : "broadcast") +
                     " address of its prefix, which no interface can use; give a host address "
                     "like " +
                     ex + ".");
    }
    if (c.addr == range.network() || c.addr == range.broadcast()) {
      throw CliError(c.to_string() + " is the " +
                     (c.addr == range.network() ? "network" : "broadcast") +
                     " address of the overlay range " + range.to_string() +
                     "; give a host address like " + ex + ".");
    }
    for (const auto& prev : out) {
      if (prev.addr == c.addr) {
        throw CliError(c.address() + " is given twice; give each address once.");
      }
    }
    out.push_back(c);
  }
  return out;
}

uint32_t address_of(const std::string& cidr) {
  try {
    return parse_ipv4_cidr(cidr, 32).addr;
  } catch (const std::invalid_argument&) {
    return 0;
  }
}

// Refuses an address that another live workload or the host itself (`weft expose`) has.
void check_address_free(const Ipv4Cidr& c, const std::vector<WorkloadRecord>& live) {
  for (const auto& r : live) {
    for (const auto& ip : r.ips) {
      if (address_of(ip) == c.addr) {
        throw CliError(c.address() + " is already used by the workload " + r.name + " (netns " +
                       r.netns_label() + "); choose another address, or `" +
                       detach_hint(netns_of(r)) + "` first.");
      }
    }
  }
  for (const auto& b : bridge_addresses()) {
    if (b.addr == c.addr) {
      throw CliError(c.address() + " is this host's own overlay address (`weft expose`); choose " +
                     "another address, or `weft hide " + b.to_string() + "` first.");
    }
  }
}

// Resolves the namespace, refusing what cannot be attached. Returns its inode.
uint64_t resolve_netns(const NetnsRef& ns) {
  uint64_t ino = 0;
  NetnsCheck check = check_netns(ns.path(), &ino);
  const int err = errno;
  switch (check) {
    case NetnsCheck::kMissing:
      if (ns.pid > 0) {
        throw CliError("no process with pid " + std::to_string(ns.pid) +
                       " (or its network namespace is not visible here); give the pid of a "
                       "running process.");
      }
      throw CliError("no network namespace named " + ns.name + "; `ip netns list` shows them.");
    case NetnsCheck::kNoAccess:
      throw CliError("cannot open " + ns.path() + ": " + std::strerror(err) +
                     ". Run the command as root (a process's namespace needs the right to trace "
                     "the process).");
    case NetnsCheck::kNotNetns:
      throw CliError(ns.path() + " is not a network namespace" +
                     (ns.pid > 0
                          ? "."
                          : " (a leftover file?); `ip netns delete " + ns.name + "` removes it."));
    case NetnsCheck::kOk:
      break;
  }
  uint64_t self = 0;
  if (check_netns("/proc/self/ns/net", &self) == NetnsCheck::kOk && self == ino) {
    throw CliError(ns.label() +
                   " is this host's own network namespace; attach a workload's namespace, or "
                   "give the host an overlay address with `weft expose CIDR`.");
  }
  return ino;
}

void run_attach(const Context& ctx, const AttachOptions& o) {
  std::vector<std::string> given;
  NetnsRef ns = split_args(o, given);
  if (!o.name.empty() && !valid_workload_name(o.name)) {
    throw CliError("invalid --name \"" + o.name +
                   "\": use 1 to 63 letters, digits, '-', '_' and '.', starting with a letter or "
                   "digit.");
  }
  const std::string dir = ctx.datadir();
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw CliError(not_running_message(ctx));
  DatadirLock lock(dir);
  if (!try_get_status(ctx, std::chrono::seconds(2))) throw CliError(not_running_message(ctx));
  OverlayConfig cfg = require_overlay_config(ctx);
  const Ipv4Cidr range = parse_ipv4_cidr(cfg.range);
  if (!bridge_exists()) {
    throw CliError(std::string("the bridge ") + kBridgeName +
                   " is missing on this host (deleted by hand?); run `weft launch` again to "
                   "re-create it, then attach.");
  }
  std::vector<Ipv4Cidr> addrs = parse_addresses(given, ns, range);
  (void)parse_labels(o.labels);
  (void)parse_ports(o.ports);
  const uint64_t inode = resolve_netns(ns);

  std::vector<WorkloadRecord> records = read_workloads(ctx);
  std::vector<WorkloadRecord> live;
  for (const auto& r : records) {
    if (!is_stale(r)) live.push_back(r);
  }
  for (const auto& r : live) {
    if (r.netns_inode == inode) {
      std::string ips;
      for (const auto& ip : r.ips) ips += (ips.empty() ? "" : " ") + ip;
      throw CliError(ns.label() + " is already attached" +
                     (r.netns_label() == ns.label() ? "" : " (as " + r.netns_label() + ")") +
                     ", named " + r.name + " with " + ips + "; `" + detach_hint(netns_of(r)) +
                     "` first to attach it again.");
    }
  }
  const std::string name = !o.name.empty() ? o.name
                           : ns.pid > 0    ? "pid-" + std::to_string(ns.pid)
                                           : ns.name;
  // Names are unique within a namespace, as Kubernetes pod names are (DNS: NAME.NS.weft.local).
  const std::string in_ns = o.ns.empty() ? "default" : o.ns;
  for (const auto& r : live) {
    if (r.name == name && (r.ns.empty() ? "default" : r.ns) == in_ns) {
      throw CliError("the name " + name + " is already used in namespace " + in_ns +
                     " by the workload in netns " + r.netns_label() +
                     "; choose another --name, or `" + detach_hint(netns_of(r)) + "` first.");
    }
  }
  for (const auto& a : addrs) check_address_free(a, live);
  if (link_info(kWorkloadIfName, ns.path())) {
    throw CliError(ns.label() + " already has an interface named " + kWorkloadIfName +
                   " that this host's weft did not attach; remove it (`" +
                   ip_in_hint(ns, std::string("link del ") + kWorkloadIfName) +
                   "`) or attach another namespace.");
  }

  // Every check passed: from here on, a failure undoes what was done.
  const std::string holder = ipam_holder(name);
  HoldSignals hold_ipam;
  addrs = ipam_addresses(ctx, holder, addrs, "for " + ns.label());
  WorkloadLinkSpec spec;
  spec.netns_path = ns.path();
  spec.label = ns.label();
  spec.ip_in_hint = ip_in_prefix(ns);
  spec.addrs = addrs;
  spec.mtu = cfg.mtu;
  spec.range = range;
  WorkloadRecord rec;
  rec.netns = ns.name;
  rec.pid = ns.pid;
  rec.name = name;
  rec.netns_inode = inode;
  rec.ns = o.ns.empty() ? "default" : o.ns;
  rec.labels = parse_labels(o.labels);
  rec.ports = parse_ports(o.ports);
  for (const auto& a : addrs) rec.ips.push_back(a.to_string());
  WorkloadLink link;
  {
    HoldSignals hold;
    try {
      link = create_workload_link(spec);  // removes what it made when it fails
    } catch (const std::exception& e) {
      ipam_release(ctx, holder);
      throw CliError(e.what());
    }
    rec.veth = link.veth;
    rec.mac = link.mac;
    try {
      // A stale record under the same label (the namespace was deleted and created again) is
      // replaced by this one: the router keys workloads by their label.
      register_workload(ctx, rec);
    } catch (const std::exception& e) {
      ipam_release(ctx, holder);
      throw CliError(std::string(e.what()) + "\n" + remove_workload_link(link.veth, spec.ifname));
    }
  }

  // The router bound the port to this workload's MAC and addresses (port guard) when it took
  // the record, so the announcement below passes it.
  if (auto notes = announce_workload(spec, link.veth); !notes.empty()) warn(notes);
  const bool need_route = link.routed;
  const std::string mtu = std::to_string(cfg.mtu);
  std::string ip_list;
  for (const auto& s : rec.ips) ip_list += (ip_list.empty() ? "" : ", ") + s;
  say("Attached " + ns.label() + " (name " + name + ") to weft: " + kWorkloadIfName + " has " +
      ip_list + ", MAC " + rec.mac + ", MTU " + mtu +
      (need_route ? ", and a route for " + range.to_string() : "") +
      ". `weft ps` lists attached workloads; `" + detach_hint(ns) + "` detaches it." +
      configure_workload_dns(ctx, ns, rec.ns, range));
}

void run_detach(const Context& ctx, const DetachOptions& o) {
  if (o.netns.empty() == (o.pid == 0)) {
    throw CliError(
        "give the workload to detach: its network namespace (`weft detach NETNS`) or "
        "`weft detach --pid PID`; `weft ps` lists them.");
  }
  NetnsRef ns{o.netns, o.pid};
  const std::string dir = ctx.datadir();
  std::error_code ec;
  std::vector<WorkloadRecord> records;
  std::optional<DatadirLock> lock;
  if (fs::is_directory(dir, ec)) {
    lock.emplace(dir);
    records = read_workloads(ctx);
  }
  uint64_t inode = 0;
  bool exists = check_netns(ns.path(), &inode) == NetnsCheck::kOk;
  std::vector<WorkloadRecord> matches, rest;
  for (const auto& r : records) {
    bool same = r.netns_label() == ns.label() || (exists && r.netns_inode == inode && !is_stale(r));
    (same ? matches : rest).push_back(r);
  }
  if (matches.empty()) {
    throw CliError(ns.label() + " is not attached to weft on this host; `weft ps` lists the " +
                   "attached workloads.");
  }
  std::vector<std::string> lines;
  for (const auto& r : matches) {
    bool stale = is_stale(r);
    // The host end goes with its pair. A stale record's veth can outlive the namespace's name
    // (a process may still hold the namespace); a name some live record now uses is not ours.
    bool shared = std::any_of(rest.begin(), rest.end(),
                              [&](const WorkloadRecord& x) { return x.veth == r.veth; });
    bool removed = false;
    if (!shared && link_info(r.veth)) {
      HoldSignals hold;
      must(ip({"link", "del", r.veth}), "remove " + r.veth + ", the host end of " + r.name,
           "Run the command as root.");
      removed = true;
    }
    unregister_workload(ctx, r.id());
    if (r.container_id.empty()) remove_workload_dns(netns_of(r));  // containers: the runtime's
    std::string ips;
    for (const auto& ip : r.ips) ips += (ips.empty() ? "" : ", ") + ip;
    if (auto e = ipam_release(
            ctx, r.container_id.empty() ? ipam_holder(r.name) : cni_ipam_holder(r.container_id));
        !e.empty()) {
      warn("Note: IPAM could not release " + ips + " (" + e +
           "); they stay allocated to this host until `weft detach` runs again with the "
           "router up.");
    }
    if (stale) {
      lines.push_back("Forgot the workload " + r.name + ": its network namespace " +
                      r.netns_label() + " is gone" +
                      (removed ? "; removed its leftover " + r.veth + "."
                               : ", and its " + std::string(kWorkloadIfName) + " with it."));
    } else {
      lines.push_back("Detached " + r.netns_label() + " (name " + r.name + "): removed " +
                      kWorkloadIfName + " and the host's " + r.veth + "; " + ips + " " +
                      (r.ips.size() == 1 ? "is" : "are") + " free again.");
    }
  }
  for (const auto& l : lines) say(l);
}

struct PsOptions {
  bool json = false;
  bool all = false;
  std::string ns;
};

void run_ps(const Context& ctx, const PsOptions& o) {
  const std::string dir = ctx.datadir();
  std::error_code ec;
  std::vector<WorkloadRow> rows;
  if (fs::is_directory(dir, ec)) {
    std::string self;
    if (o.all) {
      auto st = try_get_status(ctx, std::chrono::seconds(2));
      if (!st)
        throw CliError(not_running_message(ctx) + " (--all asks the router for every host's).");
      self = st->value("name", "");
    }
    for (auto& r : read_workloads(ctx, o.all, o.ns)) {
      // Only this host's namespaces can be checked for being gone.
      bool here = !o.all || r.host.empty() || r.host == self;
      rows.push_back({r, here && is_stale(r)});
    }
  }
  std::cout << (o.json ? render_workloads_json(rows) : render_workloads(rows, o.all)) << std::flush;
}

}  // namespace

void add_attach_commands(CLI::App& app, Context& ctx) {
  auto a = std::make_shared<AttachOptions>();
  CLI::App* attach = app.add_subcommand(
      "attach",
      "Put a workload (a network namespace) on the overlay: a veth pair from the bridge weft to "
      "an interface ethweft in the namespace, with an address from IPAM or the ones given.\n"
      "  weft attach NETNS                    (a name from `ip netns list`; IPAM picks the "
      "address)\n"
      "  weft attach 10.32.1.5/12 NETNS       (claims that address cluster-wide)\n"
      "  weft attach --pid PID                (the namespace of a running process)");
  attach->add_option("args", a->args,
                     "[IP/CIDR...] then NETNS: addresses inside the overlay range (a bare IP gets "
                     "the range's prefix length; none: IPAM allocates one), then the namespace "
                     "unless --pid is given");
  attach->add_option("--name", a->name,
                     "Name of the workload (default: the namespace's name, or pid-PID)");
  attach->add_option("--pid", a->pid, "Attach the network namespace of this process")
      ->check(CLI::PositiveNumber);
  attach->add_option("--namespace", a->ns,
                     "The workload's namespace, as NetworkPolicies and DNS see it (default: "
                     "default)");
  // One value per --label / --port, so the namespace after them is not taken for another.
  attach->add_option("--label", a->labels, "A label K=V (repeat for more)")
      ->allow_extra_args(false);
  attach
      ->add_option("--port", a->ports,
                   "A named port NAME=NUMBER/PROTO, e.g. http=80/TCP (repeat for more)")
      ->allow_extra_args(false);
  attach->callback([&ctx, a] { run_attach(ctx, *a); });

  auto d = std::make_shared<DetachOptions>();
  CLI::App* detach = app.add_subcommand(
      "detach",
      "Take a workload off the overlay: remove its veth pair (ethweft inside, vethwe... on the "
      "host) and forget it; also forgets a workload whose namespace is gone");
  auto* dn = detach->add_option("netns", d->netns, "The workload's network namespace name");
  auto* dp = detach->add_option("--pid", d->pid, "The workload's process (as given to attach)")
                 ->check(CLI::PositiveNumber);
  dn->excludes(dp);
  detach->callback([&ctx, d] { run_detach(ctx, *d); });

  auto pso = std::make_shared<PsOptions>();
  CLI::App* ps = app.add_subcommand(
      "ps",
      "List the workloads attached on this host (every host's with --all): network namespace, "
      "namespace, name, MAC, addresses, labels");
  ps->add_flag("--json", pso->json, "Print them as JSON");
  ps->add_flag("--all", pso->all, "Every host's workloads, as this host's router knows them");
  ps->add_option("-n,--namespace", pso->ns, "Only this namespace's workloads");
  ps->callback([&ctx, pso] { run_ps(ctx, *pso); });
}

}  // namespace weft::cli
