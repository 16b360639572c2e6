#pragma once
// The router's cluster-state adapter: runs the StateCore on the mesh, keeps its state in
// DATADIR/state.json (atomic writes, ARCHITECTURE.md §6) and serves the state API:
//
//   GET  /state                          snapshot: {"revision", "epoch", "workloads",
//                                        "namespaces", "policies", "dns_records"}
//   GET  /state/watch[?since=R&epoch=E]  newline-delimited JSON, streamed: a snapshot line
//                                        ({"type":"snapshot",...}) unless the client can resume
//                                        from R, then one line per change
//                                        ({"type":"change","revision","kind","key","op","object"})
//   GET  /workloads[?all=1&namespace=NS] this host's workloads (every host's with all=1)
//   POST /workloads                      register or update one of this host's workloads
//   POST /workloads/delete {"id"}        remove it
//   (POST /workloads/attach and /workloads/detach, for CNI: router/os/workload_attacher.h)
//   POST /workloads/label {"id","set","remove"}
//   GET  /namespaces                     every namespace in use or labelled, with labels
//   POST /namespaces/label {"namespace","set","remove"}
//   GET  /policies[?namespace=NS]        GET /policies/get?name=NS/NAME
//   POST /policies/apply {"policies":[...]}   all validated first; per policy created,
//                                        configured or unchanged
//   POST /policies/delete {"names":["NS/NAME",...]}
//   POST /dns/add {"ips","name"}  POST /dns/remove {"ips","name"}  GET /dns/records
//
// Writes are root-only (ApiAccess::kAdmin) and acknowledged only once saved.
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "router/api/module_registry.h"
#include "state/state_core.h"

namespace weft {

struct StateServiceConfig {
  std::string datadir;
  PeerName self = 0;
  std::string nickname;
  int64_t started_unix_ms = 0;  // wall time at now_ms() == 0
  int64_t gone_grace_ms = 60'000;
};

class StateService : private state::StateStore, private state::StateEvents {
 public:
  // Loads DATADIR/state.json; throws std::runtime_error with the fix when it is corrupted.
  StateService(GossipSender& gossip, Membership& members, StateServiceConfig cfg,
               std::function<int64_t()> now_ms);
  ~StateService() override;

  void start(ModuleRegistry& registry);
  // `weft rmpeer`: the host's workloads go, cluster-wide.
  void forget_host(PeerName host);
  // The whole state as served by GET /state.
  nlohmann::json snapshot() const;
  const state::StateCore& core() const { return *core_; }
  // `f` is called with every change applied from now on, local or remote, in revision order and
  // before watchers see it (after start: read core().table() for what came before). Other
  // modules follow the state this way: DNS, and the port guard, which binds a workload's port
  // before `weft attach` gets its answer.
  void on_changes(std::function<void(const state::Change&)> f) {
    listeners_.push_back(std::move(f));
  }

  // This host's workloads, for the router's other modules (the CNI attach, workload_attacher.h):
  // the one with key id `id` (nullopt when there is none); `w` checked and completed as
  // POST /workloads would (throws state::ObjectError saying what is wrong); `w` registered
  // (throws state::ObjectError, or state::StoreError when it cannot be saved: nothing changed);
  // the one with key id `id` removed (false when there was none).
  std::optional<nlohmann::json> own_workload(const std::string& id) const;
  nlohmann::json checked_workload(const nlohmann::json& w) const;
  void put_workload(const nlohmann::json& w);
  bool delete_workload(const std::string& id);

 private:
  struct Watcher {
    std::shared_ptr<HttpStream> stream;
  };
  void save(const state::ObjectTable& table, uint64_t hlc, uint64_t revision) override;
  void on_change(const state::Change& c) override;
  void log(LogLevel level, const std::string& message) override;
  nlohmann::json render(state::Kind kind, const std::string& key, const std::string& value) const;
  nlohmann::json namespaces_json() const;
  std::string metrics_text() const;
  void import_cli_workloads();
  void add_routes(ModuleRegistry& r);

  StateServiceConfig cfg_;
  Membership& members_;
  std::string path_;
  std::function<int64_t()> now_;
  std::string epoch_;  // this run's id: revisions of another run cannot be resumed
  std::unique_ptr<state::StateCore> core_;
  std::vector<std::shared_ptr<Watcher>> watchers_;
  std::vector<std::function<void(const state::Change&)>> listeners_;
  uint64_t save_failures_ = 0;
};

}  // namespace weft
