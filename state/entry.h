#pragma once
// The cluster state's unit of replication: one object (a workload, a namespace's labels, a
// NetworkPolicy, a DNS record added by hand) under a key, with the version that wrote it.
//
// Entries merge as last-writer-wins registers: the greater Version wins, whatever order
// entries arrive in, so every peer that has seen the same entries holds the same state.
// A deletion is an entry too (a tombstone, `deleted` and no value), so an older copy of a
// deleted object can never bring it back.
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/peer_name.h"

namespace weft::state {

enum class Kind : uint8_t {
  kWorkload = 1,   // key "HOST/ID" (HOST: the owning peer's name); only HOST writes it
  kNamespace = 2,  // key "NS"; value {"labels": {...}}
  kPolicy = 3,     // key "NS/NAME"; value the NetworkPolicy as the user wrote it (JSON)
  kDnsRecord = 4,  // key "NAME|IP"; value {"name": ..., "ip": ...}
};
constexpr Kind kAllKinds[] = {Kind::kWorkload, Kind::kNamespace, Kind::kPolicy, Kind::kDnsRecord};

// "workload", "namespace", "policy", "dns_record".
std::string_view kind_name(Kind k);
std::optional<Kind> parse_kind(std::string_view s);
// Kinds are a closed set; a byte outside it is malformed.
bool valid_kind(uint8_t k);

// A hybrid logical clock reading (see hlc.h) and the peer that wrote it: greater wins; the peer
// name breaks ties between writes in the same clock tick.
struct Version {
  uint64_t hlc = 0;
  PeerName writer = 0;
  auto operator<=>(const Version&) const = default;
};

struct Entry {
  Kind kind = Kind::kNamespace;
  std::string key;
  Version version;
  bool deleted = false;
  std::string value;  // compact JSON of the object; empty for a tombstone
  bool operator==(const Entry&) const = default;
};

// The owner a workload key names ("HOST/ID" -> HOST), or nullopt for keys of other kinds or
// a malformed one.
std::optional<PeerName> workload_owner(std::string_view key);
std::string workload_key(PeerName host, std::string_view id);

// Bounds on what one entry may hold: a peer's gossip is authenticated, but a bug or a
// compromised peer must not make every router allocate without limit.
constexpr size_t kMaxKeyLen = 512;
constexpr size_t kMaxValueLen = 256 * 1024;

}  // namespace weft::state
