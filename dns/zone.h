#pragma once
// The cluster domain's records (default "weft.local."): names relative to the domain, each with a
// set of IPv4 addresses, fed by key. A key names the source of an entry (a workload, a record added
// by hand); the router maps its cluster state onto keys, so a source that goes away takes exactly
// its own addresses with it, whoever else shares the name. Pure: no I/O, no clock.
//
// Answers (RFC 1034 §4.3.2, RFC 2308, RFC 8020):
//   A (or ANY) for a name with addresses  -> all of them, rotated by the caller's counter
//   any other type for a known name        -> no data (NOERROR), never NXDOMAIN (weave #2244)
//   a name only others are below (shop.)   -> no data (an empty non-terminal, RFC 8020)
//   the domain itself                      -> SOA for SOA, else no data
//   anything else inside the domain        -> NXDOMAIN
//   PTR for an address some entry holds    -> every name holding it; other types: no data
//   other names, unknown addresses         -> not ours (the resolver forwards them)
// Names compare case-insensitively; answers carry the domain as configured.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "dns/name.h"

namespace weft::dns {

struct ZoneEntry {
  std::string key;                  // the source: "workload:HOST/NETNS", "manual:web", ...
  std::string name;                 // relative to the domain: "web", "web.shop"
  std::vector<uint32_t> addresses;  // IPv4, host byte order; duplicates are ignored
  bool operator==(const ZoneEntry&) const = default;
};

class DnsZone {
 public:
  // Throws std::invalid_argument when `domain` is not a valid name or is the root.
  explicit DnsZone(std::string_view domain = "weft.local.");

  // The DNS name of a workload: "web" in namespace "default" (or ""), "web.shop" in "shop".
  static std::string workload_name(std::string_view name, std::string_view ns);

  // Sets the entry of `key` (replacing what it had). `name` may be relative ("web.shop") or
  // absolute inside the domain ("web.shop.weft.local."); stored lower-cased. Throws
  // std::invalid_argument (a sentence for the user) for an invalid name, the domain itself, or
  // an absolute name outside the domain; the zone is then unchanged.
  void upsert(std::string key, std::string name, std::vector<uint32_t> addresses);
  // The stored form of a name: relative, lower-cased ("Web.Shop.weft.local." -> "web.shop"), so
  // callers can key records by name. Throws std::invalid_argument like upsert.
  std::string relative_name(std::string_view name) const { return relative_key(name); }
  // Returns whether the key had an entry.
  bool remove(const std::string& key);
  // Makes the entries exactly these (a later key wins over an earlier duplicate). Validates all
  // names first: on std::invalid_argument nothing changed.
  void replace_all(std::vector<ZoneEntry> entries);

  enum class Kind { kNotOurs, kAddresses, kNames, kSoa, kNoData, kNxDomain };
  struct Answer {
    Kind kind = Kind::kNotOurs;
    std::vector<uint32_t> addresses;  // kAddresses: every address, rotated
    std::vector<Name> names;          // kNames: absolute names, sorted
  };
  // `rotation`: the caller's counter; answer i starts at address (rotation mod count) of the
  // name's sorted addresses.
  Answer lookup(const Name& qname, uint16_t qtype, uint64_t rotation) const;

  // Addresses of a name given relative or absolute (sorted; empty when unknown or invalid).
  std::vector<uint32_t> addresses(std::string_view name) const;
  // Every entry, sorted by key, names as stored.
  std::vector<ZoneEntry> entries() const;
  const Name& domain() const { return domain_; }
  // Changes with every change of the answers (the SOA serial).
  uint32_t serial() const { return serial_; }

 private:
  struct Entry {
    std::string name;  // relative key: "web.shop"
    std::vector<uint32_t> addresses;
  };
  struct NameData {
    size_t entries = 0;
    std::map<uint32_t, size_t> addresses;  // address -> entries holding it
  };
  // Relative lower-cased key of `name`, or throws.
  std::string relative_key(std::string_view name) const;
  std::string relative_key(const Name& absolute) const;  // "" when outside the domain
  void add(const std::string& key, Entry e);
  void drop(const std::string& key);
  Name absolute(const std::string& rel) const;

  Name domain_;
  std::map<std::string, Entry> entries_;
  std::map<std::string, NameData> names_;
  std::map<std::string, size_t> nodes_;  // proper ancestors of names -> names below them
  std::map<uint32_t, std::map<std::string, size_t>> reverse_;
  uint32_t serial_ = 1;
};

}  // namespace weft::dns
