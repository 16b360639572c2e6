// MeshCore's dialer: the targets users give (connect, forget), the peers discovery finds,
// and the dials to both, in waves of at most max_concurrent_dials, retried with jittered
// exponential backoff. The connections themselves are mesh_core.cpp's.
#include <algorithm>
#include <unordered_set>

#include "common/host_port.h"
#include "router/mesh/mesh_core.h"

namespace weft {

std::string normalize_address(const std::string& address, uint16_t default_port) {
  try {
    return format_host_port(parse_host_port(address, default_port));
  } catch (const std::invalid_argument&) {
    return "";
  }
}

void MeshCore::attempt_failed(Attempt& a, const std::string& address, ChannelFailure failure,
                              const std::string& detail, int64_t now_ms) {
  a.conn = 0;
  ++a.failures;
  int shift = std::min(a.failures - 1, 20);
  int64_t delay = std::min(cfg_.backoff_max_ms, cfg_.backoff_min_ms << shift);
  // Jitter in [0.5, 1.0) of the delay so that peers restarted together do not retry in step.
  std::uniform_int_distribution<int64_t> jitter(delay / 2, std::max(delay / 2, delay - 1));
  a.next_try_ms = now_ms + jitter(rng_);
  next_dial_ms_ = std::min(next_dial_ms_, a.next_try_ms);
  // Log a failure once, not on every retry: only when its kind changes.
  if (failure != a.last_failure || a.last_error.empty()) {
    std::string msg;
    switch (failure) {
      case ChannelFailure::kAuthentication:
        msg = "peer at " + address + ": authentication failed, do both hosts use the same secret?";
        break;
      case ChannelFailure::kEncryptionMismatch:
        msg = "peer at " + address + ": " + detail;
        break;
      default:
        msg = "cannot connect to " + address + ": " + detail;
    }
    log(failure == ChannelFailure::kNone ? LogLevel::kInfo : LogLevel::kWarn,
        msg + " (retrying with backoff; repeats are not logged)");
  }
  a.last_failure = failure;
  a.last_error = detail.empty() ? "connection failed" : detail;
  if (failure == ChannelFailure::kAuthentication)
    a.last_error = "authentication failed, do both hosts use the same secret?";
}

void MeshCore::discover(int64_t now_ms) {
  // A peer we know of but are not connected to: try the address a neighbour of it reaches it at
  // (the first record, in name order, whose edge to it has an address).
  std::unordered_set<PeerName> handled;
  for (const auto& [addr, a] : attempts_)
    if (a.peer) handled.insert(*a.peer);
  // The peers wanted, in name order: none in a converged full mesh, which then costs O(peers)
  // instead of a pass over every edge at each route computation.
  std::vector<PeerName> wanted;
  for (const auto& [name, rec] : topo_.records())
    if (name != cfg_.self.name && rec.port != 0 && !by_peer_.count(name) && !handled.count(name) &&
        topo_.reachable(name))
      wanted.push_back(name);
  std::vector<bool> found(wanted.size(), false);
  size_t left = wanted.size();
  auto take = [&](size_t k, const Edge& edge) {
    if (found[k] || edge.ip.empty()) return;
    found[k] = true;
    --left;
    std::string address = format_host_port({edge.ip, topo_.find(wanted[k])->port});
    auto [it, inserted] = attempts_.try_emplace(address);
    if (inserted) {
      it->second.next_try_ms = now_ms;
      next_dial_ms_ = std::min(next_dial_ms_, now_ms);
      it->second.peer = wanted[k];
    }
  };
  for (const auto& [owner, rec] : topo_.records()) {
    if (left == 0) break;
    if (wanted.size() < rec.edges.size()) {
      for (size_t k = 0; k < wanted.size(); ++k)
        if (auto e = rec.edges.find(wanted[k]); e != rec.edges.end()) take(k, e->second);
    } else {
      for (const auto& [name, edge] : rec.edges) {
        auto w = std::lower_bound(wanted.begin(), wanted.end(), name);
        if (w != wanted.end() && *w == name) take(static_cast<size_t>(w - wanted.begin()), edge);
      }
    }
  }
}

void MeshCore::dial_due(int64_t now_ms) {
  next_dial_ms_ = kNoDeadline;
  size_t in_flight = 0;
  for (const auto& [id, c] : conns_)
    if (c.outbound && c.state != ConnState::kEstablished) ++in_flight;
  metrics_.dials_waiting = 0;
  for (auto& [addr, a] : attempts_) {
    if (a.is_self || a.conn != 0) continue;
    if (a.peer && by_peer_.count(*a.peer)) continue;  // already connected the other way
    if (!a.target && !cfg_.discovery) continue;
    if (now_ms < a.next_try_ms) {
      next_dial_ms_ = std::min(next_dial_ms_, a.next_try_ms);
      continue;
    }
    if (in_flight >= cfg_.max_concurrent_dials) {
      // Due, but the bound is reached: try again at the next tick (a slot frees when a dial
      // succeeds, fails or times out).
      ++metrics_.dials_waiting;
      next_dial_ms_ = std::min(next_dial_ms_, now_ms + cfg_.tick_ms);
      continue;
    }
    ++in_flight;
    ++metrics_.dials_started;
    ConnId id = open_conn(addr, true, ConnState::kConnecting, now_ms);
    a.conn = id;
    io_.dial(id, addr);
  }
}

std::vector<std::string> MeshCore::targets() const {
  std::vector<std::string> t;
  for (const auto& [addr, a] : attempts_)
    if (a.target) t.push_back(addr);
  return t;
}

void MeshCore::notify_targets() {
  io_.targets_changed(targets());
}

std::vector<std::string> MeshCore::connect(const std::vector<std::string>& peers, bool replace,
                                           int64_t now_ms) {
  now_ms_ = now_ms;
  std::vector<std::string> norm;
  for (const auto& p : peers) {
    std::string a = normalize_address(p, cfg_.default_port);
    if (a.empty()) throw std::invalid_argument("malformed peer address '" + p + "'");
    norm.push_back(a);
  }
  if (replace) {
    for (auto it = attempts_.begin(); it != attempts_.end();) {
      Attempt& a = it->second;
      bool was_target = a.target;
      a.target = false;
      if (was_target && std::find(norm.begin(), norm.end(), it->first) == norm.end()) {
        abandon_dial(a);  // a replaced target: as if forgotten
        if (a.conn == 0) {
          it = attempts_.erase(it);
          continue;
        }
      }
      ++it;
    }
  }
  for (const auto& a : norm) {
    auto [it, inserted] = attempts_.try_emplace(a);
    it->second.target = true;
    if (it->second.conn == 0) {
      it->second.next_try_ms = now_ms;
      next_dial_ms_ = std::min(next_dial_ms_, now_ms);
      it->second.failures = 0;
    }
  }
  notify_targets();
  dial_due(now_ms);
  return targets();
}

std::vector<std::string> MeshCore::forget(const std::vector<std::string>& peers, int64_t now_ms) {
  now_ms_ = now_ms;
  for (const auto& p : peers) {
    std::string a = normalize_address(p, cfg_.default_port);
    auto it = attempts_.find(a);
    if (it == attempts_.end() || !it->second.target) continue;
    // Forgetting a target stops retries and a dial in progress; an established connection
    // stays (Weave does the same).
    abandon_dial(it->second);
    if (it->second.conn == 0)
      attempts_.erase(it);
    else
      it->second.target = false;
  }
  notify_targets();
  return targets();
}

void MeshCore::abandon_dial(Attempt& a) {
  if (a.conn == 0) return;
  auto c = conns_.find(a.conn);
  if (c != conns_.end() && c->second.state == ConnState::kEstablished) return;
  ConnId id = a.conn;
  a.conn = 0;
  ++metrics_.dials_abandoned;
  if (c != conns_.end()) conns_.erase(c);
  io_.close(id);
}

}  // namespace weft
