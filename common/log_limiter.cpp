#include "common/log_limiter.h"

#include <algorithm>

namespace weft {

LogLimiter::LogLimiter(int burst, int64_t refill_ms)
    : burst_(std::max(1, burst)), refill_ms_(std::max<int64_t>(1, refill_ms)), tokens_(burst_) {}

std::optional<uint64_t> LogLimiter::admit(int64_t now_ms) {
  if (last_refill_ms_ == INT64_MIN) last_refill_ms_ = now_ms;
  if (now_ms > last_refill_ms_) {
    int64_t earned = (now_ms - last_refill_ms_) / refill_ms_;
    if (earned > 0) {
      tokens_ = static_cast<int>(std::min<int64_t>(burst_, tokens_ + earned));
      last_refill_ms_ += earned * refill_ms_;
    }
  }
  if (tokens_ == burst_) last_refill_ms_ = now_ms;  // a full bucket does not save up time
  if (tokens_ == 0) {
    ++suppressed_;
    ++suppressed_total_;
    return std::nullopt;
  }
  --tokens_;
  uint64_t s = suppressed_;
  suppressed_ = 0;
  return s;
}

std::string LogLimiter::suffix(uint64_t suppressed) {
  if (suppressed == 0) return "";
  return " (" + std::to_string(suppressed) + " similar line" + (suppressed == 1 ? "" : "s") +
         " not logged)";
}

}  // namespace weft
