// `weft launch`: prepare the data dir and the cluster secret, start weft-router as a daemon and
// wait until its API answers.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <filesystem>
#include <thread>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/daemon.h"
#include "cli/datadir_lock.h"
#include "cli/host_addresses.h"
#include "cli/npc_process.h"
#include "hostnet/host_net.h"
#include "cli/output.h"
#include "cli/overlay_state.h"
#include "cli/router_api.h"
#include "cli/secret.h"
#include "cli/service_manager.h"
#include "cli/workload_registry.h"
#include "common/host_port.h"
#include "common/ipv4_cidr.h"
#include "common/peer_name.h"
#include "common/status_render.h"
#include "dns/upstreams.h"
#include "dns/zone.h"
#include "ipam/ipam_core.h"

namespace weft::cli {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr auto kStartDeadline = std::chrono::seconds(20);
constexpr auto kPollInterval = std::chrono::milliseconds(100);
constexpr size_t kLogTailLines = 15;

struct LaunchOptions {
  std::string name;
  std::string nickname;
  int port = kDefaultPort;
  std::string http_addr;  // off unless given: the unix socket is the API
  PasswordInput password;
  bool no_encryption = false;
  bool no_discovery = false;
  std::vector<std::string> peers;
  int mtu = 0;  // 0: from the underlay
  std::string capture = "tap";
  std::string range;         // "": the stored range, else the default
  std::string ipalloc_init;  // "": the router's default
  std::string cluster_name;  // salts the secret's stretching (router/crypto/cluster_key.h)
  bool no_npc = false;       // no weft-npc: NetworkPolicies are not enforced on this host
  bool no_dns = false;
  std::string dns_listen, dns_domain;  // "": the router's defaults
  int dns_ttl = -1;                    // -1: the router's default
  std::vector<std::string> dns_upstreams;
};

void validate(LaunchOptions& o) {
  if (!o.name.empty() && !parse_peer_name(o.name)) {
    throw CliError("invalid --name \"" + o.name +
                   "\": a peer name is six hex bytes like ce:31:e0:06:45:1a. Omit --name to keep "
                   "this host's stored identity.");
  }
  for (char c : o.nickname) {
    if (static_cast<unsigned char>(c) <= ' ') {
      throw CliError("invalid --nickname \"" + o.nickname +
                     "\": use letters, digits and punctuation, without spaces.");
    }
  }
  HostPort api;
  if (!o.http_addr.empty()) try {
      api = parse_host_port(o.http_addr, 6784);
    } catch (const std::invalid_argument& e) {
      throw CliError("invalid --http-addr: " + std::string(e.what()) + ".");
    }
  if (!o.http_addr.empty() && !is_ip_literal(api.host)) {
    throw CliError("--http-addr " + o.http_addr +
                   ": give an IP address, not a name, so the API surely binds to loopback. Use "
                   "127.0.0.1:PORT or [::1]:PORT.");
  }
  if (!o.http_addr.empty() && !is_loopback_literal(api.host)) {
    throw CliError("--http-addr " + o.http_addr +
                   " is not a loopback address: the weft API must only be reachable from this "
                   "host. Use 127.0.0.1:PORT or [::1]:PORT.");
  }
  if (!o.http_addr.empty()) o.http_addr = format_host_port(api);
  if (!o.range.empty()) {
    Ipv4Cidr r;
    try {
      r = parse_ipv4_cidr(o.range);
    } catch (const std::invalid_argument& e) {
      throw CliError("invalid --ipalloc-range: " + std::string(e.what()) +
                     ". Give a CIDR like 10.32.0.0/12.");
    }
    if (r.addr != r.network()) {
      throw CliError("--ipalloc-range " + o.range + " has host bits set; did you mean " +
                     Ipv4Cidr{r.network(), r.prefix}.to_string() + "?");
    }
    if (r.prefix < 1 || r.prefix > 30) {
      throw CliError("--ipalloc-range " + o.range +
                     " is not a usable overlay range; give a prefix length from /1 to /30, like "
                     "10.32.0.0/12.");
    }
    o.range = r.to_string();
  }
  for (const auto& u : o.dns_upstreams) {
    if (!dns::parse_upstream(u))
      throw CliError("invalid --dns-upstream \"" + u +
                     "\": give an IPv4 address with an optional port, like 192.0.2.53 or "
                     "192.0.2.53:5353.");
  }
  if (!o.dns_domain.empty()) try {
      dns::DnsZone check(o.dns_domain);
    } catch (const std::invalid_argument& e) {
      throw CliError("invalid --dns-domain: " + std::string(e.what()) + ".");
    }
  if (!o.dns_listen.empty() && !dns::parse_upstream(o.dns_listen))
    throw CliError("invalid --dns-listen \"" + o.dns_listen +
                   "\": give an IPv4 address with an optional port, like 10.32.0.1 or "
                   "127.0.0.1:5353.");
  for (const auto& p : o.peers) {
    try {
      parse_host_port(p, kDefaultPort);
    } catch (const std::invalid_argument& e) {
      throw CliError("invalid peer \"" + p + "\": " + e.what() +
                     ". A peer is HOST or HOST:PORT, e.g. 10.0.0.2 or 10.0.0.2:6783.");
    }
  }
}

// Creates the data dir 0700 if needed. An existing directory keeps its mode: it may be shared
// (a test's --datadir /tmp/x), and every secret file in it is 0600 on its own.
void ensure_datadir(const std::string& dir) {
  std::error_code ec;
  fs::path p(dir);
  if (fs::is_directory(p, ec)) return;
  if (p.has_parent_path()) fs::create_directories(p.parent_path(), ec);
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    throw CliError("cannot create the data dir " + dir + ": " + std::strerror(errno) +
                   ". Run as root, or choose another with --datadir.");
  }
  if (!fs::is_directory(p, ec)) {
    throw CliError(dir + " exists and is not a directory; choose another --datadir.");
  }
  ::chmod(dir.c_str(), 0700);  // mkdir applied the umask; 0700 is the floor as well as the ceiling
}

std::string status_peer(const json& status) {
  auto field = [&](const char* k) {
    return status.contains(k) && status[k].is_string() ? status[k].get<std::string>() : "";
  };
  return peer_label(field("name"), field("nickname"));
}

// Returns true (after telling the user) when a router already serves this data dir.
bool already_running(const Context& ctx, const LaunchOptions& o) {
  std::optional<pid_t> pid = read_pid_file(ctx.pid_file());
  bool alive = pid && is_router_for(*pid, ctx.datadir());
  std::optional<json> status = try_get_status(ctx, std::chrono::seconds(2));
  if (alive && !status) {
    throw CliError("a weft router (pid " + std::to_string(*pid) + ") is running for " +
                   ctx.datadir() + " but does not answer on " + ctx.api_socket() +
                   ". It may still be starting: try `weft status` in a moment. If it stays "
                   "silent, see " +
                   ctx.log_file() + " and run `weft stop`.");
  }
  if (!status) return false;
  say("weft is already running on this host (pid " + (alive ? std::to_string(*pid) : "unknown") +
      ", peer " + status_peer(*status) + "). `weft status` shows the mesh; `weft stop` stops it.");
  if (!o.peers.empty()) {
    say("The peers given were not added: `weft connect " + join(o.peers, " ") + "` adds them.");
  }
  return true;
}

void explain_secret(const Context& ctx, const SecretOutcome& s, const LaunchOptions& o) {
  const std::string file = ctx.secret_file();
  switch (s.kind) {
    case SecretOutcome::Kind::kGenerated: {
      std::vector<std::string> addrs = host_ipv4_addresses();
      for (auto& a : addrs) {
        if (o.port != kDefaultPort) a += ":" + std::to_string(o.port);
      }
      std::string msg = "Generated a new cluster secret in " + file +
                        " (mode 0600). To add another host to this mesh, copy that file to it and "
                        "run there:\n  weft launch --password-file /path/to/secret " +
                        (addrs.empty() ? "<this host's IP address>" : join(addrs, " "));
      if (addrs.size() > 1) {
        msg += "\n(those are all of this host's addresses; keep the ones the other host can reach)";
      }
      say(msg);
      break;
    }
    case SecretOutcome::Kind::kFromPassword:
      say("Using the password from " + s.source + " as the cluster secret (stored in " + file +
          ", mode 0600).");
      break;
    case SecretOutcome::Kind::kReplacedByPassword:
      say("Replaced the cluster secret in " + file + " with the password from " + s.source +
          ". Hosts still using the old secret cannot connect to this one.");
      break;
    case SecretOutcome::Kind::kReused:
      say("Using the cluster secret in " + file + ".");
      break;
  }
}

std::vector<std::string> router_args(const Context& ctx, const LaunchOptions& o, int mtu,
                                     const std::string& range) {
  std::vector<std::string> a{"--datadir", ctx.datadir(), "--mtu", std::to_string(mtu)};
  if (!o.name.empty()) a.insert(a.end(), {"--name", o.name});
  if (!o.nickname.empty()) a.insert(a.end(), {"--nickname", o.nickname});
  a.insert(a.end(), {"--port", std::to_string(o.port), "--http-addr", o.http_addr});
  if (o.no_encryption) a.push_back("--no-encryption");
  if (o.no_discovery) a.push_back("--no-discovery");
  if (!o.cluster_name.empty()) a.insert(a.end(), {"--cluster-name", o.cluster_name});
  a.insert(a.end(), {"--capture", o.capture});
  a.insert(a.end(), {"--ipalloc-range", range});
  if (!o.ipalloc_init.empty()) a.insert(a.end(), {"--ipalloc-init", o.ipalloc_init});
  if (o.no_dns) a.push_back("--no-dns");
  if (!o.dns_listen.empty()) a.insert(a.end(), {"--dns-listen", o.dns_listen});
  if (!o.dns_domain.empty()) a.insert(a.end(), {"--dns-domain", o.dns_domain});
  if (o.dns_ttl >= 0) a.insert(a.end(), {"--dns-ttl", std::to_string(o.dns_ttl)});
  for (const auto& u : o.dns_upstreams) a.insert(a.end(), {"--dns-upstream", u});
  a.insert(a.end(), o.peers.begin(), o.peers.end());
  return a;
}

void report_started(const json& status) {
  std::vector<std::string> targets;
  if (status.contains("targets") && status["targets"].is_array()) {
    for (const auto& t : status["targets"]) {
      if (t.is_string()) targets.push_back(t.get<std::string>());
    }
  }
  std::string port = status.contains("port") ? status["port"].dump() : "?";
  bool encrypted = !(status.contains("encryption") && status["encryption"] == false);
  std::string msg = "weft router started: peer " + status_peer(status) + ", listening on port " +
                    port + ", encryption " + (encrypted ? "on" : "OFF") + ". ";
  msg += targets.empty() ? "No peers to connect to yet: `weft connect HOST` adds one. "
                         : "Connecting to: " + join(targets) + ". ";
  msg += "`weft status` shows the mesh.";
  say(msg);
}

// Terminates our child, politely first.
void stop_child(pid_t pid) {
  ::kill(pid, SIGTERM);
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  while (!child_exit_status(pid)) {
    if (Clock::now() >= deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      return;
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

[[noreturn]] void fail_with_log(const std::string& headline, const std::string& log, off_t from,
                                const std::string& next_step) {
  std::string tail = log_tail(log, from, kLogTailLines);
  throw CliError(headline + "\n" + (tail.empty() ? "  (the log is empty)\n" : tail) + next_step);
}

// The overlay's MTU and range for this launch: --mtu, else the underlay's MTU less weft's
// overhead; --ipalloc-range, else the stored range, else the default. `why` says where the MTU
// came from.
OverlayConfig choose_overlay(const Context& ctx, const LaunchOptions& o,
                             const std::optional<OverlayConfig>& stored, std::string* why) {
  OverlayConfig c;
  if (o.mtu > 0) {
    c.mtu = o.mtu;
    *why = "set by --mtu";
  } else {
    UnderlayMtu u = detect_underlay_mtu();
    c.mtu = overlay_mtu(u.mtu);
    *why = std::to_string(u.mtu) + " of " + u.source + ", less " +
           std::to_string(kOverlayOverhead) + " bytes of weft overhead";
    if (c.mtu < kMinOverlayMtu) {
      throw CliError("the underlay MTU " + std::to_string(u.mtu) + " (" + u.source +
                     ") leaves only " + std::to_string(c.mtu) + " bytes for overlay frames, " +
                     "below the minimum " + std::to_string(kMinOverlayMtu) +
                     "; give the overlay MTU with `weft launch --mtu N` (" +
                     std::to_string(kMinOverlayMtu) + ".." + std::to_string(kMaxOverlayMtu) + ").");
    }
  }
  c.range = !o.range.empty() ? o.range : stored ? stored->range : kDefaultOverlayRange;
  if (stored && stored->range != c.range) {
    std::vector<WorkloadRecord> records = read_workloads(ctx);
    if (!records.empty()) {
      throw CliError("this host has " + std::to_string(records.size()) +
                     " attached workload(s) in the overlay range " + stored->range +
                     "; detach them first (`weft ps` lists them) to change it to " + c.range +
                     ", or launch without --ipalloc-range to keep it.");
    }
  }
  if (stored && stored->mtu != c.mtu && !read_workloads(ctx).empty()) {
    warn("Note: the overlay MTU changes from " + std::to_string(stored->mtu) + " to " +
         std::to_string(c.mtu) + "; workloads attached before keep " + std::to_string(stored->mtu) +
         " until detached and attached again.");
  }
  return c;
}

// When the router already runs: make sure its bridge is there, and say that --mtu and
// --ipalloc-range take effect only at the next start.
void keep_overlay(const Context& ctx, const LaunchOptions& o,
                  const std::optional<OverlayConfig>& stored) {
  OverlayConfig c;
  if (stored) {
    c = *stored;
  } else {  // started by a weft without overlay support: set the overlay up now
    std::string why;
    c = choose_overlay(ctx, o, stored, &why);
    write_overlay_config(ctx, c);
  }
  if ((o.mtu > 0 && o.mtu != c.mtu) || (!o.range.empty() && o.range != c.range)) {
    warn("--mtu and --ipalloc-range were not applied: the running router uses MTU " +
         std::to_string(c.mtu) + " and range " + c.range +
         ". `weft stop`, then `weft launch` with them, changes that.");
  }
  if (ensure_bridge(c.mtu)) {
    say(std::string("Re-created the bridge ") + kBridgeName + " (MTU " + std::to_string(c.mtu) +
        ").");
  }
}

// weft-npc beside the router, unless --no-npc; under systemd it is its own unit.
void launch_npc(const Context& ctx, const LaunchOptions& o) {
  if (o.no_npc) {
    warn("weft-npc is not started (--no-npc): NetworkPolicies are not enforced on this host.");
    return;
  }
  if (under_systemd()) {
    say("Under systemd, weft-npc runs as its own unit: `systemctl enable --now weft-npc`.");
    return;
  }
  start_npc(ctx);
}

void run_launch(const Context& ctx, LaunchOptions o) {
  validate(o);
  const std::string dir = ctx.datadir();
  ensure_datadir(dir);
  DatadirLock lock(dir);
  std::optional<OverlayConfig> stored = read_overlay_config(ctx);
  if (already_running(ctx, o)) {
    keep_overlay(ctx, o, stored);
    launch_npc(ctx, o);
    notify_service_ready(read_pid_file(ctx.pid_file()));  // under systemd: adopt the router
    return;
  }
  // Found before the secret is touched, so a broken install changes nothing.
  std::string binary = find_router_binary();
  std::string mtu_why;
  OverlayConfig overlay = choose_overlay(ctx, o, stored, &mtu_why);

  if (o.no_encryption) {
    warn(
        "WARNING: encryption is OFF (--no-encryption). Anyone on the network between the hosts "
        "can read and forge the mesh's traffic, and any host can join the mesh. Use it only on "
        "a network you fully trust; launch without --no-encryption to encrypt.");
    if (std::getenv("WEFT_PASSWORD")) warn("WEFT_PASSWORD is ignored with --no-encryption.");
  } else {
    if (o.password.password) {
      warn(
          "Note: a password on the command line is visible to other users (ps, shell "
          "history) while weft runs; prefer --password-file FILE (mode 0600) or the "
          "WEFT_PASSWORD environment variable.");
    }
    explain_secret(ctx, ensure_secret(ctx.secret_file(), o.password), o);
  }

  // The bridge comes first: the router adds its own port to it as it starts.
  write_overlay_config(ctx, overlay);
  bool created = ensure_bridge(overlay.mtu);
  say(std::string("Overlay ready: bridge ") + kBridgeName + (created ? " created" : "") + ", MTU " +
      std::to_string(overlay.mtu) + " (" + mtu_why + "), range " + overlay.range +
      ". `weft attach NETNS` attaches a workload with an address from the range.");

  struct stat st;
  off_t log_start = ::stat(ctx.log_file().c_str(), &st) == 0 ? st.st_size : 0;
  pid_t pid = spawn_daemon(binary, router_args(ctx, o, overlay.mtu, overlay.range), ctx.log_file());

  const auto deadline = Clock::now() + kStartDeadline;
  std::string last_problem;
  for (;;) {
    if (auto code = child_exit_status(pid)) {
      fail_with_log("the weft router failed to start; last lines of " + ctx.log_file() + ":",
                    ctx.log_file(), log_start,
                    "(it exited with status " + std::to_string(*code) +
                        ". Fix the problem above, then run `weft launch` again.)");
    }
    try {
      if (auto status = try_get_status(ctx, std::chrono::seconds(1))) {
        report_started(*status);
        launch_npc(ctx, o);
        notify_service_ready(pid);  // under systemd (Type=notify): the router is the main process
        return;
      }
    } catch (const CliError& e) {
      last_problem = e.what();  // e.g. a socket that exists but does not answer yet
    }
    if (Clock::now() >= deadline) break;
    std::this_thread::sleep_for(kPollInterval);
  }
  // A router without a working API cannot be managed (and, before it writes its pid file,
  // cannot even be found by `weft stop`): stop it rather than leave it half-started.
  stop_child(pid);
  fail_with_log("the weft router (pid " + std::to_string(pid) + ") did not answer on " +
                    ctx.api_socket() + " within " + std::to_string(kStartDeadline.count()) + " s" +
                    (last_problem.empty() ? "" : " (" + last_problem + ")") +
                    ", so it was stopped; last lines of " + ctx.log_file() + ":",
                ctx.log_file(), log_start,
                "Fix the problem shown in the log, then run `weft launch` again.");
}

}  // namespace

void add_launch_command(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<LaunchOptions>();
  CLI::App* cmd = app.add_subcommand(
      "launch",
      "Start the weft router on this host and join the mesh through the given peers.\n"
      "The first host generates the cluster secret; other hosts need a copy of it "
      "(--password-file).");
  cmd->add_option("--name", o->name,
                  "Peer name (like ce:31:e0:06:45:1a); default: the stored or "
                  "a new random identity");
  cmd->add_option("--nickname", o->nickname, "Human-friendly peer name; default: the hostname");
  cmd->add_option("--port", o->port, "TCP and UDP port for mesh traffic")
      ->check(CLI::Range(1, 65535))
      ->capture_default_str();
  cmd->add_option("--http-addr", o->http_addr,
                  "Also serve a read-only HTTP API (status, metrics, listings) on this loopback "
                  "address, e.g. 127.0.0.1:6784 (off by default; changes go through "
                  "DATADIR/api.sock, root only)");
  auto* pw = cmd->add_option("--password", o->password.password,
                             "Cluster password (visible in ps: prefer --password-file or the "
                             "WEFT_PASSWORD environment variable)");
  auto* pwf = cmd->add_option("--password-file", o->password.password_file,
                              "File holding the cluster password or secret (e.g. a copy of "
                              "another host's DATADIR/secret)");
  pw->excludes(pwf);
  auto* noenc = cmd->add_flag("--no-encryption", o->no_encryption,
                              "Run without encryption or authentication (trusted networks only)");
  noenc->excludes(pw)->excludes(pwf);
  cmd->add_option("--cluster-name", o->cluster_name,
                  "Cluster name salting the stretching of the password, so that guesses against "
                  "one cluster do not serve against another; the same on every host (also "
                  "WEFT_CLUSTER_NAME). Default: none (the fixed salt of earlier clusters)")
      ->envname("WEFT_CLUSTER_NAME");
  cmd->add_flag("--no-npc", o->no_npc,
                "Do not start weft-npc (NetworkPolicies are then not enforced on this host)");
  cmd->add_flag("--no-discovery", o->no_discovery,
                "Connect only to the given peers, not to peers they tell us about");
  cmd->add_option("--capture", o->capture,
                  "How the router takes frames from the bridge: tap (default, fastest) or pcap "
                  "(libpcap on a veth port, the reference)")
      ->check(CLI::IsMember({"tap", "pcap"}));
  cmd->add_option("--mtu", o->mtu,
                  "Overlay MTU for the bridge and workload interfaces; default: the underlay's "
                  "MTU less weft's overhead")
      ->check(CLI::Range(kMinOverlayMtu, kMaxOverlayMtu));
  cmd->add_option("--ipalloc-range", o->range,
                  std::string("Overlay address range (CIDR) for workloads; default: the range "
                              "used before, else ") +
                      kDefaultOverlayRange);
  cmd->add_option("--ipalloc-init", o->ipalloc_init,
                  "How IPAM bootstraps: consensus=N (the default, with N = 1 + the number of "
                  "peers given: wait until N peers agree), seed=NAME,NAME... (these peers own the "
                  "range at first) or observer (never seeds; joins an existing ring)")
      ->check([](const std::string& s) {
        try {
          ipam::parse_init_mode(s);
          return std::string();
        } catch (const std::invalid_argument& e) {
          return std::string(e.what());
        }
      });
  auto* nodns = cmd->add_flag("--no-dns", o->no_dns,
                              "Do not serve DNS to the workloads (attach then writes no resolver "
                              "config)");
  cmd->add_option("--dns-listen", o->dns_listen,
                  "Address of the DNS server, ADDR[:PORT]; default: this host's overlay address "
                  "on the bridge, port 53")
      ->excludes(nodns);
  cmd->add_option("--dns-domain", o->dns_domain,
                  "The cluster's DNS domain (default weft.local): workload web in namespace shop "
                  "is web.shop.weft.local");
  cmd->add_option("--dns-ttl", o->dns_ttl, "TTL of the cluster's DNS answers, seconds (default 1)")
      ->check(CLI::Range(0, 86400));
  cmd->add_option("--dns-upstream", o->dns_upstreams,
                  "Where other names go, ADDR[:PORT], repeatable; default: the nameservers of "
                  "/etc/resolv.conf (re-read when it changes)")
      ->allow_extra_args(false);  // one value each time: PEER... may follow
  cmd->add_option("peers", o->peers, "Peers to connect to: HOST or HOST:PORT");
  cmd->callback([&ctx, o] { run_launch(ctx, *o); });
}

}  // namespace weft::cli
