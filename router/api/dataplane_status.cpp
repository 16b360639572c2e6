#include "router/api/dataplane_status.h"

#include <initializer_list>
#include <utility>

namespace weft {

nlohmann::json dataplane_status_json(const DataplaneCore& dp, const MeshCore& mesh,
                                     const DataplaneInfo& info, int64_t now_ms) {
  nlohmann::json j;
  j["bridge"] = info.bridge;
  j["mtu"] = info.mtu;
  j["capture"] = info.capture;
  j["cipher"] = info.cipher;
  nlohmann::json paths = nlohmann::json::array();
  for (const NeighborPath& p : dp.paths(now_ms)) {
    const PeerRecord* r = mesh.topology().find(p.peer);
    paths.push_back({{"peer", format_peer_name(p.peer)},
                     {"nickname", r ? r->nickname : ""},
                     {"session", p.session},
                     {"path", !p.session ? "none"
                              : p.udp    ? "udp"
                                         : "tcp (UDP not working)"},
                     {"endpoint", p.endpoint},
                     {"cipher", p.cipher}});
  }
  j["paths"] = paths;
  j["macs"] = dp.macs().size();
  return j;
}

std::string dataplane_metrics_text(const DataplaneCore& dp, const DataplaneInfo& info) {
  std::string m;
  const DataplaneCounters& c = dp.counters();
  const ForwarderCounters& f = dp.forwarding();
  auto counter = [&](const std::string& name, const std::string& help, uint64_t v) {
    m += "# HELP " + name + " " + help + "\n# TYPE " + name + " counter\n" + name + " " +
         std::to_string(v) + "\n";
  };
  m += "# HELP weft_dataplane_dropped_total Data-plane datagrams and frames dropped, by reason.\n"
       "# TYPE weft_dataplane_dropped_total counter\n";
  for (auto [reason, v] : std::initializer_list<std::pair<const char*, uint64_t>>{
           {"malformed", c.dropped_malformed},
           {"unknown_session", c.dropped_unknown_session},
           {"authentication", c.dropped_auth},
           {"replay", c.dropped_replay},
           {"no_session", c.dropped_no_session},
           {"spoofed_source", f.dropped_spoofed},
           {"spoofed_source_ip", f.dropped_spoofed_ip},
           {"too_big", dp.too_big().dropped},
           {"no_route", f.dropped_no_route},
           {"unknown_unicast_limit", f.dropped_flood_limited}})
    m += "weft_dataplane_dropped_total{reason=\"" + std::string(reason) + "\"} " +
         std::to_string(v) + "\n";
  counter("weft_dataplane_udp_received_total", "Authenticated UDP datagrams received.", c.udp_rx);
  counter("weft_dataplane_udp_sent_total", "UDP datagrams sent.", c.udp_tx);
  counter("weft_dataplane_fallback_sent_total",
          "Frame batches sent over the control connection because UDP did not work.",
          c.fallback_tx);
  counter("weft_dataplane_fallback_received_total",
          "Frame batches received over the control connection.", c.fallback_rx);
  counter("weft_dataplane_frames_relayed_total", "Frames relayed for other peers.", f.relayed);
  counter("weft_dataplane_frames_flooded_total", "Frames flooded along broadcast trees.",
          f.flooded);
  counter("weft_dataplane_frames_delivered_total", "Frames injected into the local bridge.",
          f.delivered);
  counter("weft_dataplane_icmp_too_big_sent_total",
          "ICMP fragmentation-needed / packet-too-big errors sent to local senders.",
          dp.too_big().replies);
  counter("weft_dataplane_address_table_full_total",
          "New source MACs and IPs not learned because their table was full.",
          f.mac_table_full + f.ip_table_full);
  counter("weft_dataplane_device_write_drops_total",
          "Frames the capture device (TAP or pcap) would not take.", info.device_write_drops);
  return m;
}

}  // namespace weft
