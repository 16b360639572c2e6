#pragma once
// Where forwarded queries go: upstream server addresses, from --dns-upstream or the host's
// resolv.conf, minus every address a weft resolver answers on (forwarding there would loop).
// Pure: the caller reads the file. IPv4 only for now: IPv6 nameservers are skipped and reported.
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace weft::dns {

struct Upstream {
  uint32_t ip = 0;  // host byte order
  uint16_t port = 53;
  std::string to_string() const;  // "192.0.2.1:53"
  auto operator<=>(const Upstream&) const = default;
};

// "192.0.2.1" (port 53) or "192.0.2.1:5353"; nullopt otherwise.
std::optional<Upstream> parse_upstream(std::string_view text);

// The parts of resolv.conf(5) we use. Unknown lines and comments ('#' or ';') are ignored.
struct ResolvConf {
  std::vector<std::string> nameservers;  // as written, in order
  std::vector<std::string> search;       // the last search/domain line wins, as in glibc
};
ResolvConf parse_resolv_conf(std::string_view text);

// The resolv.conf a workload in namespace `ns` gets (`weft attach` writes it, e.g. to
// /etc/netns/NETNS/resolv.conf): the router as nameserver, search "NS.DOMAIN DOMAIN" ("DOMAIN"
// alone for namespace default) so `web` and `web.shop` resolve, and ndots:2 so a one-dot name
// like `web.shop` tries the search path (our own fast answers) before going upstream as-is.
std::string workload_resolv_conf(uint32_t nameserver, std::string_view ns, std::string_view domain);
// Its search path: {"NS.DOMAIN", "DOMAIN"}, or {"DOMAIN"} for namespace default (no final dots).
std::vector<std::string> workload_search(std::string_view ns, std::string_view domain);
// Its options line's options ("ndots:2").
inline constexpr const char* kWorkloadResolverOptions = "ndots:2";

struct UpstreamChoice {
  std::vector<Upstream> upstreams;   // in the given order, without duplicates
  std::vector<std::string> skipped;  // "ADDR: why", for the log
};
// Keeps the candidates that parse and are none of `own` (this router's DNS listen addresses and
// any other weft resolver's). A wildcard own address (0.0.0.0:P) covers no one: the caller lists
// the host's addresses instead.
UpstreamChoice choose_upstreams(const std::vector<std::string>& candidates,
                                const std::vector<Upstream>& own);

}  // namespace weft::dns
