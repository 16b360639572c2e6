#include "router/os/port_guard_service.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "common/ipv4_cidr.h"
#include "state/entry.h"

namespace weft {

PortGuardService::PortGuardService(PeerName self, PortGuardBackend& backend,
                                   std::function<int64_t()> now_ms)
    : self_(self), backend_(backend), now_(std::move(now_ms)) {}

std::optional<PortBinding> PortGuardService::binding_of(const std::string& value) {
  nlohmann::json w = nlohmann::json::parse(value, nullptr, /*allow_exceptions=*/false);
  if (!w.is_object() || !w.contains("veth") || !w["veth"].is_string() || !w.contains("mac") ||
      !w["mac"].is_string())
    return std::nullopt;
  PortBinding b{w["veth"].get<std::string>(), w["mac"].get<std::string>(), {}};
  if (b.veth.empty() || b.mac.empty()) return std::nullopt;
  try {
    for (const auto& ip : w.value("ips", nlohmann::json::array()))
      b.ips.push_back(parse_ipv4_cidr(ip.get<std::string>()).addr);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  return b;
}

bool PortGuardService::local(const std::string& key) const {
  auto owner = state::workload_owner(key);
  return owner && *owner == self_;
}

bool PortGuardService::apply(const std::string& what, const std::function<std::string()>& op) {
  std::string error;
  try {
    error = op();
  } catch (const std::exception& x) {  // a name or MAC weft would not create
    error = x.what();
  }
  if (error.empty()) return true;
  ++errors_;
  if (auto suppressed = log_limit_.admit(now_()))
    spdlog::warn(
        "port guard: could not {} ({}); workloads can send frames with other workloads' "
        "addresses until it works.{}{}",
        what, error, error.starts_with("nft") ? " Is nftables installed?" : "",
        LogLimiter::suffix(*suppressed));
  return false;
}

void PortGuardService::start(const state::ObjectTable& table) {
  bound_.clear();
  std::vector<PortBinding> all;
  for (const state::Entry* e : table.live(state::Kind::kWorkload)) {
    if (!local(e->key)) continue;
    if (auto b = binding_of(e->value)) {
      bound_[e->key] = *b;
      all.push_back(*b);
    }
  }
  if (apply("bind the " + std::to_string(all.size()) + " local workloads' ports",
            [&] { return backend_.sync(all); }))
    spdlog::info("port guard: {} workload port(s) bound to their addresses", all.size());
}

void PortGuardService::unbind(const std::string& key) {
  auto it = bound_.find(key);
  if (it == bound_.end()) return;
  PortBinding gone = it->second;
  bound_.erase(it);
  // A port name another record still uses (a stale record beside a live one) keeps its binding.
  for (const auto& [k, b] : bound_)
    if (b.veth == gone.veth) {
      apply("bind " + b.veth, [&] { return backend_.bind(b); });
      return;
    }
  try {
    auto counts = backend_.counts();
    if (auto c = counts.find(gone.veth); c != counts.end()) {
      retired_.spoofed += c->second.spoofed;
      retired_.flood_limited += c->second.flood_limited;
    }
  } catch (const std::exception&) {
  }
  apply("unbind " + gone.veth, [&] { return backend_.unbind(gone.veth); });
}

void PortGuardService::on_change(const state::Change& c) {
  if (c.kind != state::Kind::kWorkload || !local(c.key)) return;
  std::optional<PortBinding> want = c.deleted ? std::nullopt : binding_of(c.value);
  auto it = bound_.find(c.key);
  if (want && it != bound_.end() && it->second == *want) return;
  if (it != bound_.end() && (!want || it->second.veth != want->veth)) unbind(c.key);
  if (!want) return;
  apply("bind " + want->veth + " to its workload's addresses",
        [&] { return backend_.bind(*want); });
  bound_[c.key] = *want;  // even on failure: a later unbind must still remove what may be there
}

std::string PortGuardService::metrics_text() {
  PortGuardCounts total = retired_;
  if (!bound_.empty()) {
    for (const auto& [veth, c] : backend_.counts()) {
      total.spoofed += c.spoofed;
      total.flood_limited += c.flood_limited;
    }
  }
  std::string m =
      "# HELP weft_port_guard_bound_ports Workload ports bound to their MAC and IPv4 addresses.\n"
      "# TYPE weft_port_guard_bound_ports gauge\nweft_port_guard_bound_ports " +
      std::to_string(bound_.size()) +
      "\n# HELP weft_port_guard_dropped_total Frames from workload ports the port guard dropped: "
      "foreign source addresses (spoofed), broadcast and multicast over the limit.\n"
      "# TYPE weft_port_guard_dropped_total counter\n"
      "weft_port_guard_dropped_total{reason=\"spoofed\"} " +
      std::to_string(total.spoofed) +
      "\nweft_port_guard_dropped_total{reason=\"broadcast_limit\"} " +
      std::to_string(total.flood_limited) +
      "\n# HELP weft_port_guard_errors_total Failures to apply port guard rules (see the log).\n"
      "# TYPE weft_port_guard_errors_total counter\nweft_port_guard_errors_total " +
      std::to_string(errors_) + "\n";
  return m;
}

}  // namespace weft
