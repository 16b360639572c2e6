#include "router/os/state_service.h"

#include <sodium.h>
#include <spdlog/spdlog.h>

#include <filesystem>

#include "common/atomic_file.h"
#include "common/workloads.h"
#include "router/os/spdlog_line.h"
#include "state/objects.h"
#include "state/state_file.h"

namespace weft {

using nlohmann::json;
using state::Kind;

namespace {

state::SavedState load(const std::string& path) {
  auto text = read_file(path);
  if (!text) return {};
  try {
    return state::parse_state_file(*text);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(
        path + " is corrupted (" + e.what() + "). It holds this host's workloads and its copy of " +
        "the cluster's namespaces and policies. Move it aside (mv " + path + " " + path +
        ".bad) and launch again: the cluster's part comes back from the peers, and this host's "
        "workloads must be attached again");
  }
}

std::string random_epoch() {
  uint8_t b[8];
  randombytes_buf(b, sizeof b);
  return to_hex(ByteView(b, sizeof b));
}

}  // namespace

StateService::StateService(GossipSender& gossip, Membership& members, StateServiceConfig cfg,
                           std::function<int64_t()> now_ms)
    : cfg_(std::move(cfg)),
      members_(members),
      path_(cfg_.datadir + "/state.json"),
      now_(std::move(now_ms)),
      epoch_(random_epoch()) {
  state::StateConfig sc;
  sc.self = cfg_.self;
  sc.started_unix_ms = cfg_.started_unix_ms;
  sc.gone_grace_ms = cfg_.gone_grace_ms;
  state::StateStore& store = *this;
  state::StateEvents& events = *this;
  core_ = std::make_unique<state::StateCore>(sc, gossip, members, store, events, load(path_));
}

StateService::~StateService() = default;

void StateService::start(ModuleRegistry& registry) {
  registry.add_channel(state::StateCore::kChannel, core_.get());
  add_routes(registry);
  registry.add_metrics([this] { return metrics_text(); });
  import_cli_workloads();
}

void StateService::forget_host(PeerName host) {
  core_->forget_host(host, now_(), /*announce=*/true);
}

// Workloads attached before the router kept them (DATADIR/workloads.json, written by older
// CLIs) become this host's records once; the file is then renamed so it is never read again.
void StateService::import_cli_workloads() {
  std::string old = cfg_.datadir + "/workloads.json";
  auto text = read_file(old);
  if (!text) return;
  try {
    std::vector<state::StateCore::Write> writes;
    for (const WorkloadRecord& r : parse_workloads_json(*text)) {
      json w = {{"id", r.netns_label()}, {"netns", r.netns},
                {"pid", r.pid},          {"name", r.name},
                {"mac", r.mac},          {"ips", r.ips},
                {"veth", r.veth},        {"netns_inode", r.netns_inode}};
      w = state::normalize_workload(w, cfg_.self);
      writes.push_back(
          {Kind::kWorkload, state::workload_key(cfg_.self, state::workload_id(w)), w.dump()});
    }
    if (!writes.empty()) core_->write(writes, now_());
    std::filesystem::rename(old, old + ".imported");
    spdlog::info("imported {} workload(s) from {} into the router's state", writes.size(), old);
  } catch (const std::exception& e) {
    spdlog::warn("cannot import {} ({}); attach those workloads again", old, e.what());
  }
}

// --- StateStore, StateEvents

void StateService::save(const state::ObjectTable& table, uint64_t hlc, uint64_t revision) {
  try {
    write_file_atomic(path_, state::state_file_json(table, hlc, revision), 0600);
  } catch (...) {
    ++save_failures_;
    throw;
  }
}

void StateService::on_change(const state::Change& c) {
  for (const auto& f : change_listeners_) f(c);
  if (watchers_.empty()) return;
  json line = {{"type", "change"},
               {"revision", c.revision},
               {"kind", state::kind_name(c.kind)},
               {"key", c.key},
               {"op", c.deleted ? "delete" : "upsert"}};
  if (!c.deleted) line["object"] = render(c.kind, c.key, c.value);
  std::string text = line.dump() + "\n";
  std::erase_if(watchers_, [&](const std::shared_ptr<Watcher>& w) {
    return !w->stream->open() || !w->stream->write(text);
  });
}

void StateService::log(LogLevel level, const std::string& message) {
  log_with_spdlog(level, message);
}

// --- rendering

json StateService::render(Kind kind, const std::string& key, const std::string& value) const {
  json v = json::parse(value, nullptr, /*allow_exceptions=*/false);
  if (v.is_discarded()) v = json::object();
  if (kind == Kind::kNamespace) {
    json labels = v.value("labels", json::object());
    labels[state::kNamespaceNameLabel] = key;
    return {{"name", key}, {"labels", labels}};
  }
  if (kind == Kind::kWorkload) {
    for (const MemberInfo& m : members_.members())
      if (format_peer_name(m.name) == v.value("host", "")) v["host_nickname"] = m.nickname;
  }
  return v;
}

json StateService::namespaces_json() const {
  std::map<std::string, json> out;
  auto implied = [&](const std::string& ns) {
    if (!out.count(ns)) out[ns] = {{"name", ns}, {"labels", {{state::kNamespaceNameLabel, ns}}}};
  };
  implied(state::kDefaultNamespace);
  for (const state::Entry* e : core_->table().live(Kind::kNamespace))
    out[e->key] = render(Kind::kNamespace, e->key, e->value);
  for (const state::Entry* e : core_->table().live(Kind::kWorkload)) {
    json w = json::parse(e->value, nullptr, false);
    if (!w.is_discarded()) implied(w.value("namespace", state::kDefaultNamespace));
  }
  for (const state::Entry* e : core_->table().live(Kind::kPolicy))
    implied(e->key.substr(0, e->key.find('/')));
  json a = json::array();
  for (auto& [ns, j] : out) a.push_back(j);
  return a;
}

json StateService::snapshot() const {
  json j = {{"revision", core_->revision()}, {"epoch", epoch_}};
  json workloads = json::array(), policies = json::array(), dns = json::array();
  for (const state::Entry* e : core_->table().live(Kind::kWorkload))
    workloads.push_back(render(e->kind, e->key, e->value));
  for (const state::Entry* e : core_->table().live(Kind::kPolicy))
    policies.push_back(render(e->kind, e->key, e->value));
  for (const state::Entry* e : core_->table().live(Kind::kDnsRecord))
    dns.push_back(render(e->kind, e->key, e->value));
  j["workloads"] = workloads;
  j["namespaces"] = namespaces_json();
  j["policies"] = policies;
  j["dns_records"] = dns;
  return j;
}

std::string StateService::metrics_text() const {
  const state::StateCounters& c = core_->counters();
  std::string m;
  auto metric = [&](const std::string& name, const char* type, const std::string& help,
                    uint64_t v) {
    m += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n" + name + " " +
         std::to_string(v) + "\n";
  };
  metric("weft_state_revision", "gauge", "Changes to the cluster state seen by this router.",
         core_->revision());
  m += "# HELP weft_state_objects Live objects in the cluster state, by kind.\n"
       "# TYPE weft_state_objects gauge\n";
  for (Kind k : state::kAllKinds)
    m += "weft_state_objects{kind=\"" + std::string(state::kind_name(k)) + "\"} " +
         std::to_string(core_->table().live(k).size()) + "\n";
  metric("weft_state_local_writes_total", "counter", "Objects written through this router's API.",
         c.local_writes);
  metric("weft_state_remote_entries_total", "counter", "Entries taken from other peers.",
         c.remote_entries_taken);
  metric("weft_state_refused_entries_total", "counter",
         "Workload entries from peers that do not own them, refused.", c.entries_refused);
  metric("weft_state_malformed_messages_total", "counter", "Malformed state gossip messages.",
         c.malformed_messages);
  metric("weft_state_save_failures_total", "counter", "Failed saves of DATADIR/state.json.",
         save_failures_);
  metric("weft_state_watchers", "gauge", "Open watch streams.", watchers_.size());
  return m;
}

}  // namespace weft
