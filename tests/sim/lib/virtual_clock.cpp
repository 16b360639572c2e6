#include "tests/sim/lib/virtual_clock.h"

#include <algorithm>
#include <utility>

namespace weft::sim {

void VirtualClock::schedule(int64_t at, std::function<void()> fn) {
  queue_.push(Event{std::max(at, now_), seq_++, std::move(fn)});
}

void VirtualClock::run_for(int64_t ms) {
  int64_t end = now_ + ms;
  while (!queue_.empty() && queue_.top().at <= end) {
    // Moved out, not copied: an event holds a message's bytes. pop() only destroys it.
    Event e = std::move(const_cast<Event&>(queue_.top()));
    queue_.pop();
    now_ = e.at;
    ++processed_;
    e.fn();
  }
  now_ = end;
}

bool VirtualClock::run_until(const std::function<bool()>& pred, int64_t max_ms,
                             int64_t check_every_ms) {
  int64_t end = now_ + max_ms;
  while (now_ < end) {
    if (pred()) return true;
    run_for(std::min(check_every_ms, end - now_));
  }
  return pred();
}

}  // namespace weft::sim
