#pragma once
// "host", "host:port", "[v6]:port" as users type them for peers and API addresses. Pure parsing;
// names are not resolved here.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace weft {

struct HostPort {
  std::string host;  // a name or an IP literal, without brackets
  uint16_t port = 0;
};

// Accepts "host", "host:port", "[v6]", "[v6]:port" and a bare IPv6 literal ("fd00::1"), using
// `default_port` when none is given. Throws std::invalid_argument saying what is wrong.
HostPort parse_host_port(std::string_view s, uint16_t default_port);
// "host:port", bracketing IPv6 literals.
std::string format_host_port(const HostPort& hp);

// True for an IPv4 literal in 127.0.0.0/8 or the IPv6 literal ::1 (names are never loopback
// here: "localhost" can resolve to anything /etc/hosts says).
bool is_loopback_literal(const std::string& host);
bool is_ip_literal(const std::string& host);

}  // namespace weft
