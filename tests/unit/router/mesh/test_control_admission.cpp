// ControlAdmission (router/mesh/control_admission.h): handshakes in progress are bounded in
// total and per source; finished handshakes free their slot; the accept loop pauses, growing,
// on resource errors only.
#include <doctest/doctest.h>

#include <string>

#include "router/mesh/control_admission.h"

using weft::ControlAdmission;
using weft::ControlAdmissionLimits;
using Verdict = ControlAdmission::Verdict;

TEST_CASE("one source cannot hold more than its share of handshakes") {
  ControlAdmissionLimits lim;
  lim.max_handshaking = 10;
  lim.max_handshaking_per_source = 3;
  ControlAdmission a(lim);
  for (int i = 0; i < 3; ++i) CHECK(a.admit("10.0.0.9") == Verdict::kAdmit);
  for (int i = 0; i < 1000; ++i) REQUIRE(a.admit("10.0.0.9") == Verdict::kTooManyFromSource);
  CHECK(a.handshaking() == 3);
  CHECK(a.counters().refused_per_source_limit == 1000);
  // Others still get in.
  CHECK(a.admit("10.0.0.1") == Verdict::kAdmit);
  // A finished handshake frees a slot for that source.
  a.finished("10.0.0.9");
  CHECK(a.admit("10.0.0.9") == Verdict::kAdmit);
  CHECK(a.admit("10.0.0.9") == Verdict::kTooManyFromSource);
}

TEST_CASE("many sources together cannot exceed the total, and state stays bounded") {
  ControlAdmissionLimits lim;
  lim.max_handshaking = 10;
  lim.max_handshaking_per_source = 2;
  ControlAdmission a(lim);
  int admitted = 0;
  for (int i = 0; i < 5000; ++i)
    if (a.admit("10.1." + std::to_string(i / 250) + "." + std::to_string(i % 250)) ==
        Verdict::kAdmit)
      ++admitted;
  CHECK(admitted == 10);
  CHECK(a.handshaking() == 10);
  CHECK(a.sources() == 10);
  CHECK(a.counters().refused_total_limit == 4990);
  // Finishing them all returns to nothing; finishing unknown sources is ignored.
  for (int i = 0; i < 10; ++i) a.finished("10.1.0." + std::to_string(i));
  a.finished("192.0.2.1");
  CHECK(a.handshaking() == 0);
  CHECK(a.sources() == 0);
  CHECK(a.admit("10.1.0.0") == Verdict::kAdmit);
}

TEST_CASE("the accept loop pauses, growing up to a bound, only when out of resources") {
  ControlAdmissionLimits lim;
  lim.accept_backoff_min_ms = 10;
  lim.accept_backoff_max_ms = 1000;
  ControlAdmission a(lim);
  CHECK(a.accept_failed(false) == 0);  // e.g. ECONNABORTED: accept again now
  CHECK(a.accept_failed(true) == 10);
  CHECK(a.accept_failed(true) == 20);
  CHECK(a.accept_failed(true) == 40);
  for (int i = 0; i < 20; ++i) a.accept_failed(true);
  CHECK(a.accept_failed(true) == 1000);
  a.accept_succeeded();
  CHECK(a.accept_failed(true) == 10);
  CHECK(a.counters().accept_errors == 26);
}
