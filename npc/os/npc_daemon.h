#pragma once
// weft-npc's event loop: follows the router's cluster state (the watch stream on its API
// socket), plans this host's rules (npc/planner.h) and reconciles the kernel with them
// (kernel_io.h) on every change and every few seconds (repairing what others changed), logs
// blocked flows from NFLOG, and answers GET /status and GET /metrics on its own unix socket.
//
// Fail closed (planner.h): the kernel keeps weft's rules while weft-npc is down, so weft-npc
// never flushes. At start it plans nothing until it has one complete snapshot, except on a
// kernel with no weft rules at all, where it installs the base chains first, so that no workload
// port passes traffic before its rules exist. While the router is unreachable it keeps the last
// rules and reconnects.
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "npc/planner.h"

namespace weft::npc {

struct NpcDaemonConfig {
  std::string router_socket;  // the router's API (DATADIR/api.sock)
  std::string npc_socket;     // weft-npc's own status and metrics (DATADIR/npc.sock)
  // Reconciles this often even without a change (what was removed or added by hand is repaired).
  std::chrono::milliseconds resync_interval{5000};
  // Changes arriving within this window are planned together.
  std::chrono::milliseconds debounce{10};
  PlannerConfig planner;  // local_host: filled from the router's /status when empty
};

struct NpcDaemonState;

class NpcDaemon {
 public:
  NpcDaemon(boost::asio::io_context& io, NpcDaemonConfig config);
  ~NpcDaemon();
  NpcDaemon(const NpcDaemon&) = delete;
  NpcDaemon& operator=(const NpcDaemon&) = delete;

  // Switches bridged traffic through iptables (br_netfilter), installs the base chains on a
  // kernel that has none, starts listening and following the router. Throws std::runtime_error
  // when enforcement is impossible (no br_netfilter, no iptables).
  void start();
  // Stops listening and following; the kernel keeps its rules.
  void stop();

 private:
  std::shared_ptr<NpcDaemonState> s_;
};

}  // namespace weft::npc
