#include "common/host_port.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace weft {

namespace {

uint16_t parse_port(std::string_view s, std::string_view whole) {
  unsigned v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || v == 0 || v > 65535) {
    throw std::invalid_argument("invalid port in \"" + std::string(whole) +
                                "\": expected a number from 1 to 65535");
  }
  return static_cast<uint16_t>(v);
}

bool valid_host_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_';
}

}  // namespace

HostPort parse_host_port(std::string_view s, uint16_t default_port) {
  HostPort hp{std::string(), default_port};
  if (s.empty()) throw std::invalid_argument("empty address: expected host or host:port");
  if (s.front() == '[') {
    size_t close = s.find(']');
    if (close == std::string_view::npos) {
      throw std::invalid_argument("missing ']' in \"" + std::string(s) + "\"");
    }
    hp.host = std::string(s.substr(1, close - 1));
    std::string_view rest = s.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        throw std::invalid_argument("unexpected text after ']' in \"" + std::string(s) + "\"");
      }
      hp.port = parse_port(rest.substr(1), s);
    }
    in6_addr a6;
    if (inet_pton(AF_INET6, hp.host.c_str(), &a6) != 1) {
      throw std::invalid_argument("\"" + hp.host + "\" is not an IPv6 address");
    }
    return hp;
  }
  size_t first = s.find(':');
  if (first != std::string_view::npos && s.find(':', first + 1) != std::string_view::npos) {
    // More than one colon and no brackets: only a bare IPv6 literal makes sense.
    hp.host = std::string(s);
    in6_addr a6;
    if (inet_pton(AF_INET6, hp.host.c_str(), &a6) != 1) {
      throw std::invalid_argument(
          "\"" + hp.host + "\" is not a valid address; write IPv6 with a port as [addr]:port");
    }
    return hp;
  }
  hp.host = std::string(s.substr(0, first));
  if (first != std::string_view::npos) hp.port = parse_port(s.substr(first + 1), s);
  if (hp.host.empty()) throw std::invalid_argument("missing host in \"" + std::string(s) + "\"");
  // Also keeps a peer from being mistaken for an option on the router's command line.
  if (hp.host.front() == '-' || hp.host.front() == '.') {
    throw std::invalid_argument("host \"" + hp.host + "\" cannot start with '" + hp.host.front() +
                                "'");
  }
  for (char c : hp.host) {
    if (!valid_host_char(c)) {
      throw std::invalid_argument("invalid character in host \"" + hp.host + "\"");
    }
  }
  return hp;
}

std::string format_host_port(const HostPort& hp) {
  if (hp.host.find(':') != std::string::npos) {
    return "[" + hp.host + "]:" + std::to_string(hp.port);
  }
  return hp.host + ":" + std::to_string(hp.port);
}

bool is_ip_literal(const std::string& host) {
  in_addr a4;
  in6_addr a6;
  return inet_pton(AF_INET, host.c_str(), &a4) == 1 || inet_pton(AF_INET6, host.c_str(), &a6) == 1;
}

bool is_loopback_literal(const std::string& host) {
  in_addr a4;
  if (inet_pton(AF_INET, host.c_str(), &a4) == 1) {
    return (ntohl(a4.s_addr) >> 24) == 127;
  }
  in6_addr a6;
  if (inet_pton(AF_INET6, host.c_str(), &a6) == 1) {
    return std::memcmp(&a6, &in6addr_loopback, sizeof a6) == 0;
  }
  return false;
}

}  // namespace weft
