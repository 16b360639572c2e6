#pragma once
// The router's API routes: which handler answers which method and path, and who may call it.
// Modules add their routes through the ModuleRegistry; the HTTP server hands every request here.
#include <string>
#include <vector>

#include "router/api/http_server.h"

namespace weft {

enum class ApiAccess {
  kRead,   // anyone who can reach the API (status, metrics, listings, watches)
  kAdmin,  // changes something: root over the unix socket only (HttpRequest::privileged)
};

struct ApiRoute {
  std::string method;  // "GET", "POST"
  std::string path;    // "/status"; with `prefix`, every path that starts with it
  ApiAccess access = ApiAccess::kRead;
  HttpHandler handler;
  bool prefix = false;
};

class ApiRouter {
 public:
  // Throws std::logic_error when the method and path are taken already.
  void add(ApiRoute route);
  // Answers with the matching route's handler; 404 for an unknown path, 405 for a known path
  // with another method, 403 for an admin route called without privilege.
  void dispatch(const HttpRequest& req, HttpResponder respond) const;

 private:
  const ApiRoute* find(const std::string& method, const std::string& path, bool& path_known) const;
  std::vector<ApiRoute> routes_;
};

}  // namespace weft
