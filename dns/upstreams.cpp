#include "dns/upstreams.h"

#include <algorithm>
#include <charconv>

#include "common/ipv4_cidr.h"

namespace weft::dns {

std::string Upstream::to_string() const {
  return format_ipv4(ip) + ":" + std::to_string(port);
}

std::optional<Upstream> parse_upstream(std::string_view text) {
  Upstream u;
  size_t colon = text.find(':');
  if (colon != std::string_view::npos) {
    if (text.find(':', colon + 1) != std::string_view::npos) return std::nullopt;  // IPv6
    std::string_view p = text.substr(colon + 1);
    unsigned port = 0;
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
    if (ec != std::errc() || end != p.data() + p.size() || port == 0 || port > 65535)
      return std::nullopt;
    u.port = uint16_t(port);
    text = text.substr(0, colon);
  }
  auto ip = parse_ipv4(text);
  if (!ip) return std::nullopt;
  u.ip = *ip;
  return u;
}

ResolvConf parse_resolv_conf(std::string_view text) {
  ResolvConf rc;
  auto words = [](std::string_view line) {
    std::vector<std::string> out;
    size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
      size_t j = i;
      while (j < line.size() && line[j] != ' ' && line[j] != '\t' && line[j] != '\r') ++j;
      if (j > i) out.emplace_back(line.substr(i, j - i));
      i = j;
    }
    return out;
  };
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? nl : nl - pos);
    pos = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
    auto w = words(line);
    if (w.empty() || w[0][0] == '#' || w[0][0] == ';') continue;
    if (w[0] == "nameserver" && w.size() >= 2) rc.nameservers.push_back(w[1]);
    if ((w[0] == "search" || w[0] == "domain") && w.size() >= 2)
      rc.search.assign(w.begin() + 1, w.end());
  }
  return rc;
}

std::vector<std::string> workload_search(std::string_view ns, std::string_view domain) {
  std::string d(domain);
  if (!d.empty() && d.back() == '.') d.pop_back();
  if (ns.empty() || ns == "default") return {d};
  return {std::string(ns) + "." + d, d};
}

std::string workload_resolv_conf(uint32_t nameserver, std::string_view ns,
                                 std::string_view domain) {
  std::string search;
  for (const std::string& s : workload_search(ns, domain))
    search += (search.empty() ? "" : " ") + s;
  return "# written by weft attach: names of the cluster resolve through the weft router\n"
         "nameserver " +
         format_ipv4(nameserver) + "\nsearch " + search + "\noptions " + kWorkloadResolverOptions +
         "\n";
}

UpstreamChoice choose_upstreams(const std::vector<std::string>& candidates,
                                const std::vector<Upstream>& own) {
  UpstreamChoice c;
  for (const std::string& s : candidates) {
    auto u = parse_upstream(s);
    if (!u) {
      c.skipped.push_back(s + ": not an IPv4 address (weft forwards over IPv4 only)");
      continue;
    }
    if (std::find(own.begin(), own.end(), *u) != own.end()) {
      c.skipped.push_back(u->to_string() + ": a weft DNS server itself (forwarding would loop)");
      continue;
    }
    if (std::find(c.upstreams.begin(), c.upstreams.end(), *u) == c.upstreams.end())
      c.upstreams.push_back(*u);
  }
  return c;
}

}  // namespace weft::dns
