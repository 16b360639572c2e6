// weft-npc: makes NetworkPolicy true for this host's workloads (iptables + ipset), following the
// router's cluster state. Started by `weft launch` (unless --no-npc); can run on its own against
// a router's API socket. See README.md ("Network policy") and npc/os/npc_daemon.h.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "common/pid_file.h"
#include "npc/os/npc_daemon.h"

using namespace weft;

int main(int argc, char** argv) {
  CLI::App app{"weft-npc: NetworkPolicy enforcement for weft (normally started by `weft launch`)"};
  std::string datadir = "/var/lib/weft", router_socket, host;
  int resync_seconds = 5;
  bool debug = false;
  app.add_option("--datadir", datadir, "The router's data directory (its API socket is there)")
      ->capture_default_str();
  app.add_option("--router-socket", router_socket,
                 "The router's API socket (default: DATADIR/api.sock)");
  app.add_option("--host", host, "This host's peer name (default: asked from the router)");
  app.add_option("--resync-interval", resync_seconds,
                 "Seconds between checks that repair rules changed by others")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  app.add_flag("--debug", debug, "Verbose logging");
  CLI11_PARSE(app, argc, argv);

  spdlog::set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ %v");
  spdlog::set_level(debug ? spdlog::level::debug : spdlog::level::info);
  spdlog::flush_on(spdlog::level::info);

  try {
    PidFile pidfile(datadir + "/npc.pid", "weft-npc on " + datadir);
    npc::NpcDaemonConfig cfg;
    cfg.router_socket = router_socket.empty() ? datadir + "/api.sock" : router_socket;
    cfg.npc_socket = datadir + "/npc.sock";
    cfg.resync_interval = std::chrono::seconds(resync_seconds);
    cfg.planner.local_host = host;
    boost::asio::io_context io;
    npc::NpcDaemon daemon(io, cfg);
    daemon.start();
    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& ec, int sig) {
      if (ec) return;
      spdlog::info(
          "signal {}: stopping; the kernel keeps weft's rules (workloads stay as "
          "isolated as they were)",
          sig);
      daemon.stop();
      io.stop();
    });
    io.run();
    return 0;
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return 1;
  }
}
