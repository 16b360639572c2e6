#pragma once
// The simulators' virtual time: a queue of events, run in time order (ties in the order they were
// scheduled, so a run is deterministic). Nothing happens between events; run_for jumps.
#include <cstdint>
#include <functional>
#include <queue>
#include <vector>

namespace weft::sim {

class VirtualClock {
 public:
  int64_t now() const { return now_; }
  // Runs `fn` at `at` (now, if `at` has passed).
  void schedule(int64_t at, std::function<void()> fn);
  // Runs every event due within `ms`, then stands at now + ms.
  void run_for(int64_t ms);
  // Runs until pred() holds (checked every check_every_ms) or max_ms have passed; returns
  // whether it held.
  bool run_until(const std::function<bool()>& pred, int64_t max_ms, int64_t check_every_ms = 50);
  uint64_t events_processed() const { return processed_; }

 private:
  struct Event {
    int64_t at;
    uint64_t seq;
    std::function<void()> fn;
    bool operator>(const Event& o) const { return at != o.at ? at > o.at : seq > o.seq; }
  };
  int64_t now_ = 0;
  uint64_t seq_ = 0;
  uint64_t processed_ = 0;
  std::priority_queue<Event, std::vector<Event>, std::greater<>> queue_;
};

}  // namespace weft::sim
