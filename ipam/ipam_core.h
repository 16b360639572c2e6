#pragma once
// IPAM: every workload gets a unique address from the overlay range with no coordinator
// (ARCHITECTURE.md §2: a sans-I/O core; the router's adapter supplies the mesh, the clock and
// the state file).
//
// - The ring (ipam/ring.h) says who owns which space; this peer allocates only from its own.
// - Bootstrap: `consensus=N` waits until N peers that take part agree on the same seed list,
//   `seed=A,B` uses the listed peers, `observer` never seeds. A peer that meets an existing ring
//   adopts it. Rings from separate bootstraps never merge: the earlier bootstrap wins, and the
//   peers of the later one adopt it and re-claim the addresses they have in use (a claim
//   refused because another peer uses the same address is a conflict the operator is told how
//   to fix).
// - Coming back after `weft rmpeer` took this peer's space (a partition, not a dead host): the
//   addresses it still holds are re-claimed the same way, so their new owner never hands them
//   out; an address the other side allocated meanwhile is a conflict both peers report.
// - Running low: ask the reachable peer with the most free space for some (kRequest); it gives
//   half of its largest free run. A claim of an address in another peer's space asks that peer
//   for exactly that address.
// - Durable: the state is saved through IpamStore before an allocation is acknowledged and
//   before donated space is sent, so a crash at any moment loses nothing acknowledged.
//
// One class in three files: ipam_core.cpp (allocation, gossip of the ring, rmpeer, timers),
// ipam_bootstrap.cpp (seeds and consensus) and ipam_donation.cpp (asking for and giving space).
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/ipv4_cidr.h"
#include "common/log_level.h"
#include "common/peer_name.h"
#include "gossip/gossip_channel.h"
#include "ipam/allocations.h"
#include "ipam/messages.h"
#include "ipam/ring.h"

namespace weft::ipam {

using Severity = weft::LogLevel;  // one log-level enum for every core (common/log_level.h)

// Free counts are hints for choosing donors: an owner republishes its count only when it moves
// by an eighth or more, or to or from zero (so most allocations do not change the ring at all,
// and "no free space" is always exact).
bool published_free_close(uint64_t published, uint64_t actual);

using PeerInfo = MemberInfo;

struct InitMode {
  enum class Kind { kConsensus, kSeed, kObserver };
  Kind kind = Kind::kConsensus;
  int quorum = 1;                  // kConsensus
  std::vector<std::string> seeds;  // kSeed: peer names or nicknames
  std::string to_string() const;
};
// "consensus=3", "seed=NAME,NAME", "observer". Throws std::invalid_argument with a sentence.
InitMode parse_init_mode(std::string_view s);

struct IpamState {
  Ring ring;
  Allocations allocations;
};

class IpamStore {
 public:
  virtual ~IpamStore() = default;
  // Durably records the state; throws std::exception (with a message for the log) on failure.
  virtual void save(const IpamState& state) = 0;
};

class IpamEnv {
 public:
  virtual ~IpamEnv() = default;
  // Every peer the mesh knows, this one included.
  virtual std::vector<PeerInfo> peers() = 0;
  virtual void log(Severity s, const std::string& message) = 0;
};

struct IpamConfig {
  PeerName self = 0;
  Ipv4Cidr range;
  InitMode init;
  uint64_t started_unix_ms = 0;          // this process's start: its proposals' `since`
  int64_t publish_delay_ms = 100;        // after ownership changes
  int64_t free_publish_delay_ms = 2000;  // after free counts change only
  int64_t proposal_interval_ms = 1000;
  int64_t request_timeout_ms = 3000;
  int64_t wait_timeout_ms = 20000;  // how long an allocation may wait for space or a ring
  uint64_t low_water = 8;  // fewer free addresses than this after an allocation: ask for more
  // rmpeer refuses (without force) a peer this host saw reachable less than this long ago: a
  // partition or a restart looks like a dead host for a while, and reclaiming a live host's
  // space hands its workloads' addresses out twice (issue 10: rmpeer after a 6 s partition).
  int64_t rmpeer_grace_ms = 10 * 60 * 1000;
  // After a peer whose space this one took over (rmpeer) is seen reachable again, this long
  // before new allocations use that space: its re-claims of the addresses it still holds are
  // on their way (a round trip or a few).
  int64_t returned_hold_ms = 5000;
};

enum class AllocError { kNone, kFull, kInUse, kOutOfRange, kTimeout, kStore, kUnreachable };

struct AllocResult {
  AllocError error = AllocError::kNone;
  uint32_t address = 0;
  std::string message;  // for the user when error != kNone
  bool ok() const { return error == AllocError::kNone; }
};
using AllocDone = std::function<void(const AllocResult&)>;

struct RmpeerResult {
  bool ok = false;
  PeerName peer = 0;
  uint64_t addresses = 0;
  std::string message;
};

struct IpamCounters {
  uint64_t allocations = 0;
  uint64_t releases = 0;
  uint64_t requests_sent = 0;
  uint64_t grants_given = 0;
  uint64_t refusals_received = 0;
  uint64_t rings_adopted = 0;  // empty ring or lost bootstrap
  uint64_t bootstrap_conflicts = 0;
  uint64_t store_failures = 0;
  // Addresses this peer held in space another peer took over (rmpeer while it was away, or an
  // earlier bootstrap), asked back from their new owners.
  uint64_t reclaims = 0;
  // Addresses found in use twice (each counted once, here and on the other peer).
  uint64_t conflicts_found = 0;
};

class IpamCore : public GossipChannel {
 public:
  static constexpr const char* kChannel = "ipam";

  // `loaded` is the state from the data dir; its ring must be for cfg.range (or empty):
  // std::invalid_argument otherwise.
  IpamCore(IpamConfig cfg, GossipSender& gossip, IpamEnv& env, IpamStore& store,
           IpamState loaded = {});

  void start(int64_t now_ms);

  // Gives `holder` an address: the one it already has, else a free one. `done` runs once, maybe
  // before this returns, maybe later (waiting for a ring or for space), at most after
  // wait_timeout_ms.
  void allocate(const std::string& holder, int64_t now_ms, AllocDone done);
  // Gives `holder` exactly `addr`.
  void claim(const std::string& holder, uint32_t addr, int64_t now_ms, AllocDone done);
  // Frees every address of `holder` (or only `only`, if it is one of them); returns them.
  std::vector<uint32_t> release(const std::string& holder, int64_t now_ms,
                                std::optional<uint32_t> only = std::nullopt);
  std::vector<uint32_t> lookup(const std::string& holder) const {
    return state_.allocations.of(holder);
  }
  // Takes over the space of `peer` (a name or a nickname), which must be unreachable, and (unless
  // `force`) not seen reachable for config().rmpeer_grace_ms. With `force` inside the grace
  // period it goes ahead and the message says what is at stake.
  RmpeerResult rmpeer(const std::string& peer, int64_t now_ms, bool force = false);

  // GossipChannel deadlines: the mesh that carries the channel drives them.
  int64_t next_deadline() const override;
  void on_timer(int64_t now_ms) override;

  const Ring& ring() const { return state_.ring; }
  const Allocations& allocations() const { return state_.allocations; }
  const IpamConfig& config() const { return cfg_; }
  const IpamCounters& counters() const { return counters_; }
  // "ready", or what bootstrap is waiting for.
  std::string bootstrap_status() const;
  // Addresses in use twice: held here and also allocated by another peer (after two bootstraps
  // met, or after this peer's space was taken over by rmpeer while it was away, on both peers),
  // each once, with the command that fixes it. An entry goes when the address is released here.
  std::vector<std::string> conflicts() const;
  size_t pending() const { return pending_.size(); }

  // GossipChannel
  void on_neighbor(PeerName from, ByteView payload, int64_t now_ms) override;
  void on_unicast(PeerName src, ByteView payload, int64_t now_ms) override;
  bool on_broadcast(PeerName src, PeerName from, ByteView payload, int64_t now_ms) override;
  void on_neighbor_up(PeerName peer, int64_t now_ms) override;
  void on_gossip_tick(PeerName neighbor, int64_t now_ms) override;

 private:
  struct Pending {
    std::string holder;
    std::optional<uint32_t> address;  // a claim
    int64_t deadline = 0;
    AllocDone done;
    bool reclaim = false;  // re-claiming an address after adopting another bootstrap's ring
  };
  struct Request {
    PeerName donor = 0;
    std::optional<uint32_t> address;
    int64_t deadline = 0;
  };
  struct Proposal {
    ProposalMsg msg;
  };

  void send(PeerName to, const Message& m, bool neighbor);
  void broadcast(const Message& m);
  // Merges a ring from `from`; returns true when ours changed.
  bool absorb(const Ring& theirs, PeerName from, int64_t now_ms);
  void adopt_other_bootstrap(const Ring& theirs, int64_t now_ms);
  void handle_request(PeerName src, const RequestMsg& q, int64_t now_ms);
  void handle_refuse(PeerName src, const RefuseMsg& r, int64_t now_ms);
  void handle_proposal(PeerName src, const ProposalMsg& p, int64_t now_ms);
  void consensus_step(int64_t now_ms);
  void seed_step(int64_t now_ms);
  void bootstrap(std::vector<PeerName> seeds, uint64_t epoch, int64_t now_ms);
  void send_proposal(int64_t now_ms);

  // Tries every waiting allocation again; asks for space when needed.
  void serve_pending(int64_t now_ms);
  // Returns true when `p` is finished (result filled in).
  bool try_serve(Pending& p, int64_t now_ms, AllocResult& result, bool& need_space);
  bool commit(const std::string& holder, uint32_t addr, AllocResult& result);
  // Queues re-claims (served by serve_pending) of the addresses this peer holds outside its own
  // space (taken over while it was away): each address not already asked for and not already
  // reported as a conflict. Returns whether it queued any.
  bool reclaim_foreign(int64_t now_ms);
  // Records (and logs) that `addr` is in use twice, once per address.
  void report_conflict(uint32_t addr, const std::string& text);
  bool ask_for_space(int64_t now_ms);
  void top_up(int64_t now_ms);
  // `held`: a re-claim of an address this peer has in use (RequestMsg::held).
  void ask_for_address(uint32_t addr, PeerName owner, int64_t now_ms, bool held);
  std::string full_message();
  // Free space published by peers this one cannot reach now; names them in `who`.
  uint64_t unreachable_free(std::vector<std::string>* who = nullptr);

  bool refresh_free();
  bool save();
  void schedule_publish(int64_t now_ms, bool ownership);
  void save_soon(int64_t now_ms);
  std::map<PeerName, PeerInfo> view();
  std::string describe(PeerName p);
  void log(Severity s, const std::string& m) { env_.log(s, "ipam: " + m); }

  IpamConfig cfg_;
  GossipSender& gossip_;
  IpamEnv& env_;
  IpamStore& store_;
  IpamState state_;
  IpamCounters counters_;

  std::vector<Pending> pending_;
  std::map<uint32_t, Request> requests_;
  // Donors that refused or timed out lately -> until when they are skipped (a round, or one
  // request timeout, whichever ends first: they may have space again by then).
  std::map<PeerName, int64_t> tried_;
  std::map<uint32_t, int64_t> claim_retry_;  // address -> not before
  uint32_t next_request_id_ = 1;

  std::map<PeerName, ProposalMsg> proposals_;
  std::map<PeerName, int64_t> ring_offered_;  // when we last sent our ring to a proposer
  std::set<uint64_t> relayed_;                // (source, ring digest) broadcasts relayed already
  std::deque<uint64_t> relayed_order_;
  uint64_t rng_ = 0;  // donor choice; seeded from our name (deterministic in the simulator)
  ProposalMsg my_proposal_;
  int64_t next_proposal_at_ = -1;
  std::set<uint16_t> warned_quorums_;
  std::set<std::string> warned_;  // one log line per distinct problem

  int64_t publish_at_ = -1;
  bool free_crossed_zero_ = false;  // set by refresh_free, read by schedule_publish
  int64_t space_retry_at_ = -1;
  int64_t save_at_ = -1;
  std::map<uint32_t, std::string> conflicts_;      // address -> what to tell the operator
  std::map<PeerName, std::string> nicknames_;      // remembered after peers leave the view
  std::map<PeerName, int64_t> last_reachable_ms_;  // when each peer was last seen reachable
  // Notes who is reachable (rmpeer's grace period) and which peers whose space this one took
  // over are back (the hold on that space); forgets them once back for returned_hold_ms.
  void note_reachable(const std::map<PeerName, PeerInfo>& v, int64_t now_ms);
  // Spans taken over (rmpeer, this run) from peers that are back but not yet for
  // returned_hold_ms: fresh allocations avoid them. `until`: when the first hold ends.
  std::vector<Span> held_back(int64_t now_ms, int64_t* until);
  static std::vector<Span> without(std::vector<Span> spans, const std::vector<Span>& holes);
  std::map<PeerName, std::vector<Span>> taken_from_;  // rmpeer'd peer -> the spans taken
  std::map<PeerName, int64_t> back_since_;            // rmpeer'd peer seen reachable again since
};

}  // namespace weft::ipam
