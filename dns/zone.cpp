#include "dns/zone.h"

#include <algorithm>
#include <stdexcept>

#include "dns/message.h"

namespace weft::dns {

namespace {

std::vector<uint32_t> sorted_unique(std::vector<uint32_t> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

// "a.b.c" -> {"b.c", "c"}
std::vector<std::string> proper_ancestors(const std::string& rel) {
  std::vector<std::string> out;
  for (size_t dot = rel.find('.'); dot != std::string::npos; dot = rel.find('.', dot + 1))
    out.push_back(rel.substr(dot + 1));
  return out;
}

}  // namespace

DnsZone::DnsZone(std::string_view domain) {
  auto d = parse_name(domain);
  if (!d || d->labels.empty())
    throw std::invalid_argument("\"" + std::string(domain) +
                                "\" is not a valid DNS domain (like weft.local)");
  domain_ = *d;
}

std::string DnsZone::workload_name(std::string_view name, std::string_view ns) {
  if (ns.empty() || ns == "default") return std::string(name);
  return std::string(name) + "." + std::string(ns);
}

std::string DnsZone::relative_key(const Name& absolute) const {
  if (!absolute.ends_with_ci(domain_)) return "";
  Name rel;
  rel.labels.assign(absolute.labels.begin(), absolute.labels.end() - long(domain_.labels.size()));
  return rel.key();
}

std::string DnsZone::relative_key(std::string_view text) const {
  const std::string quoted = "\"" + std::string(text) + "\"";
  auto n = parse_name(text);
  if (!n || n->labels.empty())
    throw std::invalid_argument(
        quoted + " is not a valid DNS name (labels of letters, digits and '-', 1 to 63 each)");
  bool absolute = !text.empty() && text.back() == '.';
  std::string rel;
  if (absolute || n->ends_with_ci(domain_)) {
    if (!n->ends_with_ci(domain_))
      throw std::invalid_argument(quoted + " is outside the cluster domain " + domain_.to_string());
    rel = relative_key(*n);
  } else {
    rel = n->key();
  }
  if (rel.empty())
    throw std::invalid_argument(quoted + " is the cluster domain itself; give a name inside it");
  if (n->wire_length() + (absolute ? 0 : domain_.wire_length() - 1) > kMaxNameWireLength)
    throw std::invalid_argument(quoted + " is too long (DNS names have at most 255 bytes)");
  return rel;
}

Name DnsZone::absolute(const std::string& rel) const {
  Name n = *parse_name(rel);
  n.labels.insert(n.labels.end(), domain_.labels.begin(), domain_.labels.end());
  return n;
}

void DnsZone::add(const std::string& key, Entry e) {
  NameData& nd = names_[e.name];
  if (nd.entries++ == 0)
    for (const auto& a : proper_ancestors(e.name)) ++nodes_[a];
  for (uint32_t a : e.addresses) {
    ++nd.addresses[a];
    ++reverse_[a][e.name];
  }
  entries_[key] = std::move(e);
}

void DnsZone::drop(const std::string& key) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  const Entry& e = it->second;
  NameData& nd = names_[e.name];
  for (uint32_t a : e.addresses) {
    if (--nd.addresses[a] == 0) nd.addresses.erase(a);
    auto& names = reverse_[a];
    if (--names[e.name] == 0) names.erase(e.name);
    if (names.empty()) reverse_.erase(a);
  }
  if (--nd.entries == 0) {
    for (const auto& a : proper_ancestors(e.name))
      if (--nodes_[a] == 0) nodes_.erase(a);
    names_.erase(e.name);
  }
  entries_.erase(it);
}

void DnsZone::upsert(std::string key, std::string name, std::vector<uint32_t> addresses) {
  Entry e{relative_key(name), sorted_unique(std::move(addresses))};
  auto it = entries_.find(key);
  if (it != entries_.end() && it->second.name == e.name && it->second.addresses == e.addresses)
    return;
  drop(key);
  add(key, std::move(e));
  ++serial_;
}

bool DnsZone::remove(const std::string& key) {
  if (!entries_.count(key)) return false;
  drop(key);
  ++serial_;
  return true;
}

void DnsZone::replace_all(std::vector<ZoneEntry> entries) {
  std::map<std::string, Entry> fresh;
  for (ZoneEntry& z : entries)
    fresh[z.key] = Entry{relative_key(z.name), sorted_unique(std::move(z.addresses))};
  entries_.clear();
  names_.clear();
  nodes_.clear();
  reverse_.clear();
  for (auto& [key, e] : fresh) add(key, std::move(e));
  ++serial_;
}

DnsZone::Answer DnsZone::lookup(const Name& qname, uint16_t qtype, uint64_t rotation) const {
  Answer ans;
  if (qname.ends_with_ci(domain_)) {
    std::string rel = relative_key(qname);
    if (rel.empty()) {
      ans.kind = qtype == kTypeSOA ? Kind::kSoa : Kind::kNoData;
      return ans;
    }
    auto it = names_.find(rel);
    // A label holding '.' has a key that may look like a deeper name: only a name whose labels
    // all parse is one of ours.
    bool plain = std::none_of(qname.labels.begin(), qname.labels.end(), [](const std::string& l) {
      return l.find('.') != std::string::npos;
    });
    if (plain && it != names_.end()) {
      if ((qtype == kTypeA || qtype == kTypeANY) && !it->second.addresses.empty()) {
        ans.kind = Kind::kAddresses;
        for (const auto& [a, n] : it->second.addresses) ans.addresses.push_back(a);
        std::rotate(ans.addresses.begin(),
                    ans.addresses.begin() + long(rotation % ans.addresses.size()),
                    ans.addresses.end());
      } else {
        ans.kind = Kind::kNoData;
      }
      return ans;
    }
    ans.kind = plain && nodes_.count(rel) ? Kind::kNoData : Kind::kNxDomain;
    return ans;
  }
  if (auto addr = parse_reverse_name(qname)) {
    auto it = reverse_.find(*addr);
    if (it == reverse_.end()) return ans;
    if (qtype == kTypePTR || qtype == kTypeANY) {
      ans.kind = Kind::kNames;
      for (const auto& [rel, n] : it->second) ans.names.push_back(absolute(rel));
    } else {
      ans.kind = Kind::kNoData;
    }
  }
  return ans;
}

std::vector<uint32_t> DnsZone::addresses(std::string_view name) const {
  std::string rel;
  try {
    rel = relative_key(name);
  } catch (const std::invalid_argument&) {
    return {};
  }
  std::vector<uint32_t> out;
  auto it = names_.find(rel);
  if (it != names_.end())
    for (const auto& [a, n] : it->second.addresses) out.push_back(a);
  return out;
}

std::vector<ZoneEntry> DnsZone::entries() const {
  std::vector<ZoneEntry> out;
  for (const auto& [key, e] : entries_) out.push_back({key, e.name, e.addresses});
  return out;
}

}  // namespace weft::dns
