#include "router/os/workload_attacher.h"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <cctype>
#include <nlohmann/json.hpp>
#include <optional>

#include "common/workloads.h"
#include "hostnet/host_net.h"
#include "hostnet/workload_link.h"
#include "state/objects.h"

namespace weft {

namespace asio = boost::asio;
using nlohmann::json;

namespace {

// Longest container id taken: the workload id "cni:ID" must stay within the state's 256.
constexpr size_t kMaxContainerId = 200;
constexpr size_t kMaxPath = 4096;

HttpResponse json_response(int status, const json& j) {
  return {status, "application/json", j.dump()};
}
HttpResponse error_response(int status, const std::string& msg) {
  return json_response(status, {{"error", msg}});
}

// A refused request: answered 400 with the message.
struct BadRequest : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

// CNI spec 1.0.0: "alphanumeric, optionally followed by alphanumerics, '_', '.' or '-'".
std::string container_id_of(const json& body) {
  if (!body.is_object() || !body.contains("container_id") || !body["container_id"].is_string())
    throw BadRequest("container_id: a string is required");
  std::string id = body["container_id"].get<std::string>();
  bool ok = !id.empty() && id.size() <= kMaxContainerId &&
            std::isalnum(static_cast<unsigned char>(id[0]));
  for (char c : id)
    ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-');
  if (!ok)
    throw BadRequest("container_id: Invalid value: 1 to " + std::to_string(kMaxContainerId) +
                     " letters, digits, '_', '.' and '-', starting with a letter or digit");
  return id;
}

std::string string_of(const json& body, const char* key, bool required) {
  if (!body.contains(key) || body[key].is_null()) {
    if (required) throw BadRequest(std::string(key) + ": a string is required");
    return "";
  }
  if (!body[key].is_string()) throw BadRequest(std::string(key) + ": must be a string");
  return body[key].get<std::string>();
}

// What Linux takes as an interface name.
bool valid_ifname(const std::string& s) {
  if (s.empty() || s.size() > 15 || s == "." || s == "..") return false;
  for (char c : s)
    if (c == '/' || c == ':' || std::isspace(static_cast<unsigned char>(c)) ||
        static_cast<unsigned char>(c) < 0x20)
      return false;
  return true;
}

// What weft-cni turns into its CNI result.
json answer_of(const json& workload, const Ipv4Cidr& range, const json& dns) {
  json routes = json::array();
  bool covered = false;
  for (const auto& ip : workload.value("ips", json::array())) {
    try {
      covered = covered || parse_ipv4_cidr(ip.get<std::string>()).covers(range);
    } catch (const std::exception&) {
    }
  }
  if (!covered) routes.push_back(range.to_string());
  return {{"mac", workload.value("mac", "")},
          {"ips", workload.value("ips", json::array())},
          {"routes", routes},
          {"host_ifname", workload.value("veth", "")},
          {"dns", dns.is_object() ? dns : json::object()},
          {"workload", workload}};
}

}  // namespace

json WorkloadAttacher::dns_for(const json& workload) const {
  if (!cfg_.dns) return nullptr;
  return cfg_.dns(workload.value("namespace", std::string(state::kDefaultNamespace)));
}

// One attach on its way: what was asked, then what was done.
struct WorkloadAttacher::Request {
  HttpResponder respond;
  std::string container_id, network, name, ns;
  json labels = json::object();
  std::optional<uint32_t> claim;
  uint64_t inode = 0;
  WorkloadLinkSpec spec;
  // Filled on the worker.
  WorkloadLink link;
  int status = 0;  // an error's HTTP status; 0 when the link is up
  std::string error;
  std::string holder() const { return cni_ipam_holder(container_id); }
  std::string id() const { return "cni:" + container_id; }
};

WorkloadAttacher::WorkloadAttacher(asio::io_context& io, IpamService& ipam, StateService& state,
                                   WorkloadAttacherConfig cfg)
    : io_(io), ipam_(ipam), state_(state), cfg_(std::move(cfg)) {}

WorkloadAttacher::~WorkloadAttacher() {
  worker_.join();
}

void WorkloadAttacher::start(ModuleRegistry& registry) {
  registry.add_route(
      {"POST", "/workloads/attach", ApiAccess::kAdmin,
       [this](const HttpRequest& req, HttpResponder respond) { attach(req, std::move(respond)); }});
  registry.add_route(
      {"POST", "/workloads/detach", ApiAccess::kAdmin,
       [this](const HttpRequest& req, HttpResponder respond) { detach(req, std::move(respond)); }});
}

void WorkloadAttacher::finish(const std::string& container_id, HttpResponder& respond,
                              HttpResponse res) {
  busy_.erase(container_id);
  respond(std::move(res));
  if (cfg_.changed) cfg_.changed();
}

void WorkloadAttacher::attach(const HttpRequest& req, HttpResponder respond) {
  auto r = std::make_shared<Request>();
  r->respond = std::move(respond);
  const Ipv4Cidr range = ipam_.range();
  try {
    json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
    if (body.is_discarded() || !body.is_object())
      throw BadRequest("the request body is not a JSON object");
    r->container_id = container_id_of(body);
    r->spec.netns_path = string_of(body, "netns_path", true);
    r->spec.ifname = string_of(body, "ifname", false);
    if (r->spec.ifname.empty()) r->spec.ifname = kWorkloadIfName;
    r->network = string_of(body, "network", false).substr(0, 253);
    r->name = container_workload_name(string_of(body, "name", false), r->container_id);
    r->ns = string_of(body, "namespace", false);
    if (body.contains("labels") && !body["labels"].is_null()) r->labels = body["labels"];
    const std::string& path = r->spec.netns_path;
    if (path.empty() || path.front() != '/' || path.size() > kMaxPath ||
        path.find('\0') != std::string::npos)
      throw BadRequest("netns_path: an absolute path of at most 4096 bytes is required");
    if (!valid_ifname(r->spec.ifname))
      throw BadRequest("ifname: Invalid value: \"" + r->spec.ifname.substr(0, 64) +
                       "\": 1 to 15 characters, none of '/', ':' or white space");
    r->spec.mtu = cfg_.mtu ? cfg_.mtu() : 0;
    if (body.contains("mtu") && !body["mtu"].is_null()) {
      if (!body["mtu"].is_number_integer() || body["mtu"].get<int64_t>() < 576 ||
          body["mtu"].get<int64_t>() > r->spec.mtu)
        throw BadRequest("mtu: Invalid value: from 576 to the overlay MTU " +
                         std::to_string(r->spec.mtu));
      r->spec.mtu = body["mtu"].get<int>();
    }
    if (body.contains("ips") && !body["ips"].is_null()) {
      const json& ips = body["ips"];
      if (!ips.is_array() || ips.size() > 1 || (ips.size() == 1 && !ips[0].is_string()))
        throw BadRequest("ips: at most one address (weft gives a container one address)");
      if (ips.size() == 1) {
        Ipv4Cidr c;
        try {
          c = parse_ipv4_cidr(ips[0].get<std::string>(), range.prefix);
        } catch (const std::invalid_argument& e) {
          throw BadRequest(std::string("ips[0]: ") + e.what());
        }
        if (c.prefix != range.prefix || !range.contains(c.addr))
          throw BadRequest("ips[0]: " + c.to_string() + " is not an address of the overlay range " +
                           range.to_string());
        r->claim = c.addr;
      }
    }
    // The record as it will be, checked now: a bad name, namespace or label fails before any
    // change.
    json draft = {{"id", r->id()}, {"name", r->name}, {"namespace", r->ns}, {"labels", r->labels}};
    state_.checked_workload(draft);
  } catch (const std::invalid_argument& e) {  // BadRequest, state::ObjectError
    return r->respond(error_response(400, e.what()));
  } catch (const json::exception& e) {
    return r->respond(error_response(400, std::string("malformed request: ") + e.what()));
  }
  r->spec.label = "container " + r->container_id.substr(0, 12);
  r->spec.ip_in_hint = "nsenter --net=" + r->spec.netns_path + " ip";
  r->spec.bridge = cfg_.bridge;
  r->spec.range = range;
  if (busy_.contains(r->container_id)) {
    return r->respond(error_response(503, "another ADD or DEL of container " +
                                              r->container_id.substr(0, 64) +
                                              " is under way; try again"));
  }
  switch (check_netns(r->spec.netns_path, &r->inode)) {
    case NetnsCheck::kOk:
      break;
    case NetnsCheck::kMissing:
      return r->respond(error_response(
          400, "the network namespace " + r->spec.netns_path.substr(0, 256) + " does not exist"));
    case NetnsCheck::kNoAccess:
      return r->respond(
          error_response(400, "the router cannot open " + r->spec.netns_path.substr(0, 256)));
    case NetnsCheck::kNotNetns:
      return r->respond(
          error_response(400, r->spec.netns_path.substr(0, 256) + " is not a network namespace"));
  }
  if (uint64_t self = 0;
      check_netns("/proc/self/ns/net", &self) == NetnsCheck::kOk && self == r->inode) {
    return r->respond(error_response(400, r->spec.netns_path.substr(0, 256) +
                                              " is the host's own network namespace, not a "
                                              "container's"));
  }
  busy_.insert(r->container_id);
  // Already attached (a repeated ADD): what it has, if its interface is still there.
  if (auto cur = state_.own_workload(r->id());
      cur && cur->value("netns_inode", uint64_t{0}) == r->inode) {
    json w = *cur;
    asio::post(worker_, [this, r, w, range] {
      bool there = false;
      try {
        there = link_info(w.value("veth", ""), "").has_value();
      } catch (const std::exception&) {
      }
      asio::post(io_, [this, r, w, range, there] {
        if (there)
          return finish(r->container_id, r->respond,
                        json_response(200, answer_of(w, range, dns_for(w))));
        // Its interface went away: set it up again (IPAM gives the holder its address again).
        ipam_.allocate(r->holder(), r->claim, [this, r](const ipam::AllocResult& a) {
          if (!a.ok())
            return finish(r->container_id, r->respond,
                          error_response(IpamService::http_status(a.error), a.message));
          plumb(r, a.address);
        });
      });
    });
    return;
  }
  ipam_.allocate(r->holder(), r->claim, [this, r](const ipam::AllocResult& a) {
    if (!a.ok()) {
      return finish(r->container_id, r->respond,
                    error_response(IpamService::http_status(a.error),
                                   "no address for container " + r->container_id.substr(0, 12) +
                                       ": " + a.message));
    }
    plumb(r, a.address);
  });
}

void WorkloadAttacher::plumb(std::shared_ptr<Request> r, uint32_t addr) {
  r->spec.addrs = {Ipv4Cidr{addr, r->spec.range.prefix}};
  asio::post(worker_, [this, r] {
    try {
      if (link_info(r->spec.ifname, r->spec.netns_path)) {
        r->status = 400;
        r->error = "the container's network namespace already has an interface named " +
                   r->spec.ifname + "; nothing was changed";
      } else {
        r->link = create_workload_link(r->spec);
      }
    } catch (const std::exception& e) {
      r->status = 500;
      r->error = e.what();
    }
    asio::post(io_, [this, r] { register_workload(r); });
  });
}

void WorkloadAttacher::register_workload(std::shared_ptr<Request> r) {
  if (r->status != 0) {
    ipam_.release(r->holder());
    return finish(r->container_id, r->respond, error_response(r->status, r->error));
  }
  WorkloadRecord rec;
  rec.netns = r->spec.netns_path;
  rec.netns_inode = r->inode;
  rec.name = r->name;
  rec.ns = r->ns.empty() ? state::kDefaultNamespace : r->ns;
  rec.labels = r->labels.get<std::map<std::string, std::string>>();
  rec.mac = r->link.mac;
  rec.veth = r->link.veth;
  for (const auto& a : r->spec.addrs) rec.ips.push_back(a.to_string());
  rec.container_id = r->container_id;
  rec.network = r->network;
  json w = workload_to_json(rec);
  try {
    state_.put_workload(w);
  } catch (const std::exception& e) {
    // Undo the host side on the worker, then the allocation here.
    std::string why = std::string("the workload could not be registered: ") + e.what();
    asio::post(worker_, [this, r, why] {
      std::string undone = remove_workload_link(r->link.veth, r->spec.ifname);
      asio::post(io_, [this, r, why, undone] {
        ipam_.release(r->holder());
        finish(r->container_id, r->respond, error_response(500, why + "\n" + undone));
      });
    });
    return;
  }
  spdlog::info("attached container {} ({}/{}) in {}: {} on {}", r->container_id.substr(0, 12),
               rec.ns, rec.name, rec.netns, rec.ips.front(), rec.veth);
  // The port guard bound the port when the record was written (PortGuardService), so the
  // announcement passes it now.
  asio::post(worker_, [r] {
    if (auto notes = announce_workload(r->spec, r->link.veth); !notes.empty())
      spdlog::info("container {}: {}", r->container_id.substr(0, 12), notes);
  });
  finish(r->container_id, r->respond,
         json_response(
             200, answer_of(state_.own_workload(r->id()).value_or(w), r->spec.range, dns_for(w))));
}

void WorkloadAttacher::detach(const HttpRequest& req, HttpResponder respond) {
  std::string cid;
  try {
    json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
    if (body.is_discarded() || !body.is_object())
      throw BadRequest("the request body is not a JSON object");
    cid = container_id_of(body);
  } catch (const std::invalid_argument& e) {
    return respond(error_response(400, e.what()));
  }
  if (busy_.contains(cid)) {
    return respond(error_response(
        503, "another ADD or DEL of container " + cid.substr(0, 64) + " is under way; try again"));
  }
  busy_.insert(cid);
  const std::string id = "cni:" + cid;
  std::string veth;
  if (auto cur = state_.own_workload(id)) veth = cur->value("veth", "");
  asio::post(worker_, [this, cid, id, veth, respond]() mutable {
    std::string error;
    if (!veth.empty()) {
      ProgramResult r = ip({"link", "del", veth});
      if (!r.ok() && r.err.find("Cannot find device") == std::string::npos)
        error = "cannot remove " + veth + ", the host end of container " + cid.substr(0, 12) +
                ": " + first_line(r.err);
    }
    asio::post(io_, [this, cid, id, veth, error, respond]() mutable {
      if (!error.empty()) return finish(cid, respond, error_response(500, error));
      bool had_record = false;
      try {
        had_record = state_.delete_workload(id);
      } catch (const std::exception& e) {
        return finish(cid, respond,
                      error_response(500, std::string("the workload record could not be "
                                                      "removed: ") +
                                              e.what()));
      }
      json released = json::array();
      for (uint32_t a : ipam_.release(cni_ipam_holder(cid))) released.push_back(format_ipv4(a));
      if (!had_record && released.empty()) {
        return finish(cid, respond,
                      error_response(404, "container " + cid.substr(0, 64) +
                                              " is not attached to weft on this host"));
      }
      spdlog::info("detached container {}: released {}", cid.substr(0, 12), released.dump());
      finish(cid, respond, json_response(200, {{"released", released}}));
    });
  });
}

}  // namespace weft
