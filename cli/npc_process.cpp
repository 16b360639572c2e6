#include "cli/npc_process.h"

#include <sys/stat.h>

#include <csignal>
#include <thread>

#include "cli/daemon.h"
#include "cli/output.h"
#include "common/http_client.h"

namespace weft::cli {

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kNpcStartDeadline = std::chrono::seconds(20);
constexpr auto kPoll = std::chrono::milliseconds(50);

std::string npc_pid_file(const Context& ctx) {
  return ctx.file("npc.pid");
}
std::string npc_log(const Context& ctx) {
  return ctx.file("npc.log");
}

std::optional<pid_t> running_npc(const Context& ctx) {
  std::optional<pid_t> pid = read_pid_file(npc_pid_file(ctx));
  if (pid && is_daemon_for(*pid, ctx.datadir(), "weft-npc")) return pid;
  return std::nullopt;
}

}  // namespace

std::optional<nlohmann::json> npc_status(const Context& ctx) {
  try {
    HttpResult r =
        http_request(ctx.file("npc.sock"), "GET", "/status", "", std::chrono::seconds(2));
    if (r.status != 200) return std::nullopt;
    return nlohmann::json::parse(r.body);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

void start_npc(const Context& ctx) {
  if (auto pid = running_npc(ctx)) {
    say("weft-npc is already enforcing NetworkPolicies here (pid " + std::to_string(*pid) + ").");
    return;
  }
  std::string binary = find_sibling_binary("weft-npc", "WEFT_NPC");
  struct stat st;
  off_t log_start = ::stat(npc_log(ctx).c_str(), &st) == 0 ? st.st_size : 0;
  pid_t pid = spawn_daemon(binary, {"--datadir", ctx.datadir()}, npc_log(ctx));
  const auto deadline = Clock::now() + kNpcStartDeadline;
  while (Clock::now() < deadline) {
    if (auto code = child_exit_status(pid)) {
      std::string tail = log_tail(npc_log(ctx), log_start, 10);
      throw CliError("weft-npc failed to start (status " + std::to_string(*code) +
                     "); last lines of " + npc_log(ctx) + ":\n" + tail +
                     "The router runs, but NetworkPolicies are not enforced on this host. Fix the "
                     "problem above and run `weft launch` again (or `weft launch --no-npc` to run "
                     "without policy enforcement).");
    }
    if (auto s = npc_status(ctx); s && s->value("programmed", false)) {
      say("weft-npc started (pid " + std::to_string(pid) +
          "): NetworkPolicies are enforced on "
          "this host; blocked connections are logged in " +
          npc_log(ctx) + ".");
      return;
    }
    std::this_thread::sleep_for(kPoll);
  }
  ::kill(pid, SIGTERM);
  throw CliError("weft-npc (pid " + std::to_string(pid) + ") did not program the kernel within " +
                 std::to_string(kNpcStartDeadline.count()) +
                 " s, so it was stopped; last lines of " + npc_log(ctx) + ":\n" +
                 log_tail(npc_log(ctx), log_start, 10) +
                 "Fix the problem shown, then run `weft launch` again.");
}

std::optional<pid_t> stop_npc(const Context& ctx) {
  std::optional<pid_t> pid = running_npc(ctx);
  if (!pid) return std::nullopt;
  ::kill(*pid, SIGTERM);
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  while (process_running(*pid)) {
    if (Clock::now() >= deadline) {
      ::kill(*pid, SIGKILL);
      break;
    }
    std::this_thread::sleep_for(kPoll);
  }
  child_exit_status(*pid);  // reap it when it is our child
  return pid;
}

}  // namespace weft::cli
