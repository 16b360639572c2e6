#include "npc/os/npc_daemon.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <fstream>
#include <thread>

#include "common/http_client.h"
#include "common/http_message.h"
#include "common/log_limiter.h"
#include "common/run_program.h"
#include "npc/blocked_flows.h"
#include "npc/os/kernel_io.h"
#include "npc/os/nflog_reader.h"
#include "npc/state_mirror.h"
#include "npc/watch_stream.h"
#include "router/api/http_server.h"

namespace weft::npc {

namespace asio = boost::asio;
using local = asio::local::stream_protocol;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch())
      .count();
}

double seconds(std::chrono::microseconds d) {
  return static_cast<double>(d.count()) / 1e6;
}

// Bridged IPv4/IPv6 must traverse iptables, or no rule sees workload traffic (planner.h).
void require_bridge_netfilter() {
  const char* knobs[] = {"/proc/sys/net/bridge/bridge-nf-call-iptables",
                         "/proc/sys/net/bridge/bridge-nf-call-ip6tables"};
  if (!std::ifstream(knobs[0])) run_program({"modprobe", "br_netfilter"});
  for (const char* knob : knobs) {
    std::ofstream out(knob);
    out << "1\n";
    out.flush();
    if (!out)
      throw std::runtime_error(std::string("cannot switch on ") + knob +
                               ": br_netfilter is not available (load it with `modprobe "
                               "br_netfilter`); without it no policy can be enforced");
  }
}

bool kernel_has_weft_rules() {
  KernelState k = read_kernel_state();
  return k.chains.count(kForwardChain) > 0;
}

}  // namespace

struct NpcDaemonState : std::enable_shared_from_this<NpcDaemonState> {
  NpcDaemonState(asio::io_context& context, NpcDaemonConfig c)
      : io(context), cfg(std::move(c)), sync_timer(io), resync_timer(io), reconnect_timer(io) {}

  asio::io_context& io;
  NpcDaemonConfig cfg;
  std::unique_ptr<HttpServer> http;
  asio::steady_timer sync_timer, resync_timer, reconnect_timer;
  bool stopped = false;

  // --- following the router
  std::unique_ptr<local::socket> watch;
  uint64_t watch_generation = 0;
  WatchStreamDecoder decoder;
  std::array<char, 64 << 10> read_buf{};
  StateMirror mirror;
  bool router_connected = false;
  std::chrono::milliseconds reconnect_delay{100};
  LogLimiter watch_log{3, 30'000};
  uint64_t reconnects = 0, watch_errors = 0;

  // --- programming the kernel
  bool sync_pending = false;
  ClusterView view;  // what the rules were last planned from
  uint64_t applied_revision = 0;
  bool programmed = false;  // rules from a complete snapshot are in the kernel
  std::vector<std::string> problems;
  LogLimiter sync_log{5, 10'000};
  uint64_t syncs = 0, sync_failures = 0, repairs = 0;
  std::chrono::microseconds last_read{0}, last_apply{0};
  size_t rules = 0, sets = 0, members = 0;
  int64_t last_sync_ms = 0;

  // --- blocked flows
  std::unique_ptr<NflogReader> nflog;
  std::unique_ptr<asio::posix::stream_descriptor> nflog_fd;
  BlockedFlowLog blocked;

  void start();
  void stop();

  void connect_watch();
  void on_watch_bytes(uint64_t gen, std::string_view bytes);
  void watch_failed(uint64_t gen, const std::string& why);
  void read_watch(uint64_t gen);

  // Plans and reconciles after `delay` (changes meanwhile join the same pass).
  void request_sync(std::chrono::milliseconds delay);
  void sync(bool periodic);
  void arm_resync();

  void start_nflog();
  void wait_nflog();

  json status_json() const;
  std::string metrics_text() const;
  void serve(const HttpRequest& req, HttpResponder respond);
};

void NpcDaemonState::start() {
  require_bridge_netfilter();
  if (cfg.planner.local_host.empty()) {
    // The planner needs this host's peer name: its workloads are the local ones. Until the
    // router answers, the base rules (below) keep every workload port closed.
    for (auto deadline = Clock::now() + std::chrono::seconds(30);;) {
      try {
        HttpResult r =
            http_request(cfg.router_socket, "GET", "/status", "", std::chrono::seconds(2));
        if (r.status == 200) {
          cfg.planner.local_host = json::parse(r.body).at("name").get<std::string>();
          break;
        }
      } catch (const std::exception& e) {
        if (Clock::now() > deadline)
          throw std::runtime_error("the weft router does not answer on " + cfg.router_socket +
                                   " (" + e.what() + "); start it with `weft launch`");
      }
      if (Clock::now() > deadline)
        throw std::runtime_error("the weft router on " + cfg.router_socket +
                                 " did not say its name");
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  if (!kernel_has_weft_rules()) {
    // Nothing of ours in the kernel (first start on this host): close every workload port now;
    // the first snapshot opens what the policies allow.
    PlannerConfig base = cfg.planner;
    reconcile(plan(ClusterView{}, base));
    spdlog::info("installed weft's base rules: workload ports stay closed until programmed");
  } else {
    spdlog::info(
        "the kernel holds weft's rules from an earlier run; they stay until the first "
        "snapshot is planned");
  }
  http = std::make_unique<HttpServer>(
      io, [self = weak_from_this()](const HttpRequest& req, HttpResponder respond) {
        if (auto s = self.lock()) s->serve(req, std::move(respond));
      });
  http->listen_unix(cfg.npc_socket);
  start_nflog();
  connect_watch();
  arm_resync();
  spdlog::info(
      "weft-npc enforcing NetworkPolicies for host {} (router {}, status and metrics "
      "on {})",
      cfg.planner.local_host, cfg.router_socket, cfg.npc_socket);
}

void NpcDaemonState::stop() {
  if (stopped) return;
  stopped = true;
  ++watch_generation;
  if (watch) {
    boost::system::error_code ec;
    watch->close(ec);
  }
  if (nflog_fd) {
    nflog_fd->release();  // NflogReader owns the descriptor
    nflog_fd.reset();
  }
  sync_timer.cancel();
  resync_timer.cancel();
  reconnect_timer.cancel();
  if (http) http->stop();
}

// --- following the router

void NpcDaemonState::connect_watch() {
  if (stopped) return;
  uint64_t gen = ++watch_generation;
  decoder = WatchStreamDecoder();
  watch = std::make_unique<local::socket>(io);
  watch->async_connect(
      local::endpoint(cfg.router_socket),
      [self = shared_from_this(), gen](const boost::system::error_code& ec) {
        if (gen != self->watch_generation) return;
        if (ec) return self->watch_failed(gen, "cannot connect: " + ec.message());
        std::string target = "/state/watch";
        if (self->mirror.synced())
          target += "?since=" + std::to_string(self->mirror.revision()) +
                    "&epoch=" + percent_encode(self->mirror.epoch());
        auto request =
            std::make_shared<std::string>("GET " + target + " HTTP/1.1\r\nHost: weft\r\n\r\n");
        asio::async_write(*self->watch, asio::buffer(*request),
                          [self, gen, request](const boost::system::error_code& wec, size_t) {
                            if (gen != self->watch_generation) return;
                            if (wec) return self->watch_failed(gen, "cannot ask: " + wec.message());
                            self->read_watch(gen);
                          });
      });
}

void NpcDaemonState::read_watch(uint64_t gen) {
  watch->async_read_some(
      asio::buffer(read_buf),
      [self = shared_from_this(), gen](const boost::system::error_code& ec, size_t n) {
        if (gen != self->watch_generation) return;
        if (n > 0) self->on_watch_bytes(gen, std::string_view(self->read_buf.data(), n));
        if (gen != self->watch_generation) return;  // the bytes ended this connection
        if (ec)
          return self->watch_failed(gen,
                                    ec == asio::error::eof ? "the router closed it" : ec.message());
        self->read_watch(gen);
      });
}

void NpcDaemonState::on_watch_bytes(uint64_t gen, std::string_view bytes) {
  std::vector<std::string> lines;
  bool changed = false;
  try {
    decoder.feed(bytes, lines);
    for (const std::string& line : lines) {
      bool first = !mirror.synced();
      changed |= mirror.apply(json::parse(line));
      if (first && mirror.synced())
        spdlog::info("cluster state received (revision {})", mirror.revision());
    }
  } catch (const std::exception& e) {
    // A line we cannot follow: start over from a fresh snapshot (never plan from a partial one).
    mirror = StateMirror();
    return watch_failed(gen, std::string("unreadable watch stream: ") + e.what());
  }
  if (!router_connected && mirror.synced()) {
    router_connected = true;
    reconnect_delay = std::chrono::milliseconds(100);
    if (reconnects > 0) spdlog::info("following the router's cluster state again");
  }
  if (changed) request_sync(cfg.debounce);
}

void NpcDaemonState::watch_failed(uint64_t gen, const std::string& why) {
  if (gen != watch_generation || stopped) return;
  ++watch_generation;
  ++watch_errors;
  if (watch) {
    boost::system::error_code ec;
    watch->close(ec);
  }
  if (router_connected || watch_log.admit(now_ms())) {
    spdlog::warn(
        "lost the router's cluster state on {} ({}); keeping the rules in place and "
        "reconnecting",
        cfg.router_socket, why);
  }
  router_connected = false;
  ++reconnects;
  reconnect_timer.expires_after(reconnect_delay);
  reconnect_delay = std::min(reconnect_delay * 2, std::chrono::milliseconds(2000));
  reconnect_timer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (!ec) self->connect_watch();
  });
}

// --- programming the kernel

void NpcDaemonState::request_sync(std::chrono::milliseconds delay) {
  if (sync_pending || stopped) return;
  sync_pending = true;
  sync_timer.expires_after(delay);
  sync_timer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    self->sync_pending = false;
    if (!ec) self->sync(false);
  });
}

void NpcDaemonState::arm_resync() {
  resync_timer.expires_after(cfg.resync_interval);
  resync_timer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec || self->stopped) return;
    self->sync(true);
    self->arm_resync();
  });
}

void NpcDaemonState::sync(bool periodic) {
  if (!mirror.synced() || stopped) return;
  // A periodic pass that also carries changes not yet planned is not a repair: what it writes
  // may be those changes, not something someone else undid.
  const bool repair_only = periodic && programmed && mirror.revision() == applied_revision;
  ClusterSnapshot snap = mirror.snapshot();
  DesiredState desired = plan(snap.view, cfg.planner);
  std::vector<std::string> now_problems = snap.problems;
  now_problems.insert(now_problems.end(), desired.problems.begin(), desired.problems.end());
  for (const std::string& p : now_problems)
    if (std::find(problems.begin(), problems.end(), p) == problems.end())
      spdlog::warn("not enforced as written: {}", p);
  problems = std::move(now_problems);
  view = std::move(snap.view);
  ++syncs;
  try {
    ReconcileResult r = reconcile(desired);
    last_read = r.read_time;
    last_apply = r.apply_time;
    last_sync_ms = now_ms();
    applied_revision = snap.revision;
    programmed = true;
    rules = 0;
    for (const auto& [name, chain] : desired.chains) rules += chain.rules.size();
    sets = desired.sets.size();
    members = 0;
    for (const auto& [name, set] : desired.sets) members += set.members.size();
    if (!r.plan.empty()) {
      auto list = [](const std::vector<std::string>& v) {
        std::string out;
        for (const std::string& s : v) out += (out.empty() ? "" : ",") + s;
        return out.empty() ? std::string("-") : out;
      };
      std::string what = "chains written " + list(r.plan.chains_written) + ", removed " +
                         list(r.plan.chains_removed) + "; hooks added " + list(r.plan.hooks_added) +
                         "; sets created " + list(r.plan.sets_created) + ", updated " +
                         list(r.plan.sets_swapped) + ", removed " + list(r.plan.sets_removed);
      if (repair_only) {
        ++repairs;
        spdlog::warn("repaired weft's rules, which something else had changed: {}", what);
      } else {
        spdlog::info("programmed revision {} in {:.1f} ms: {}", snap.revision,
                     seconds(r.read_time + r.apply_time) * 1e3, what);
      }
    }
  } catch (const std::exception& e) {
    ++sync_failures;
    if (auto suppressed = sync_log.admit(now_ms()))
      spdlog::error("could not program the kernel (retrying in 1 s): {}{}", e.what(),
                    LogLimiter::suffix(*suppressed));
    request_sync(std::chrono::seconds(1));
  }
}

// --- blocked flows

void NpcDaemonState::start_nflog() {
  try {
    nflog = std::make_unique<NflogReader>(cfg.planner.nflog_group);
  } catch (const std::exception& e) {
    spdlog::warn("blocked connections will not be logged: {}", e.what());
    return;
  }
  nflog_fd = std::make_unique<asio::posix::stream_descriptor>(io, nflog->fd());
  wait_nflog();
}

void NpcDaemonState::wait_nflog() {
  nflog_fd->async_wait(
      asio::posix::stream_descriptor::wait_read,
      [self = shared_from_this()](const boost::system::error_code& ec) {
        if (ec || self->stopped) return;
        int64_t now = now_ms();
        self->nflog->read_pending([&](std::string_view prefix, const uint8_t* packet, size_t size) {
          auto p = parse_blocked_packet(prefix, packet, size);
          if (!p) return;
          if (auto line = self->blocked.on_packet(*p, self->view, now)) spdlog::warn("{}", *line);
        });
        self->wait_nflog();
      });
}

// --- status and metrics

json NpcDaemonState::status_json() const {
  size_t local_workloads = 0;
  for (const Workload& w : view.workloads) local_workloads += w.host == cfg.planner.local_host;
  return {{"host", cfg.planner.local_host},
          {"router_socket", cfg.router_socket},
          {"router_connected", router_connected},
          {"synced", mirror.synced()},
          {"programmed", programmed},
          {"revision", mirror.revision()},
          {"applied_revision", applied_revision},
          {"policies", view.policies.size()},
          {"workloads", view.workloads.size()},
          {"local_workloads", local_workloads},
          {"rules", rules},
          {"sets", sets},
          {"set_members", members},
          {"last_sync_ms_ago", last_sync_ms ? now_ms() - last_sync_ms : -1},
          {"problems", problems}};
}

std::string NpcDaemonState::metrics_text() const {
  std::string m;
  auto metric = [&](const std::string& name, const char* type, const std::string& help, double v) {
    m += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n" + name + " " +
         fmt::format("{}", v) + "\n";
  };
  m += "# HELP weft_npc_blocked_connections_total Packets of new flows denied by a "
       "NetworkPolicy (or sent from an unprogrammed or spoofed port), as NFLOG reported them.\n"
       "# TYPE weft_npc_blocked_connections_total counter\n";
  for (const auto& [key, n] : blocked.counts())
    m += "weft_npc_blocked_connections_total{protocol=\"" + key.first + "\",port=\"" +
         std::to_string(key.second) + "\"} " + std::to_string(n) + "\n";
  metric("weft_npc_syncs_total", "counter", "Reconciles of the kernel with the planned rules.",
         double(syncs));
  metric("weft_npc_sync_failures_total", "counter", "Reconciles that failed (retried).",
         double(sync_failures));
  metric("weft_npc_repairs_total", "counter",
         "Periodic reconciles that found weft's rules changed by something else and repaired them.",
         double(repairs));
  metric("weft_npc_read_duration_seconds", "gauge",
         "Time the last reconcile spent reading the kernel's rules and sets.", seconds(last_read));
  metric("weft_npc_apply_duration_seconds", "gauge",
         "Time the last reconcile spent applying changes.", seconds(last_apply));
  metric("weft_npc_applied_revision", "gauge", "Cluster-state revision the kernel enforces.",
         double(applied_revision));
  metric("weft_npc_router_connected", "gauge", "1 while the router's watch stream is followed.",
         router_connected ? 1 : 0);
  metric("weft_npc_watch_reconnects_total", "counter", "Times the watch stream was reopened.",
         double(reconnects));
  metric("weft_npc_rules", "gauge", "Rules in weft's IPv4 chains.", double(rules));
  metric("weft_npc_ipsets", "gauge", "weft's ipsets.", double(sets));
  metric("weft_npc_ipset_members", "gauge", "Members of weft's ipsets.", double(members));
  metric("weft_npc_policies", "gauge", "NetworkPolicies in the cluster state.",
         double(view.policies.size()));
  metric("weft_npc_problems", "gauge", "Policies or workloads not enforced as written.",
         double(problems.size()));
  return m;
}

void NpcDaemonState::serve(const HttpRequest& req, HttpResponder respond) {
  if (req.method != "GET") return respond({405, "application/json", R"({"error":"GET only"})"});
  if (req.path == "/status") return respond({200, "application/json", status_json().dump()});
  if (req.path == "/metrics") return respond({200, "text/plain; version=0.0.4", metrics_text()});
  respond({404, "application/json", R"({"error":"weft-npc serves /status and /metrics"})"});
}

// --- NpcDaemon

NpcDaemon::NpcDaemon(asio::io_context& io, NpcDaemonConfig config)
    : s_(std::make_shared<NpcDaemonState>(io, std::move(config))) {}

NpcDaemon::~NpcDaemon() {
  s_->stop();
}

void NpcDaemon::start() {
  s_->start();
}
void NpcDaemon::stop() {
  s_->stop();
}

}  // namespace weft::npc
