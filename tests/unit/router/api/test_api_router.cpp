#include <doctest/doctest.h>

#include "router/api/api_router.h"

using namespace weft;

namespace {

HttpResponse call(const ApiRouter& r, std::string method, std::string path, bool privileged) {
  HttpRequest req;
  req.method = std::move(method);
  req.path = std::move(path);
  req.privileged = privileged;
  HttpResponse out{0, "", ""};
  r.dispatch(req, [&](HttpResponse res) { out = std::move(res); });
  return out;
}

}  // namespace

TEST_CASE("api router: admin routes only for privileged callers; 404 and 405 otherwise") {
  ApiRouter r;
  int reads = 0, writes = 0;
  r.add({"GET", "/status", ApiAccess::kRead,
         [&](const HttpRequest&, HttpResponder respond) { ++reads, respond({200, "t", "ok"}); }});
  r.add({"POST", "/connect", ApiAccess::kAdmin,
         [&](const HttpRequest&, HttpResponder respond) { ++writes, respond({200, "t", "ok"}); }});
  r.add({"GET", "/ipam/", ApiAccess::kRead,
         [&](const HttpRequest&, HttpResponder respond) { respond({200, "t", "prefix"}); }, true});

  CHECK(call(r, "GET", "/status", false).status == 200);
  CHECK(call(r, "POST", "/connect", true).status == 200);
  HttpResponse refused = call(r, "POST", "/connect", false);
  CHECK(refused.status == 403);
  CHECK(refused.body.find("only root may call it") != std::string::npos);
  CHECK(writes == 1);  // the refused call never reached the handler
  CHECK(call(r, "GET", "/connect", true).status == 405);
  CHECK(call(r, "GET", "/nope", true).status == 404);
  CHECK(call(r, "GET", "/ipam/status", false).body == "prefix");
  CHECK_THROWS_AS(r.add({"GET", "/status", ApiAccess::kRead, nullptr}), std::logic_error);
  CHECK(reads == 1);
}
