#include "state/entry.h"

namespace weft::state {

std::string_view kind_name(Kind k) {
  switch (k) {
    case Kind::kWorkload:
      return "workload";
    case Kind::kNamespace:
      return "namespace";
    case Kind::kPolicy:
      return "policy";
    case Kind::kDnsRecord:
      return "dns_record";
  }
  return "unknown";
}

std::optional<Kind> parse_kind(std::string_view s) {
  for (Kind k : kAllKinds)
    if (kind_name(k) == s) return k;
  return std::nullopt;
}

bool valid_kind(uint8_t k) {
  return k >= static_cast<uint8_t>(Kind::kWorkload) && k <= static_cast<uint8_t>(Kind::kDnsRecord);
}

std::optional<PeerName> workload_owner(std::string_view key) {
  size_t slash = key.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  return parse_peer_name(key.substr(0, slash));
}

std::string workload_key(PeerName host, std::string_view id) {
  return format_peer_name(host) + "/" + std::string(id);
}

}  // namespace weft::state
