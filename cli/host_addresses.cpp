#include "cli/host_addresses.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>

#include <algorithm>

namespace weft::cli {

std::vector<std::string> host_ipv4_addresses() {
  std::vector<std::string> out;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return out;
  for (ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET) continue;
    if (!(i->ifa_flags & IFF_UP) || (i->ifa_flags & IFF_LOOPBACK)) continue;
    const auto* sin = reinterpret_cast<const sockaddr_in*>(i->ifa_addr);
    uint32_t a = ntohl(sin->sin_addr.s_addr);
    if ((a >> 24) == 127 || (a >> 16) == 0xa9fe) continue;  // loopback, 169.254/16
    char buf[INET_ADDRSTRLEN];
    if (!::inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof buf)) continue;
    if (std::find(out.begin(), out.end(), buf) == out.end()) out.emplace_back(buf);
  }
  ::freeifaddrs(list);
  return out;
}

}  // namespace weft::cli
