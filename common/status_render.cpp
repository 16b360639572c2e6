#include "common/status_render.h"

#include <nlohmann/json.hpp>
#include <vector>

#include "common/text_table.h"

namespace weft {

namespace {

using json = nlohmann::json;

// Field accessors that treat a missing or mistyped field as absent, so a router from another
// version never makes `weft status` throw.
std::string str(const json& j, const char* key, const std::string& def = "") {
  if (!j.is_object()) return def;
  auto it = j.find(key);
  if (it == j.end()) return def;
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number()) return it->dump();
  return def;
}

std::optional<bool> boolean(const json& j, const char* key) {
  if (!j.is_object()) return std::nullopt;
  auto it = j.find(key);
  if (it == j.end() || !it->is_boolean()) return std::nullopt;
  return it->get<bool>();
}

const json& array(const json& j, const char* key) {
  static const json kEmpty = json::array();
  if (!j.is_object()) return kEmpty;
  auto it = j.find(key);
  if (it == j.end() || !it->is_array()) return kEmpty;
  return *it;
}

std::string on_off(std::optional<bool> b) {
  if (!b) return "unknown";
  return *b ? "on" : "off";
}

std::string direction(const json& c) {
  auto out = boolean(c, "outbound");
  if (!out) return "-";
  return *out ? "outbound" : "inbound";
}

std::string connections_table(const json& status) {
  const json& conns = array(status, "connections");
  if (conns.empty()) {
    if (array(status, "targets").empty()) {
      return "No connections, and no peers to connect to: `weft connect HOST` adds one.\n";
    }
    return "No connections yet.\n";
  }
  std::vector<std::vector<std::string>> rows{{"ADDRESS", "DIRECTION", "STATE", "PEER", "INFO"}};
  for (const auto& c : conns) {
    rows.push_back({str(c, "address", "-"), direction(c), str(c, "state", "-"),
                    peer_label(str(c, "peer"), str(c, "nickname")), str(c, "info")});
  }
  return text_table(rows);
}

std::string summary(const json& status) {
  std::string out;
  auto encryption = boolean(status, "encryption");
  if (encryption == false) {
    out += "ENCRYPTION IS OFF: traffic between peers is readable on the network\n\n";
  }
  const json& peers = array(status, "peers");
  size_t reachable = 0;
  for (const auto& p : peers) reachable += boolean(p, "reachable").value_or(false) ? 1 : 0;

  const json& conns = array(status, "connections");
  // Counts per state, in the order a connection goes through them.
  static const char* kStates[] = {"established", "handshaking", "connecting", "retrying", "failed"};
  std::string by_state;
  for (const char* st : kStates) {
    size_t n = 0;
    for (const auto& c : conns) n += str(c, "state") == st ? 1 : 0;
    if (n == 0) continue;
    if (!by_state.empty()) by_state += ", ";
    by_state += std::to_string(n) + " " + st;
  }

  std::vector<std::vector<std::string>> rows{
      {"Version:", str(status, "version", "unknown")},
      {"Name:", peer_label(str(status, "name"), str(status, "nickname"))},
      {"Encryption:", on_off(encryption)},
      {"Port:", str(status, "port", "unknown")},
      {"Discovery:", on_off(boolean(status, "discovery"))},
      {"Peers:", std::to_string(peers.size()) + " (" + std::to_string(reachable) + " reachable)"},
      {"Connections:",
       std::to_string(conns.size()) + (by_state.empty() ? "" : " (" + by_state + ")")},
      {"Targets:", std::to_string(array(status, "targets").size())},
  };
  // Right-align the labels, as `weave status` did.
  size_t label_width = 0;
  for (const auto& r : rows) label_width = std::max(label_width, r[0].size());
  for (const auto& r : rows) {
    out += std::string(label_width - r[0].size() + 2, ' ') + r[0] + " " + r[1] + "\n";
  }
  out += '\n';
  out += connections_table(status);
  return out;
}

std::string peers_view(const json& status) {
  const json& peers = array(status, "peers");
  if (peers.empty()) return "No peers known.\n";
  // One table for every peer's connections, so the columns line up down the whole list.
  std::vector<std::vector<std::string>> rows;
  for (const auto& p : peers) {
    for (const auto& c : array(p, "connections")) {
      auto outbound = boolean(c, "outbound");
      auto established = boolean(c, "established");
      rows.push_back({!outbound   ? "--"
                      : *outbound ? "->"
                                  : "<-",
                      str(c, "address", "-"), peer_label(str(c, "name"), str(c, "nickname")),
                      !established   ? ""
                      : *established ? "established"
                                     : "pending"});
    }
  }
  std::string lines = text_table(rows, "   ");
  size_t pos = 0;
  std::string out;
  for (const auto& p : peers) {
    out += peer_label(str(p, "name"), str(p, "nickname"));
    if (boolean(p, "reachable") == false) out += "  (unreachable)";
    out += "\n";
    size_t n = array(p, "connections").size();
    if (n == 0) out += "   (no connections)\n";
    for (size_t i = 0; i < n; ++i) {
      size_t eol = lines.find('\n', pos);
      out += lines.substr(pos, eol + 1 - pos);
      pos = eol + 1;
    }
  }
  return out;
}

std::string targets_view(const json& status) {
  const json& targets = array(status, "targets");
  if (targets.empty()) {
    return "No targets: this router is not trying to connect to any peer. `weft connect HOST` "
           "adds one.\n";
  }
  std::string out;
  for (const auto& t : targets) out += (t.is_string() ? t.get<std::string>() : t.dump()) + "\n";
  return out;
}

}  // namespace

std::optional<StatusView> parse_status_view(std::string_view s) {
  if (s == "peers") return StatusView::kPeers;
  if (s == "connections") return StatusView::kConnections;
  if (s == "targets") return StatusView::kTargets;
  return std::nullopt;
}

std::string peer_label(std::string_view name, std::string_view nickname) {
  if (name.empty() && nickname.empty()) return "-";
  if (nickname.empty()) return std::string(name);
  // Built by appending: GCC 12 -O3 wrongly warns (-Wrestrict, GCC bug 105651) on
  // `"literal" + std::string&&`.
  if (name.empty()) return std::string("(").append(nickname).append(")");
  return std::string(name) + " (" + std::string(nickname) + ")";
}

std::string render_status(const json& status, StatusView view) {
  switch (view) {
    case StatusView::kSummary:
      return summary(status);
    case StatusView::kPeers:
      return peers_view(status);
    case StatusView::kConnections:
      return connections_table(status);
    case StatusView::kTargets:
      return targets_view(status);
  }
  return "";
}

std::string render_status_json(const json& status, StatusView view) {
  const char* key = nullptr;
  switch (view) {
    case StatusView::kSummary:
      return status.dump(2) + "\n";
    case StatusView::kPeers:
      key = "peers";
      break;
    case StatusView::kConnections:
      key = "connections";
      break;
    case StatusView::kTargets:
      key = "targets";
      break;
  }
  if (status.is_object() && status.contains(key)) return status[key].dump(2) + "\n";
  return "[]\n";
}

}  // namespace weft
