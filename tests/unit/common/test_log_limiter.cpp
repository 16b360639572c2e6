// LogLimiter (common/log_limiter.h): a burst, then one line per refill period, and the next
// admitted line says how many were refused.
#include <doctest/doctest.h>

#include "common/log_limiter.h"

using weft::LogLimiter;

TEST_CASE("a burst of lines, then one per refill period, counting the rest") {
  LogLimiter l(3, 1000);
  for (int i = 0; i < 3; ++i) CHECK(l.admit(0) == uint64_t(0));
  // A flood within the same second: nothing more is written.
  for (int i = 0; i < 100'000; ++i) REQUIRE(!l.admit(500));
  CHECK(l.suppressed_total() == 100'000);
  // One token a second comes back; the line written says what was not.
  CHECK(l.admit(1000) == uint64_t(100'000));
  CHECK(!l.admit(1001));
  CHECK(!l.admit(1999));
  CHECK(l.admit(2000) == uint64_t(2));
  // A long quiet period refills the bucket to the burst only.
  for (int i = 0; i < 3; ++i) CHECK(l.admit(1'000'000) == uint64_t(0));
  CHECK(!l.admit(1'000'000));
  CHECK(l.suppressed_total() == 100'003);
}

TEST_CASE("at most burst + elapsed/refill lines are admitted, whatever the rate") {
  LogLimiter l(5, 10'000);
  int admitted = 0;
  for (int64_t t = 0; t < 60'000; ++t)  // a line every millisecond for a minute
    if (l.admit(t)) ++admitted;
  CHECK(admitted == 5 + 5);  // 5 at once, then one at 10, 20, 30, 40 and 50 s
}

TEST_CASE("the suffix names the lines not logged") {
  CHECK(LogLimiter::suffix(0).empty());
  CHECK(LogLimiter::suffix(1) == " (1 similar line not logged)");
  CHECK(LogLimiter::suffix(42) == " (42 similar lines not logged)");
}
