#include "router/api/status_json.h"

#include <map>
#include <sstream>

namespace weft {

namespace {
std::string nickname_of(const Topology& t, PeerName p) {
  const PeerRecord* r = t.find(p);
  return r ? r->nickname : "";
}
}  // namespace

nlohmann::json status_json(const MeshCore& mesh, const RouterInfo& info) {
  const Topology& topo = mesh.topology();
  const PeerHello& self = mesh.config().self;
  nlohmann::json j;
  j["version"] = WEFT_VERSION;
  j["name"] = format_peer_name(self.name);
  j["nickname"] = self.nickname;
  j["encryption"] = info.encryption;
  j["port"] = info.port;
  j["discovery"] = info.discovery;

  nlohmann::json peers = nlohmann::json::array();
  for (const auto& [name, rec] : topo.records()) {
    nlohmann::json p = {{"name", format_peer_name(name)},
                        {"nickname", rec.nickname},
                        {"reachable", name == self.name || topo.reachable(name)}};
    if (auto h = topo.hops(name)) p["hops"] = *h;
    nlohmann::json conns = nlohmann::json::array();
    for (const auto& [other, e] : rec.edges)
      conns.push_back({{"name", format_peer_name(other)},
                       {"nickname", nickname_of(topo, other)},
                       {"address", e.ip},
                       {"outbound", e.outbound},
                       {"established", topo.connected(name, other)}});
    p["connections"] = conns;
    peers.push_back(p);
  }
  j["peers"] = peers;

  nlohmann::json conns = nlohmann::json::array();
  for (const ConnectionStatus& c : mesh.connection_statuses()) {
    nlohmann::json o = {{"address", c.address}, {"outbound", c.outbound}, {"state", c.state}};
    if (c.peer) {
      o["peer"] = format_peer_name(c.peer->name);
      o["nickname"] = c.peer->nickname;
    }
    std::string i = c.info;
    if (c.state == "established")
      i = info.encryption ? "encrypted, control over TCP" : "UNENCRYPTED, control over TCP";
    o["info"] = i;
    conns.push_back(o);
  }
  j["connections"] = conns;
  j["targets"] = mesh.targets();

  nlohmann::json routes = nlohmann::json::array();
  for (const auto& [name, rec] : topo.records()) {
    if (name == self.name) continue;
    auto hop = topo.next_hop(name);
    if (!hop) continue;
    routes.push_back({{"destination", format_peer_name(name)},
                      {"nickname", rec.nickname},
                      {"next_hop", format_peer_name(*hop)},
                      {"next_hop_nickname", nickname_of(topo, *hop)},
                      {"hops", topo.hops(name).value_or(-1)}});
  }
  j["routes"] = routes;
  return j;
}

std::string metrics_text(const MeshCore& mesh, const RouterInfo& info) {
  const Topology& topo = mesh.topology();
  const MeshMetrics& m = mesh.metrics();
  std::ostringstream o;
  auto gauge = [&](const char* name, const char* help, auto value) {
    o << "# HELP " << name << " " << help << "\n# TYPE " << name << " gauge\n"
      << name << " " << value << "\n";
  };
  auto counter = [&](const char* name, const char* help, auto value) {
    o << "# HELP " << name << " " << help << "\n# TYPE " << name << " counter\n"
      << name << " " << value << "\n";
  };
  size_t reachable = 0;
  for (const auto& [name, rec] : topo.records())
    if (name != mesh.config().self.name && topo.reachable(name)) ++reachable;
  gauge("weft_peers", "Peers known to this router, itself excluded.", topo.size() - 1);
  gauge("weft_peers_reachable", "Peers reachable over established connections.", reachable);
  gauge("weft_encryption_enabled", "1 when the mesh traffic is encrypted.",
        info.encryption ? 1 : 0);

  std::map<std::string, int> by_state = {
      {"connecting", 0}, {"handshaking", 0}, {"established", 0}, {"retrying", 0}, {"failed", 0}};
  for (const auto& c : mesh.connection_statuses()) by_state[c.state]++;
  o << "# HELP weft_connections Control connections by state.\n# TYPE weft_connections gauge\n";
  for (const auto& [s, n] : by_state) o << "weft_connections{state=\"" << s << "\"} " << n << "\n";

  o << "# HELP weft_handshake_failures_total Failed control handshakes by reason.\n"
       "# TYPE weft_handshake_failures_total counter\n";
  for (size_t i = 1; i < m.handshake_failures.size(); ++i)
    o << "weft_handshake_failures_total{reason=\"" << failure_name(static_cast<ChannelFailure>(i))
      << "\"} " << m.handshake_failures[i] << "\n";

  std::map<std::string, bool> channels;
  for (const auto& [c, n] : m.gossip_bytes_sent) channels[c] = true;
  for (const auto& [c, n] : m.gossip_bytes_received) channels[c] = true;
  channels["topology"] = true;
  auto per_channel = [&](const char* name, const char* help,
                         const std::map<std::string, uint64_t>& values) {
    o << "# HELP " << name << " " << help << "\n# TYPE " << name << " counter\n";
    for (const auto& [c, unused] : channels) {
      auto it = values.find(c);
      o << name << "{channel=\"" << c << "\"} " << (it == values.end() ? 0 : it->second) << "\n";
    }
  };
  per_channel("weft_gossip_sent_bytes_total", "Gossip bytes sent, by channel.",
              m.gossip_bytes_sent);
  per_channel("weft_gossip_received_bytes_total", "Gossip bytes received, by channel.",
              m.gossip_bytes_received);
  per_channel("weft_gossip_sent_messages_total", "Gossip messages sent, by channel.",
              m.gossip_messages_sent);
  counter("weft_malformed_messages_total", "Control messages dropped as malformed.",
          m.malformed_messages);
  counter("weft_unroutable_messages_total", "Gossip unicasts dropped for lack of a route.",
          m.unroutable_messages);
  counter("weft_dead_connections_total", "Connections closed for missing heartbeats.",
          m.dead_connections);
  counter("weft_duplicate_connections_total", "Simultaneous connections collapsed to one.",
          m.duplicate_connections);
  counter("weft_self_connections_total", "Connections found to loop back to this router.",
          m.self_connections);
  counter("weft_peers_collected_total", "Unreachable peers forgotten.", m.peers_collected);
  counter("weft_dials_started_total", "Outbound control connections started.", m.dials_started);
  counter("weft_dials_abandoned_total",
          "Outbound connections closed while connecting because their target was forgotten.",
          m.dials_abandoned);
  gauge("weft_dials_waiting",
        "Dials due but held back by the bound on concurrent dials (max_concurrent_dials).",
        m.dials_waiting);
  return o.str();
}

}  // namespace weft
