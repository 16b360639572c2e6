#include "router/api/api_router.h"

#include <nlohmann/json.hpp>
#include <stdexcept>

namespace weft {

namespace {

HttpResponse error(int status, const std::string& msg) {
  return {status, "application/json", nlohmann::json{{"error", msg}}.dump()};
}

bool matches(const ApiRoute& r, const std::string& path) {
  return r.prefix ? path.starts_with(r.path) : path == r.path;
}

}  // namespace

void ApiRouter::add(ApiRoute route) {
  for (const ApiRoute& r : routes_)
    if (r.method == route.method && r.path == route.path && r.prefix == route.prefix)
      throw std::logic_error("API route taken twice: " + route.method + " " + route.path);
  routes_.push_back(std::move(route));
}

const ApiRoute* ApiRouter::find(const std::string& method, const std::string& path,
                                bool& path_known) const {
  path_known = false;
  const ApiRoute* best = nullptr;
  // An exact path beats a prefix; a longer prefix beats a shorter one.
  for (const ApiRoute& r : routes_) {
    if (!matches(r, path)) continue;
    path_known = true;
    if (r.method != method) continue;
    if (!best || (best->prefix && (!r.prefix || r.path.size() > best->path.size()))) best = &r;
  }
  return best;
}

void ApiRouter::dispatch(const HttpRequest& req, HttpResponder respond) const {
  bool known = false;
  const ApiRoute* r = find(req.method, req.path, known);
  if (!r) {
    if (known) return respond(error(405, req.method + " is not allowed on " + req.path));
    return respond(error(404, "no such endpoint: " + req.method + " " + req.path));
  }
  if (r->access == ApiAccess::kAdmin && !req.privileged)
    return respond(error(403, req.method + " " + req.path +
                                  " changes this host: only root may call it, over the unix "
                                  "socket in the data dir (run the weft command as root)"));
  r->handler(req, std::move(respond));
}

}  // namespace weft
