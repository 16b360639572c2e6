#include "ipam/state_file.h"

#include <nlohmann/json.hpp>
#include <stdexcept>

namespace weft::ipam {

using nlohmann::json;

namespace {

constexpr int kFormatVersion = 1;

uint32_t ipv4_field(const json& j, const char* key) {
  auto a = parse_ipv4(j.at(key).get<std::string>());
  if (!a) throw std::invalid_argument(std::string("\"") + key + "\" is not an IPv4 address");
  return *a;
}

PeerName name_field(const json& j) {
  auto n = parse_peer_name(j.get<std::string>());
  if (!n) throw std::invalid_argument("\"" + j.get<std::string>() + "\" is not a peer name");
  return *n;
}

}  // namespace

std::string state_json(const IpamState& s) {
  json j;
  j["format"] = kFormatVersion;
  const Ring& r = s.ring;
  j["range"] = r.range().to_string();
  if (!r.empty()) {
    j["epoch"] = r.epoch();
    json seeds = json::array();
    for (PeerName p : r.seeds()) seeds.push_back(format_peer_name(p));
    j["seeds"] = seeds;
    json tokens = json::array();
    for (const auto& [start, t] : r.tokens())
      tokens.push_back({{"start", format_ipv4(start)},
                        {"owner", format_peer_name(t.owner)},
                        {"version", t.version},
                        {"free", t.free}});
    j["tokens"] = tokens;
  }
  json allocs = json::array();
  for (const auto& [a, h] : s.allocations.by_address())
    allocs.push_back({{"address", format_ipv4(a)}, {"holder", h}});
  j["allocations"] = allocs;
  return j.dump(1) + "\n";
}

IpamState parse_state_json(std::string_view text) {
  IpamState s;
  try {
    json j = json::parse(text);
    if (!j.is_object()) throw std::invalid_argument("not a JSON object");
    if (j.value("format", 0) != kFormatVersion)
      throw std::invalid_argument("unknown format (want \"format\": 1)");
    Ipv4Cidr range = parse_ipv4_cidr(j.at("range").get<std::string>());
    if (range.addr != range.network()) throw std::invalid_argument("\"range\" has host bits set");
    if (j.contains("tokens")) {
      // Reuse the wire decoder's checks: encode what the file says, then decode it.
      Bytes b;
      ByteWriter w(b);
      w.u32(range.network());
      w.u8(uint8_t(range.prefix));
      w.u64(j.at("epoch").get<uint64_t>());
      const json& seeds = j.at("seeds");
      if (!seeds.is_array() || seeds.size() > 0xffff)
        throw std::invalid_argument("\"seeds\" is not a list of peer names");
      w.u16(uint16_t(seeds.size()));
      for (const auto& p : seeds) w.u64(name_field(p));
      const json& tokens = j.at("tokens");
      if (!tokens.is_array()) throw std::invalid_argument("\"tokens\" is not a list");
      w.u32(uint32_t(tokens.size()));
      for (const auto& t : tokens) {
        w.u32(ipv4_field(t, "start"));
        w.u64(name_field(t.at("owner")));
        w.u32(t.at("version").get<uint32_t>());
        w.u32(t.at("free").get<uint32_t>());
      }
      ByteReader r(b);
      s.ring = Ring::decode(r);
    } else {
      s.ring = Ring(range);
    }
    for (const auto& a : j.at("allocations")) {
      uint32_t addr = ipv4_field(a, "address");
      std::string holder = a.at("holder").get<std::string>();
      if (!range.contains(addr))
        throw std::invalid_argument(format_ipv4(addr) + " is outside " + range.to_string());
      if (s.allocations.holder_of(addr))
        throw std::invalid_argument(format_ipv4(addr) + " is allocated twice");
      s.allocations.add(addr, holder);
    }
  } catch (const json::exception& e) {
    throw std::invalid_argument(e.what());
  } catch (const DecodeError& e) {
    throw std::invalid_argument(e.what());
  }
  return s;
}

}  // namespace weft::ipam
