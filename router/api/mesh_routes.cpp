#include "router/api/mesh_routes.h"

#include <stdexcept>

namespace weft {

namespace {

HttpResponse error(int status, const std::string& msg) {
  return {status, "application/json", nlohmann::json{{"error", msg}}.dump()};
}

}  // namespace

void add_mesh_routes(ModuleRegistry& registry, MeshRoutes r) {
  auto routes = std::make_shared<MeshRoutes>(std::move(r));
  registry.add_route(
      {"GET", "/status", ApiAccess::kRead, [routes](const HttpRequest&, HttpResponder respond) {
         auto j = status_json(*routes->mesh, routes->info);
         if (routes->extra_status) routes->extra_status(j);
         respond({200, "application/json", j.dump()});
       }});
  registry.add_metrics([routes] { return metrics_text(*routes->mesh, routes->info); });
  for (const char* path : {"/connect", "/forget"}) {
    std::string p = path;
    registry.add_route(
        {"POST", p, ApiAccess::kAdmin, [routes, p](const HttpRequest& req, HttpResponder respond) {
           std::vector<std::string> peers;
           bool replace = false;
           try {
             auto j = nlohmann::json::parse(req.body);
             peers = j.at("peers").get<std::vector<std::string>>();
             replace = j.value("replace", false);
           } catch (const std::exception& e) {
             return respond(error(
                 400, std::string("expected {\"peers\": [\"host[:port]\", ...]}: ") + e.what()));
           }
           try {
             int64_t now = routes->now_ms();
             auto t = p == "/connect" ? routes->mesh->connect(peers, replace, now)
                                      : routes->mesh->forget(peers, now);
             respond({200, "application/json", nlohmann::json{{"targets", t}}.dump()});
           } catch (const std::invalid_argument& e) {
             respond(error(400, e.what()));
           }
         }});
  }
}

}  // namespace weft
