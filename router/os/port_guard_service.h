#pragma once
// The port guard (common/port_guard.h) driven by the router's workload registry (issue 10).
// Each of this host's workloads in the cluster state (StateService: keys HOST/ID with HOST this
// peer) gets its bridge port bound to its MAC and IPv4 addresses when it is registered or
// changed, and unbound when it goes, however it was attached (`weft attach`, CNI). At start
// the table is rewritten from the registry in one transaction (sync): bindings of workloads
// that are gone are removed, missing ones added. Between two runs the table stays in the
// kernel, so ports stay guarded (and unbound weft ports closed) while the router is down.
//
// A failure to apply (nft missing, a kernel without nf_tables bridge support) is logged
// (rate-limited) and counted; the workload stays attached, unguarded, and the next change or
// start tries again.
//
// /metrics: weft_port_guard_bound_ports, weft_port_guard_dropped_total{reason="spoofed"|
// "broadcast_limit"} (kept across unbinds: a detached port's counts are added to a total),
// weft_port_guard_errors_total.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "common/log_limiter.h"
#include "common/peer_name.h"
#include "common/port_guard.h"
#include "state/object_table.h"
#include "state/state_core.h"

namespace weft {

class PortGuardService {
 public:
  PortGuardService(PeerName self, PortGuardBackend& backend, std::function<int64_t()> now_ms);

  // Binds exactly this host's live workloads in `table` (one sync of the whole table).
  void start(const state::ObjectTable& table);
  // A change to the state (StateService's change feed); acts on this host's workloads only,
  // and only when a binding changes (a label edit runs nothing).
  void on_change(const state::Change& c);

  size_t bound_ports() const { return bound_.size(); }
  uint64_t errors() const { return errors_; }
  // Prometheus text (reads the rules' counters: one `nft list` when a port is bound).
  std::string metrics_text();

  // The binding a workload's stored JSON asks for ("veth", "mac", "ips"), or nullopt when it
  // has no port on the bridge (no veth or MAC) or is malformed.
  static std::optional<PortBinding> binding_of(const std::string& value);

 private:
  bool local(const std::string& key) const;
  // Runs `op` (a backend call); on an error (returned or thrown) counts it, logs it
  // (rate-limited) and returns false.
  bool apply(const std::string& what, const std::function<std::string()>& op);
  void unbind(const std::string& key);

  PeerName self_;
  PortGuardBackend& backend_;
  std::function<int64_t()> now_;
  std::map<std::string, PortBinding> bound_;  // workload key -> its port's binding
  PortGuardCounts retired_;                   // counts of ports unbound since start
  uint64_t errors_ = 0;
  LogLimiter log_limit_;
};

}  // namespace weft
