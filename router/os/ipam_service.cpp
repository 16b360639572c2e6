#include "router/os/ipam_service.h"

#include <spdlog/spdlog.h>

#include "common/atomic_file.h"
#include "ipam/state_file.h"
#include "router/os/spdlog_line.h"

namespace weft {

namespace asio = boost::asio;
using nlohmann::json;

namespace {

HttpResponse json_response(int status, const json& j) {
  return {status, "application/json", j.dump()};
}
HttpResponse error_response(int status, const std::string& msg) {
  return json_response(status, {{"error", msg}});
}

}  // namespace

int IpamService::http_status(ipam::AllocError e) {
  switch (e) {
    case ipam::AllocError::kNone:
      return 200;
    case ipam::AllocError::kInUse:
      return 409;
    case ipam::AllocError::kOutOfRange:
      return 400;
    case ipam::AllocError::kFull:
      return 507;
    case ipam::AllocError::kUnreachable:
      return 503;
    case ipam::AllocError::kTimeout:
      return 504;
    case ipam::AllocError::kStore:
      return 500;
  }
  return 500;
}

namespace {

const char* error_code(ipam::AllocError e) {
  switch (e) {
    case ipam::AllocError::kNone:
      return "ok";
    case ipam::AllocError::kInUse:
      return "in_use";
    case ipam::AllocError::kOutOfRange:
      return "out_of_range";
    case ipam::AllocError::kFull:
      return "full";
    case ipam::AllocError::kUnreachable:
      return "owner_unreachable";
    case ipam::AllocError::kTimeout:
      return "timeout";
    case ipam::AllocError::kStore:
      return "store";
  }
  return "error";
}

ipam::IpamState load_state(const std::string& path) {
  auto text = read_file(path);
  if (!text) return {};
  try {
    return ipam::parse_state_json(*text);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(
        path + " is corrupted (" + e.what() +
        "). It holds this host's address allocations. Move it aside (mv " + path + " " + path +
        ".bad) and launch again: this host then rejoins the ring from its peers, and "
        "`weft attach` gives workloads addresses again");
  }
}

}  // namespace

IpamService::IpamService(asio::io_context& io, MeshCore& mesh, const std::string& datadir,
                         ipam::IpamConfig cfg, std::function<int64_t()> now_ms)
    : io_(io), mesh_(mesh), path_(datadir + "/ipam.json"), now_(std::move(now_ms)) {
  ipam::IpamState loaded = load_state(path_);
  try {
    ipam::IpamEnv& env = *this;
    ipam::IpamStore& store = *this;
    core_ = std::make_unique<ipam::IpamCore>(cfg, mesh, env, store, std::move(loaded));
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(std::string(e.what()) + " (in " + path_ +
                             "); launch with the range it was made for, or detach every "
                             "workload and move " +
                             path_ + " aside to change the range");
  }
}

IpamService::~IpamService() = default;

void IpamService::start(ModuleRegistry& registry) {
  registry.add_channel(ipam::IpamCore::kChannel, this);
  auto handler = [this](const HttpRequest& r, HttpResponder respond) {
    handle(r, std::move(respond));
  };
  for (const char* p : {"/ipam/allocate", "/ipam/release", "/ipam/rmpeer"})
    registry.add_route({"POST", p, ApiAccess::kAdmin, handler});
  for (const char* p : {"/ipam/lookup", "/ipam/status"})
    registry.add_route({"GET", p, ApiAccess::kRead, handler});
  registry.add_metrics([this] { return metrics_text(); });
  core_->start(now_());
}

// --- GossipChannel

void IpamService::on_neighbor(PeerName from, ByteView payload, int64_t now_ms) {
  core_->on_neighbor(from, payload, now_ms);
}
void IpamService::on_unicast(PeerName src, ByteView payload, int64_t now_ms) {
  core_->on_unicast(src, payload, now_ms);
}
bool IpamService::on_broadcast(PeerName src, PeerName from, ByteView payload, int64_t now_ms) {
  return core_->on_broadcast(src, from, payload, now_ms);
}
void IpamService::on_neighbor_up(PeerName peer, int64_t now_ms) {
  core_->on_neighbor_up(peer, now_ms);
}
void IpamService::on_gossip_tick(PeerName neighbor, int64_t now_ms) {
  core_->on_gossip_tick(neighbor, now_ms);
}

// --- IpamEnv, IpamStore

std::vector<ipam::PeerInfo> IpamService::peers() {
  return mesh_.members();
}

void IpamService::log(ipam::Severity s, const std::string& message) {
  log_with_spdlog(s, message);
}

void IpamService::save(const ipam::IpamState& state) {
  write_file_atomic(path_, ipam::state_json(state), 0600);
}

void IpamService::allocate(const std::string& holder, std::optional<uint32_t> address,
                           ipam::AllocDone done) {
  if (address)
    core_->claim(holder, *address, now_(), std::move(done));
  else
    core_->allocate(holder, now_(), std::move(done));
}

std::vector<uint32_t> IpamService::release(const std::string& holder) {
  return core_->release(holder, now_());
}

// --- API

void IpamService::handle(const HttpRequest& req, HttpResponder respond) {
  const std::string& p = req.path;
  if (p == "/ipam/allocate" && req.method == "POST") {
    std::string holder;
    std::optional<uint32_t> address;
    try {
      json j = json::parse(req.body);
      holder = j.at("holder").get<std::string>();
      if (j.contains("address") && !j["address"].is_null()) {
        // "10.32.1.5" or "10.32.1.5/12": the prefix, if any, must be the range's.
        Ipv4Cidr c = parse_ipv4_cidr(j["address"].get<std::string>(), core_->config().range.prefix);
        if (c.prefix != core_->config().range.prefix)
          return respond(error_response(
              400, c.to_string() + " does not have the overlay range's prefix length /" +
                       std::to_string(core_->config().range.prefix) + " (the range is " +
                       core_->config().range.to_string() + ")"));
        address = c.addr;
      }
    } catch (const std::exception& e) {
      return respond(error_response(
          400,
          std::string("expected {\"holder\": \"...\", \"address\": \"a.b.c.d\" (optional)}: ") +
              e.what()));
    }
    if (holder.empty() || holder.size() > 256)
      return respond(error_response(400, "holder must be 1 to 256 characters"));
    int prefix = core_->config().range.prefix;
    auto done = [respond, prefix](const ipam::AllocResult& r) {
      if (r.ok())
        respond(json_response(
            200, {{"address", format_ipv4(r.address) + "/" + std::to_string(prefix)}}));
      else
        respond(json_response(http_status(r.error),
                              {{"error", r.message}, {"code", error_code(r.error)}}));
    };
    if (address)
      core_->claim(holder, *address, now_(), done);
    else
      core_->allocate(holder, now_(), done);
    return;
  }
  if (p == "/ipam/release" && req.method == "POST") {
    std::string holder;
    std::optional<uint32_t> only;
    try {
      json j = json::parse(req.body);
      holder = j.at("holder").get<std::string>();
      if (j.contains("address")) {
        only = parse_ipv4_cidr(j["address"].get<std::string>(), 32).addr;
      }
    } catch (const std::exception& e) {
      return respond(error_response(
          400,
          std::string("expected {\"holder\": \"...\", \"address\": \"a.b.c.d\" (optional)}: ") +
              e.what()));
    }
    json freed = json::array();
    for (uint32_t a : core_->release(holder, now_(), only)) freed.push_back(format_ipv4(a));
    return respond(json_response(200, {{"released", freed}}));
  }
  if (p == "/ipam/lookup" && req.method == "GET") {
    auto it = req.query.find("holder");
    if (it == req.query.end()) return respond(error_response(400, "give ?holder=..."));
    json a = json::array();
    for (uint32_t x : core_->lookup(it->second)) a.push_back(format_ipv4(x));
    return respond(json_response(200, {{"addresses", a}}));
  }
  if (p == "/ipam/status" && req.method == "GET") return respond(json_response(200, status_json()));
  if (p == "/ipam/rmpeer" && req.method == "POST") {
    std::string peer;
    bool force = false;
    try {
      json body = json::parse(req.body);
      peer = body.at("peer").get<std::string>();
      force = body.value("force", false);
    } catch (const std::exception& e) {
      return respond(
          error_response(400, std::string("expected {\"peer\": \"NAME\"}: ") + e.what()));
    }
    ipam::RmpeerResult r = core_->rmpeer(peer, now_(), force);
    if (!r.ok) return respond(error_response(409, r.message));
    if (on_rmpeer_) on_rmpeer_(r.peer);
    return respond(json_response(
        200,
        {{"peer", format_peer_name(r.peer)}, {"addresses", r.addresses}, {"note", r.message}}));
  }
  respond(error_response(404, "no such endpoint: " + req.method + " " + req.path));
}

json IpamService::status_json() {
  const ipam::Ring& ring = core_->ring();
  const ipam::IpamConfig& cfg = core_->config();
  json j;
  j["range"] = cfg.range.to_string();
  j["init"] = cfg.init.to_string();
  j["state"] = core_->bootstrap_status();
  j["self"] = format_peer_name(cfg.self);
  std::map<PeerName, ipam::PeerInfo> known;
  for (auto& p : peers()) known[p.name] = p;
  json owners = json::array();
  if (!ring.empty()) {
    json seeds = json::array();
    for (PeerName s : ring.seeds()) seeds.push_back(format_peer_name(s));
    j["seeds"] = seeds;
    j["epoch"] = ring.epoch();
    std::map<PeerName, uint64_t> size;
    std::map<PeerName, json> spans;
    for (const auto& [start, t] : ring.tokens()) {
      ipam::Span s = ring.span_of(start);
      size[t.owner] += s.size();
      spans[t.owner].push_back(format_ipv4(s.start) + "-" + format_ipv4(uint32_t(s.end - 1)));
    }
    auto free = ring.free_by_owner();
    std::map<PeerName, uint64_t> reserved;  // the range's network/broadcast inside their spans
    for (uint32_t a : {cfg.range.network(), cfg.range.broadcast()}) ++reserved[*ring.owner_of(a)];
    for (const auto& [owner, n] : size) {
      // Exact for this host; for others from their published free count (a hint, republished
      // when it moves by an eighth).
      uint64_t used = owner == cfg.self ? core_->allocations().size()
                                        : n - std::min(n, free[owner] + reserved[owner]);
      auto k = known.find(owner);
      json o{{"name", format_peer_name(owner)},
             {"nickname", k == known.end() ? "" : k->second.nickname},
             {"reachable", owner == cfg.self || (k != known.end() && k->second.reachable)},
             {"self", owner == cfg.self},
             {"addresses", n},
             {"used", used},
             {"free", free[owner]},
             {"ranges", spans[owner]}};
      owners.push_back(o);
    }
  }
  j["owners"] = owners;
  json allocs = json::array();
  for (const auto& [a, h] : core_->allocations().by_address())
    allocs.push_back({{"address", format_ipv4(a)}, {"holder", h}});
  j["allocations"] = allocs;
  j["conflicts"] = core_->conflicts();
  j["pending"] = core_->pending();
  return j;
}

std::string IpamService::metrics_text() const {
  const ipam::IpamCounters& c = core_->counters();
  std::string m;
  auto counter = [&](const char* name, const char* help, uint64_t v) {
    m += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " counter\n" + name +
         " " + std::to_string(v) + "\n";
  };
  auto gauge = [&](const char* name, const char* help, uint64_t v) {
    m += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " gauge\n" + name + " " +
         std::to_string(v) + "\n";
  };
  uint64_t owned = 0;
  for (const ipam::Span& s : core_->ring().owned_by(core_->config().self)) owned += s.size();
  gauge("weft_ipam_owned_addresses", "Addresses in the space this peer owns.", owned);
  gauge("weft_ipam_allocated_addresses", "Addresses this peer has allocated.",
        core_->allocations().size());
  gauge("weft_ipam_pending_allocations", "Allocations waiting for a ring or for space.",
        core_->pending());
  gauge("weft_ipam_conflicts", "Addresses also allocated by another peer (see weft status ipam).",
        core_->conflicts().size());
  counter("weft_ipam_allocations_total", "Addresses allocated.", c.allocations);
  counter("weft_ipam_releases_total", "Addresses released.", c.releases);
  counter("weft_ipam_space_requests_total", "Requests for space sent to other peers.",
          c.requests_sent);
  counter("weft_ipam_space_grants_total", "Space given to other peers.", c.grants_given);
  counter("weft_ipam_refusals_received_total", "Requests for space other peers refused.",
          c.refusals_received);
  counter("weft_ipam_bootstrap_conflicts_total",
          "Rings from a separate bootstrap met (and the earlier one adopted).",
          c.bootstrap_conflicts);
  counter("weft_ipam_reclaims_total",
          "Addresses in use here asked back after another peer took over their space.", c.reclaims);
  counter("weft_ipam_conflicts_found_total",
          "Addresses found in use twice (here and on another peer), each counted once.",
          c.conflicts_found);
  counter("weft_ipam_store_failures_total", "Failed writes of DATADIR/ipam.json.",
          c.store_failures);
  return m;
}

}  // namespace weft
