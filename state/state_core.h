#pragma once
// The cluster state, without I/O: workloads (each owned by the host it runs on), namespaces'
// labels, NetworkPolicies and DNS records added by hand, replicated to every peer as
// last-writer-wins entries (entry.h) over the gossip channel "state".
//
// - Local writes (write) are saved before they return, so what the API acknowledged survives
//   kill -9, then broadcast: O(1) messages per peer per change, along the mesh's trees.
// - Anti-entropy repairs what a broadcast missed, and brings a joining or healed peer up to
//   date, by comparing bucket digests (state_messages.h): bytes in proportion to the difference.
// - A host is authoritative for its own workloads: only entries it wrote are taken for its
//   keys, and when it sees another version of one of its keys than the one it holds (an old
//   copy after it lost its data dir, a tombstone written for it while it was away) it writes
//   what it holds again, newer.
// - A peer the mesh has forgotten (on_peer_gone) that stays unreachable for gone_grace_ms is
//   gone for good: its workloads are deleted, by every peer alike with the same deterministic
//   tombstone, so they agree without messages.
// - Every change gets a local revision, kept in a bounded log for watchers (changes_since).
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/log_level.h"
#include "gossip/gossip_channel.h"
#include "state/hlc.h"
#include "state/object_table.h"
#include "state/state_messages.h"

namespace weft::state {

// One change to the visible state, as watchers see it.
struct Change {
  uint64_t revision = 0;
  Kind kind = Kind::kNamespace;
  std::string key;
  bool deleted = false;
  std::string value;  // empty when deleted
};

struct StateConfig {
  PeerName self = 0;
  int64_t started_unix_ms = 0;  // wall time at now_ms == 0: the HLC's physical part
  int64_t gone_grace_ms = 60'000;
  int64_t save_delay_ms = 1000;  // remote changes are saved in batches at most this late
  size_t change_log_capacity = 10'000;
};

// What was saved last time, to start from.
struct SavedState {
  std::vector<Entry> entries;
  uint64_t hlc = 0;
  uint64_t revision = 0;
};

class StateStore {
 public:
  virtual ~StateStore() = default;
  // Durably records the whole state; throws std::exception (with a message) on failure.
  virtual void save(const ObjectTable& table, uint64_t hlc, uint64_t revision) = 0;
};

class StateEvents {
 public:
  virtual ~StateEvents() = default;
  // After every change, local or remote, in revision order.
  virtual void on_change(const Change& c) = 0;
  virtual void log(LogLevel level, const std::string& message) = 0;
};

// A local write could not be saved: nothing changed.
struct StoreError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct StateCounters {
  uint64_t local_writes = 0;
  uint64_t remote_entries_taken = 0;
  uint64_t entries_refused = 0;  // a workload entry not written by its owner
  uint64_t owner_reasserts = 0;
  uint64_t malformed_messages = 0;
  uint64_t repairs_sent = 0;  // entries sent by anti-entropy
  uint64_t hosts_gone = 0;
};

class StateCore : public GossipChannel {
 public:
  static constexpr const char* kChannel = "state";

  StateCore(StateConfig cfg, GossipSender& gossip, Membership& members, StateStore& store,
            StateEvents& events, SavedState saved = {});

  struct Write {
    Kind kind = Kind::kNamespace;
    std::string key;
    std::optional<std::string> value;  // nullopt: delete
  };
  // Applies the writes as one change. A write that changes nothing (the same value, a delete
  // of what is not there) is skipped. Saved before it returns, then broadcast. Throws
  // StoreError when the save fails, with the state as before. Workload keys must be this
  // host's own (std::invalid_argument otherwise).
  std::vector<Change> write(const std::vector<Write>& writes, int64_t now_ms);
  // Deletes every workload of `host` (gone for good, or removed with `weft rmpeer`). With
  // `announce` (rmpeer) the tombstones are broadcast; peers that find the host gone on their
  // own write the same tombstones and need none.
  void forget_host(PeerName host, int64_t now_ms, bool announce = false);

  const ObjectTable& table() const { return table_; }
  uint64_t revision() const { return revision_; }
  // The changes after `revision`, or nullopt when the log no longer reaches back that far
  // (the caller then starts from a snapshot).
  std::optional<std::vector<Change>> changes_since(uint64_t revision) const;
  const StateCounters& counters() const { return counters_; }

  // GossipChannel
  void on_neighbor(PeerName from, ByteView payload, int64_t now_ms) override;
  void on_unicast(PeerName src, ByteView payload, int64_t now_ms) override;
  bool on_broadcast(PeerName src, PeerName from, ByteView payload, int64_t now_ms) override;
  void on_neighbor_up(PeerName peer, int64_t now_ms) override;
  void on_gossip_tick(PeerName neighbor, int64_t now_ms) override;
  void on_peer_gone(PeerName peer, int64_t now_ms) override;
  int64_t next_deadline() const override;
  void on_timer(int64_t now_ms) override;

 private:
  int64_t wall(int64_t now_ms) const { return cfg_.started_unix_ms + now_ms; }
  // Merges remote entries; returns whether any was news. Own keys are re-asserted.
  bool merge_remote(const std::vector<Entry>& entries, int64_t now_ms);
  void record_change(const Entry& e);
  void save_now();
  void send_entries(PeerName to, const std::vector<const Entry*>& entries);
  void send_buckets(PeerName to, bool reply);
  std::vector<size_t> differing(const ObjectTable::Digest& theirs) const;
  void handle(PeerName from, const StateMessage& m, int64_t now_ms);

  StateConfig cfg_;
  GossipSender& gossip_;
  Membership& members_;
  StateStore& store_;
  StateEvents& events_;
  ObjectTable table_;
  HybridClock clock_;
  uint64_t revision_ = 0;
  std::deque<Change> log_;
  bool dirty_ = false;
  int64_t save_due_ms_ = kNoGossipDeadline;
  std::map<PeerName, int64_t> gone_due_;  // peer -> when it is gone for good unless back
  StateCounters counters_;
  bool warned_skew_ = false;
};

}  // namespace weft::state
