#pragma once
// A token bucket for log lines an attacker can trigger (issue 10: one "accept failed" line per
// failed accept wrote 121 MB of log in 3 s). Pure: the caller passes `now` and writes the line.
//
//   if (auto suppressed = limiter.admit(now_ms))
//     spdlog::warn("accept failed: {}{}", why, LogLimiter::suffix(*suppressed));
//
// Each call that is refused is counted, and the next line written says how many were not; the
// event itself is always counted in /metrics by the caller.
#include <cstdint>
#include <optional>
#include <string>

namespace weft {

class LogLimiter {
 public:
  // At most `burst` lines at once, then one more every `refill_ms`. The defaults allow a short
  // story (a few lines) and then one line per 10 s: at most ~8,600 lines a day per limiter.
  explicit LogLimiter(int burst = 5, int64_t refill_ms = 10'000);

  // Whether a line may be written at `now_ms` (milliseconds on any monotonic clock). When it
  // may, returns how many lines were refused since the last admitted one (and resets that count);
  // when not, returns nullopt and counts the refusal.
  std::optional<uint64_t> admit(int64_t now_ms);

  // " (N similar lines not logged)" for N > 0, else "".
  static std::string suffix(uint64_t suppressed);

  uint64_t suppressed_total() const { return suppressed_total_; }

 private:
  int burst_;
  int64_t refill_ms_;
  int tokens_;
  int64_t last_refill_ms_ = INT64_MIN;
  uint64_t suppressed_ = 0, suppressed_total_ = 0;
};

}  // namespace weft
