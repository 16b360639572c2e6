// `weft status ipam` rendering: what a user reads, and robustness against another version's JSON.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "common/ipam_status_render.h"

using nlohmann::json;

TEST_CASE("weft status ipam: owners, unreachable peers with the rmpeer hint, conflicts") {
  json s = json::parse(R"({
    "range": "10.32.0.0/12", "state": "ready", "init": "consensus=3",
    "owners": [
      {"name": "aa:aa:aa:aa:aa:aa", "nickname": "h1", "reachable": true, "self": true,
       "addresses": 524288, "free": 524280, "ranges": ["10.32.0.0-10.39.255.255"]},
      {"name": "bb:bb:bb:bb:bb:bb", "nickname": "h2", "reachable": false, "self": false,
       "addresses": 524288, "free": 524288, "ranges": ["10.40.0.0-10.47.255.255"]}],
    "allocations": [{"address": "10.32.0.1", "holder": "workload:w1"}],
    "conflicts": ["10.32.0.9 (workload:w9) is also allocated by peer h2"], "pending": 0})");
  std::string out = weft::render_ipam_status(s);
  CHECK(out.find("IPAM: range 10.32.0.0/12, ready (bootstrap consensus=3)") == 0);
  CHECK(out.find("aa:aa:aa:aa:aa:aa (this host)  h1") != std::string::npos);
  CHECK(out.find("NO ") != std::string::npos);
  CHECK(out.find("`weft rmpeer NAME`") != std::string::npos);
  CHECK(out.find("(h2)") != std::string::npos);
  CHECK(out.find("Allocated on this host: 1 address ") != std::string::npos);
  CHECK(out.find("CONFLICT: 10.32.0.9") != std::string::npos);
}

TEST_CASE("weft status ipam: a router of another version never makes it throw") {
  for (const char* text : {"{}", "[]", "null", R"({"owners": 5, "allocations": {}})",
                           R"({"owners": [1, "x", {"ranges": 3}], "conflicts": [1]})"})
    CHECK_NOTHROW(weft::render_ipam_status(json::parse(text)));
}
