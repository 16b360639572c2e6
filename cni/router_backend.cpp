#include "cni/router_backend.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <nlohmann/json.hpp>
#include <set>

#include "cni/attach_api.h"
#include "cni/cni_error.h"
#include "common/http_client.h"
#include "common/ipv4_cidr.h"

namespace weft::cni {

namespace {

using nlohmann::json;

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

// The address part of "10.32.1.5/12", or the string itself.
std::string address_part(const std::string& cidr) {
  return cidr.substr(0, cidr.find('/'));
}

}  // namespace

RouterBackend::RouterBackend(std::string datadir, std::chrono::milliseconds timeout)
    : datadir_(std::move(datadir)), timeout_(timeout) {}

namespace {

struct Answer {
  int status = 0;
  json body;  // {} when the body is not JSON
};

// One API request; nullopt when nothing listens at the socket (no file, refused). Permission
// problems, timeouts and broken answers throw CniError.
std::optional<Answer> request(const std::string& socket, const std::string& method,
                              const std::string& target, const json* body,
                              std::chrono::milliseconds timeout) {
  HttpResult r;
  try {
    r = http_request(socket, method, target, body ? body->dump() : "", timeout);
  } catch (const HttpConnectError& e) {
    if (e.code == EACCES || e.code == EPERM) {
      throw CniError(CniCode::kWeftRefused, "permission denied on " + socket,
                     "the weft API is only open to root; the container runtime must run "
                     "weft-cni as root");
    }
    return std::nullopt;
  } catch (const HttpTimeoutError& e) {
    throw CniError(
        CniCode::kTryAgainLater, "the weft router did not answer in time",
        std::string(e.what()) + "; it may be overloaded or stuck (see router.log in the data dir)");
  } catch (const std::runtime_error& e) {
    throw CniError(CniCode::kWeftRefused, "cannot talk to the weft router", e.what());
  }
  json j = json::parse(r.body, nullptr, false);
  if (j.is_discarded()) j = json::object();
  return Answer{r.status, std::move(j)};
}

std::string weft_not_running_details(const std::string& api_socket) {
  return "no weft router is listening at " + api_socket +
         ". Start it with `weft launch` (or `systemctl start weft-router`); if weft keeps its "
         "state elsewhere, set \"datadir\" in the network configuration";
}

CniError not_running(const std::string& socket) {
  return CniError(CniCode::kTryAgainLater,
                  "weft is not running on this host: start it with `weft launch`",
                  weft_not_running_details(socket));
}

// The router's "error" message, or the status.
std::string error_of(const Answer& a) {
  if (a.body.is_object() && a.body.contains("error") && a.body["error"].is_string()) {
    return a.body["error"].get<std::string>();
  }
  return "HTTP " + std::to_string(a.status);
}

// The router's answer to an unknown endpoint (router_daemon.cpp): a router older than weft-cni.
bool unknown_endpoint(const Answer& a) {
  return a.status == 404 && error_of(a).starts_with("no such endpoint");
}

// The body of a 2xx answer; CniError for anything else.
json body_of_success(const std::optional<Answer>& a, const std::string& socket,
                     const std::string& what) {
  if (!a) throw not_running(socket);
  if (unknown_endpoint(*a)) {
    throw CniError(CniCode::kWeftRefused, "the weft router does not serve " + what,
                   "weft-router is older than weft-cni (" WEFT_VERSION
                   "); install the same weft version for both");
  }
  if (a->status == 503) {
    throw CniError(CniCode::kTryAgainLater, "weft is not ready yet: " + error_of(*a),
                   "the runtime retries; `weft status` shows what the router waits for");
  }
  if (a->status < 200 || a->status > 299) {
    throw CniError(CniCode::kWeftRefused, "weft refused " + what, error_of(*a));
  }
  return a->body;
}

}  // namespace

Attachment RouterBackend::attach(const WorkloadRequest& req) {
  if (!exists(req.netns_path)) {
    throw CniError(CniCode::kInvalidEnvironment,
                   "CNI_NETNS " + req.netns_path.substr(0, 200) + " does not exist",
                   "the container's network namespace must exist when ADD runs");
  }
  const std::string socket = datadir_ + "/api.sock";
  json body = attach_body(req);
  return parse_attach_answer(body_of_success(
      request(socket, "POST", "/workloads/attach", &body, timeout_), socket, "the attach"));
}

void RouterBackend::detach(const WorkloadRequest& req) {
  // `weft reset` removed everything: nothing is left to release.
  if (!exists(datadir_)) return;
  const std::string socket = datadir_ + "/api.sock";
  json body = {{"container_id", req.container_id}};
  auto a = request(socket, "POST", "/workloads/detach", &body, timeout_);
  // 404: this container is not attached (any more): DEL succeeds.
  if (a && a->status == 404 && !unknown_endpoint(*a)) return;
  body_of_success(a, socket, "the detach of container " + req.container_id.substr(0, 64));
}

void RouterBackend::check(const WorkloadRequest& req, const Attachment& expected) {
  if (!req.netns_path.empty() && !exists(req.netns_path)) {
    throw CniError(CniCode::kWeftRefused, "the container's network namespace is gone",
                   req.netns_path.substr(0, 200) + " does not exist");
  }
  const std::string socket = datadir_ + "/api.sock";
  json answer = body_of_success(request(socket, "GET", "/workloads", nullptr, timeout_), socket,
                                "GET /workloads");
  for (const auto& w : parse_workloads_answer(answer)) {
    if (w.container_id != req.container_id) continue;
    for (const auto& ip : expected.ips) {
      bool found = std::any_of(w.ips.begin(), w.ips.end(), [&](const std::string& have) {
        return address_part(have) == address_part(ip);
      });
      if (!found) {
        throw CniError(CniCode::kWeftRefused,
                       "container " + req.container_id.substr(0, 64) + " no longer has " + ip,
                       "weft lists it with other addresses; remove and re-create the container");
      }
    }
    if (!expected.mac.empty() && !w.mac.empty() && w.mac != expected.mac) {
      throw CniError(CniCode::kWeftRefused,
                     "container " + req.container_id.substr(0, 64) + " has MAC " + w.mac +
                         ", not " + expected.mac,
                     "its interface was re-created; remove and re-create the container");
    }
    return;
  }
  throw CniError(CniCode::kWeftRefused,
                 "container " + req.container_id.substr(0, 64) + " is not attached to weft",
                 "`weft ps` lists this host's workloads; remove and re-create the container");
}

void RouterBackend::gc(const std::string& network, const std::vector<AttachmentKey>& valid) {
  if (!exists(datadir_)) return;
  const std::string socket = datadir_ + "/api.sock";
  json answer = body_of_success(request(socket, "GET", "/workloads", nullptr, timeout_), socket,
                                "GET /workloads");
  std::set<std::string> keep;
  for (const auto& v : valid) keep.insert(v.container_id);
  std::vector<std::string> failed;
  for (const auto& w : parse_workloads_answer(answer)) {
    if (w.container_id.empty() || keep.contains(w.container_id)) continue;
    if (!w.network.empty() && w.network != network) continue;
    try {
      WorkloadRequest req;
      req.container_id = w.container_id;
      detach(req);
    } catch (const CniError& e) {
      failed.push_back(w.container_id.substr(0, 12) + ": " + e.what());
    }
  }
  if (!failed.empty()) {
    std::string all;
    for (const auto& f : failed) {
      if (!all.empty()) all += "; ";
      all += f;
    }
    throw CniError(CniCode::kWeftRefused, "GC could not detach every stale container", all);
  }
}

void RouterBackend::status() {
  const std::string socket = datadir_ + "/api.sock";
  auto a = request(socket, "GET", "/status", nullptr, std::chrono::seconds(5));
  if (!a || a->status != 200) {
    throw CniError(CniCode::kPluginNotAvailable,
                   "weft is not running on this host: start it with `weft launch`",
                   weft_not_running_details(socket));
  }
}

}  // namespace weft::cni
