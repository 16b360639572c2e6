// `weft stop` and `weft reset`: stop the router, keeping or deleting its state.
#include <signal.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <filesystem>
#include <thread>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/daemon.h"
#include "cli/datadir_lock.h"
#include "cli/npc_process.h"
#include "hostnet/host_net.h"
#include "cli/output.h"
#include "cli/router_api.h"
#include "cli/workload_dns.h"
#include "cli/workload_registry.h"
#include "npc/os/kernel_io.h"

namespace weft::cli {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr auto kStopDeadline = std::chrono::seconds(10);
constexpr auto kKillDeadline = std::chrono::seconds(3);
constexpr auto kPollInterval = std::chrono::milliseconds(100);

// Files that mark a directory as a weft data dir; `reset` deletes nothing without one of them.
constexpr const char* kDatadirMarkers[] = {"secret",       "router.log",     "router.pid",
                                           "api.sock",     "identity",       "targets",
                                           "overlay.json", "workloads.json", "ipam.json"};

bool wait_gone(pid_t pid, Clock::duration limit) {
  const auto deadline = Clock::now() + limit;
  while (process_running(pid)) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(kPollInterval);
  }
  return true;
}

void signal_router(pid_t pid, int sig) {
  if (::kill(pid, sig) != 0 && errno != ESRCH) {
    throw CliError("cannot signal the weft router (pid " + std::to_string(pid) +
                   "): " + std::strerror(errno) + ". Run the command as root.");
  }
}

// Removes the pid file if it still names `pid` (a router started meanwhile keeps its own).
void remove_pid_file(const Context& ctx, std::optional<pid_t> pid) {
  if (read_pid_file(ctx.pid_file()) == pid) ::unlink(ctx.pid_file().c_str());
}

enum class Stopped { kNotRunning, kStopped, kKilled };

// Stops the router serving this data dir, if any; reports what it did only through the result.
Stopped stop_router(const Context& ctx, pid_t* stopped_pid) {
  std::optional<pid_t> pid = read_pid_file(ctx.pid_file());
  if (!pid || !is_router_for(*pid, ctx.datadir())) {
    // Without a live pid there is nothing to signal; but a router that answers must not be
    // reported as stopped.
    if (auto status = try_get_status(ctx, std::chrono::seconds(2))) {
      throw CliError("a weft router answers on " + ctx.api_socket() + ", but " + ctx.pid_file() +
                     " does not name a running weft router, so `weft stop` cannot tell which "
                     "process to stop. Find it with `pgrep -a weft-router` and stop it with kill.");
    }
    if (pid) remove_pid_file(ctx, pid);  // stale: its process is gone or is something else now
    return Stopped::kNotRunning;
  }
  *stopped_pid = *pid;
  signal_router(*pid, SIGTERM);
  Stopped result = Stopped::kStopped;
  if (!wait_gone(*pid, kStopDeadline)) {
    warn("The weft router (pid " + std::to_string(*pid) + ") did not stop within " +
         std::to_string(kStopDeadline.count()) + " s of SIGTERM; killing it (SIGKILL).");
    signal_router(*pid, SIGKILL);
    if (!wait_gone(*pid, kKillDeadline)) {
      throw CliError("the weft router (pid " + std::to_string(*pid) +
                     ") is still there after SIGKILL; it may be stuck in the kernel. Check "
                     "`ps -o pid,stat,wchan -p " +
                     std::to_string(*pid) + "`.");
    }
    result = Stopped::kKilled;
  }
  // A router that exited cleanly removed its own pid file; a killed one could not.
  remove_pid_file(ctx, pid);
  return result;
}

// Holds the data dir's lock when the directory exists (with no directory there is nothing to
// protect, and nothing to stop either, unless a router was started by hand elsewhere).
std::optional<DatadirLock> lock_if_present(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return std::nullopt;
  return std::optional<DatadirLock>(std::in_place, dir);
}

void run_stop(const Context& ctx) {
  auto lock = lock_if_present(ctx.datadir());
  if (auto npc = stop_npc(ctx))
    say("Stopped weft-npc (pid " + std::to_string(*npc) +
        "); its rules stay in the kernel, so isolated workloads stay isolated.");
  pid_t pid = 0;
  if (stop_router(ctx, &pid) == Stopped::kNotRunning) {
    say("weft is not running on this host (no router for " + ctx.datadir() +
        "); nothing to stop. `weft launch` starts it.");
    return;
  }
  say("weft stopped; its state is kept in " + ctx.datadir() + "; `weft launch` starts it again.");
}

// Removes the interfaces weft created: workload veths (deleting the host end removes ethweft in
// the workload too), router ports left behind, and the bridge. Returns a sentence saying what
// went, or "" if nothing was there.
std::string remove_overlay_interfaces() {
  std::vector<std::string> ports = weft_ports();
  std::vector<std::string> veths;
  for (const auto& p : ports) {
    ProgramResult r = ip({"link", "del", p});
    // Deleting one end of a veth pair takes the other with it (weft-pcap / weft-pcap-br).
    if (!r.ok() && link_info(p)) {
      must(r, "remove the interface " + p, "Run `weft reset` as root.");
    }
    if (is_weft_veth_name(p)) veths.push_back(p);
  }
  bool bridge = bridge_exists();
  if (bridge) {
    must(ip({"link", "del", kBridgeName}), std::string("remove the bridge ") + kBridgeName,
         "Run `weft reset` as root.");
  }
  if (!bridge && veths.empty()) return "";
  std::string msg = "Removed ";
  if (bridge) msg += std::string("the bridge ") + kBridgeName;
  if (!veths.empty()) {
    msg += std::string(bridge ? " and " : "") + std::to_string(veths.size()) +
           " workload interface" + (veths.size() == 1 ? "" : "s") + " (" + join(veths) +
           "); the workloads lost their " + kWorkloadIfName;
  }
  return msg + ".";
}

// weft-npc's chains, hooks and sets (npc/os/kernel_io.h): with them gone, no policy isolates
// anything on this host.
std::string remove_policy_rules() {
  try {
    npc::remove_all();
    return "Removed weft's NetworkPolicy rules (WEFT-* chains and weft-* ipsets), if any.";
  } catch (const std::exception& e) {
    throw CliError(std::string("cannot remove weft's NetworkPolicy rules: ") + e.what() +
                   ". Run `weft reset` as root.");
  }
}

void run_reset(const Context& ctx) {
  const std::string dir = ctx.datadir();
  auto lock = lock_if_present(dir);
  if (auto npc = stop_npc(ctx)) say("Stopped weft-npc (pid " + std::to_string(*npc) + ").");
  pid_t pid = 0;
  if (stop_router(ctx, &pid) != Stopped::kNotRunning) {
    say("Stopped the weft router (pid " + std::to_string(pid) + ").");
  }
  say(remove_policy_rules());
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    std::string removed = remove_overlay_interfaces();
    if (!removed.empty()) say(removed);
    say("Nothing to reset: " + dir + " does not exist. `weft launch` starts afresh.");
    return;
  }
  if (!fs::is_directory(dir, ec)) {
    throw CliError(dir + " is not a directory; not removing it. Check --datadir.");
  }
  std::vector<std::string> entries;
  bool marked = false;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::string n = e.path().filename().string();
    for (const char* m : kDatadirMarkers) marked = marked || n == m;
    entries.push_back(n);
  }
  if (ec) throw CliError("cannot list " + dir + ": " + ec.message() + ".");
  // A mistyped --datadir (say, a home directory) must not be wiped.
  if (dir == "/" || (!entries.empty() && !marked)) {
    throw CliError(dir +
                   " does not look like a weft data dir (none of secret, router.log, "
                   "router.pid, api.sock); not removing anything. Check --datadir.");
  }
  try {  // the workloads' resolv.conf files (cli/workload_dns.h) go with their attachment
    for (const auto& r : read_workloads(ctx)) remove_workload_dns(netns_of(r));
  } catch (const CliError&) {  // nothing readable: nothing of ours to remove
  }
  std::string removed = remove_overlay_interfaces();
  if (!removed.empty()) say(removed);
  std::sort(entries.begin(), entries.end());
  for (const auto& n : entries) {
    fs::remove_all(fs::path(dir) / n, ec);
    if (ec) {
      throw CliError("cannot remove " + dir + "/" + n + ": " + ec.message() +
                     ". Run as root, then `weft reset` again.");
    }
  }
  fs::remove(dir, ec);
  if (ec) throw CliError("cannot remove " + dir + ": " + ec.message() + ".");
  std::string msg = "Removed " + dir;
  msg += entries.empty() ? " (it was empty).\n" : " and everything in it:\n";
  for (const auto& n : entries) msg += "  " + n + "\n";
  msg += "This host's weft identity";
  bool had_secret = std::find(entries.begin(), entries.end(), "secret") != entries.end();
  msg += had_secret ? " and its copy of the cluster secret are gone." : " is gone.";
  msg +=
      " `weft launch --password-file FILE PEER` joins a mesh again; `weft launch` alone starts "
      "a new one.";
  say(msg);
}

}  // namespace

void add_stop_commands(CLI::App& app, Context& ctx) {
  app.add_subcommand("stop",
                     "Stop the weft router on this host, keeping its state, the bridge weft and "
                     "the attached workloads")
      ->callback([&ctx] { run_stop(ctx); });
  app.add_subcommand("reset",
                     "Stop the weft router, remove the bridge weft and the workload interfaces, "
                     "and delete this host's weft state (identity, cluster secret, targets, "
                     "logs) and its data dir")
      ->callback([&ctx] { run_reset(ctx); });
}

}  // namespace weft::cli
