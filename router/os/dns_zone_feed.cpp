#include "router/os/dns_zone_feed.h"

#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <vector>

#include "common/ipv4_cidr.h"
#include "state/objects.h"

namespace weft {

using nlohmann::json;
using state::Kind;

namespace {

std::string workload_zone_key(const std::string& state_key) {
  return "workload:" + state_key;
}

// "NAME|IP" -> NAME (a name never holds '|', an address neither).
std::string record_name(const std::string& record_key) {
  return record_key.substr(0, record_key.rfind('|'));
}

}  // namespace

void DnsZoneFeed::load(const state::ObjectTable& table) {
  zone_.replace_all({});
  for (const state::Entry* e : table.live(Kind::kWorkload)) workload(e->key, e->value);
  std::set<std::string> done;
  for (const state::Entry* e : table.live(Kind::kDnsRecord))
    if (done.insert(record_name(e->key)).second) manual(e->key, table);
}

void DnsZoneFeed::apply(const state::Change& c, const state::ObjectTable& table) {
  if (c.kind == Kind::kWorkload) {
    if (c.deleted)
      zone_.remove(workload_zone_key(c.key));
    else
      workload(c.key, c.value);
  } else if (c.kind == Kind::kDnsRecord) {
    manual(c.key, table);
  }
}

void DnsZoneFeed::workload(const std::string& key, const std::string& value) {
  const std::string zkey = workload_zone_key(key);
  json w = json::parse(value, nullptr, /*allow_exceptions=*/false);
  std::string name = w.is_object() ? w.value("name", "") : "";
  std::vector<uint32_t> ips;
  if (w.is_object() && w.contains("ips") && w["ips"].is_array()) {
    for (const auto& ip : w["ips"]) {
      if (!ip.is_string()) continue;
      const std::string s = ip.get<std::string>();
      if (auto a = parse_ipv4(std::string_view(s).substr(0, s.find('/')))) ips.push_back(*a);
    }
  }
  if (name.empty() || ips.empty()) {
    if (name.empty()) ++skipped_;
    zone_.remove(zkey);
    return;
  }
  try {
    zone_.upsert(zkey,
                 dns::DnsZone::workload_name(name, w.value("namespace", state::kDefaultNamespace)),
                 std::move(ips));
  } catch (const std::invalid_argument&) {
    ++skipped_;
    zone_.remove(zkey);
  }
}

void DnsZoneFeed::manual(const std::string& record_key, const state::ObjectTable& table) {
  std::string rel;
  try {
    rel = zone_.relative_name(record_name(record_key));
  } catch (const std::invalid_argument&) {
    ++skipped_;
    return;
  }
  // Every live record of the same name (as the zone stores it: case and the domain suffix do
  // not matter) contributes its address.
  std::vector<uint32_t> ips;
  for (const state::Entry* e : table.live(Kind::kDnsRecord)) {
    std::string other;
    try {
      other = zone_.relative_name(record_name(e->key));
    } catch (const std::invalid_argument&) {
      continue;
    }
    if (other != rel) continue;
    if (auto a = parse_ipv4(e->key.substr(e->key.rfind('|') + 1))) ips.push_back(*a);
  }
  const std::string zkey = "manual:" + rel;
  if (ips.empty())
    zone_.remove(zkey);
  else
    zone_.upsert(zkey, rel, std::move(ips));
}

}  // namespace weft
