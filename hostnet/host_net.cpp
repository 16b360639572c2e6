#include "hostnet/host_net.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <random>
#include <thread>
#include <utility>

#include "common/arp.h"

namespace weft {

using nlohmann::json;

namespace {

// Closes on every path out.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

std::string errno_text(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

// Writes `value` to /proc/sys/net/ipv6/conf/IFNAME/KEY. A missing file means IPv6 is off (on the
// host, or on this interface because its MTU is below IPv6's 1280): nothing to switch off.
std::string write_ipv6_conf(const std::string& ifname, const char* key, const char* value) {
  std::string path = "/proc/sys/net/ipv6/conf/" + ifname + "/" + key;
  Fd f{::open(path.c_str(), O_WRONLY | O_CLOEXEC)};
  if (f.fd < 0) return errno == ENOENT ? "" : errno_text("cannot open " + path);
  if (::write(f.fd, value, std::strlen(value)) < 0) return errno_text("cannot write " + path);
  return "";
}

}  // namespace

ProgramResult ip(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"ip"};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_program(argv);
}

ProgramResult ip_in(const std::string& netns_path, const std::vector<std::string>& args) {
  if (netns_path.empty()) return ip(args);
  std::vector<std::string> argv{"nsenter", "--net=" + netns_path, "ip"};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_program(argv);
}

void must(const ProgramResult& r, const std::string& what, const std::string& next) {
  if (r.ok()) return;
  std::string why = first_line(r.err);
  if (why.empty()) why = "exit status " + std::to_string(r.status);
  throw HostNetError("cannot " + what + ": " + why + ". " + next);
}

std::optional<json> link_info(const std::string& ifname, const std::string& netns_path) {
  ProgramResult r = ip_in(netns_path, {"-j", "-d", "link", "show", "dev", ifname});
  if (!r.ok()) {
    if (r.err.find("does not exist") != std::string::npos ||
        r.err.find("Cannot find device") != std::string::npos) {
      return std::nullopt;
    }
    must(r, "look up the interface " + ifname, "Run the command as root.");
  }
  json j = json::parse(r.out, nullptr, false);
  if (!j.is_array() || j.empty() || !j[0].is_object()) return std::nullopt;
  return j[0];
}

std::string in_netns(const std::string& netns_path, const std::function<std::string()>& fn) {
  // A network namespace is a per-thread attribute: a thread of its own joins it and ends with
  // it, so neither this process's other threads nor its caller ever change namespace.
  std::string msg;
  std::thread t([&] {
    Fd ns{::open(netns_path.c_str(), O_RDONLY | O_CLOEXEC)};
    if (ns.fd < 0) {
      msg = errno_text("cannot open " + netns_path);
    } else if (::setns(ns.fd, CLONE_NEWNET) != 0) {
      msg = errno_text("cannot enter the network namespace " + netns_path);
    } else {
      try {
        msg = fn();
      } catch (const std::exception& e) {
        msg = e.what();
        if (msg.empty()) msg = "failed in " + netns_path;
      }
    }
  });
  t.join();
  return msg;
}

NetnsCheck check_netns(const std::string& path, uint64_t* inode) {
  constexpr long kNsfsMagic = 0x6e736673;  // NSFS_MAGIC: the file system of namespace handles
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return errno == ENOENT || errno == ENOTDIR ? NetnsCheck::kMissing : NetnsCheck::kNoAccess;
  }
  struct statfs fs;
  if (::statfs(path.c_str(), &fs) != 0 || static_cast<long>(fs.f_type) != kNsfsMagic) {
    return NetnsCheck::kNotNetns;
  }
  if (inode) *inode = st.st_ino;
  return NetnsCheck::kOk;
}

std::string disable_ipv6_autoconf(const std::string& ifname, bool no_link_local) {
  for (const char* key : {"accept_ra", "autoconf"}) {
    if (auto e = write_ipv6_conf(ifname, key, "0"); !e.empty()) return e;
  }
  return no_link_local ? write_ipv6_conf(ifname, "addr_gen_mode", "1") : "";
}

std::string send_gratuitous_arps(const std::string& ifname, const std::vector<uint32_t>& ips) {
  Fd s{::socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_ARP))};
  if (s.fd < 0) return errno_text("cannot open a packet socket");
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
  if (::ioctl(s.fd, SIOCGIFINDEX, &ifr) != 0) return errno_text("cannot find " + ifname);
  int index = ifr.ifr_ifindex;
  if (::ioctl(s.fd, SIOCGIFHWADDR, &ifr) != 0)
    return errno_text("cannot read the MAC of " + ifname);
  std::array<uint8_t, 6> mac;
  std::memcpy(mac.data(), ifr.ifr_hwaddr.sa_data, mac.size());
  sockaddr_ll to{};
  to.sll_family = AF_PACKET;
  to.sll_protocol = htons(ETH_P_ARP);
  to.sll_ifindex = index;
  to.sll_halen = 6;
  std::memset(to.sll_addr, 0xff, 6);
  for (uint32_t ip4 : ips) {
    auto packet = gratuitous_arp(mac, ip4);
    if (::sendto(s.fd, packet.data(), packet.size(), 0, reinterpret_cast<sockaddr*>(&to),
                 sizeof to) < 0) {
      return errno_text("cannot send a gratuitous ARP for " + format_ipv4(ip4) + " on " + ifname);
    }
  }
  return "";
}

bool wait_port_forwarding(const std::string& ifname, int limit_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(limit_ms);
  for (;;) {
    auto info = link_info(ifname);
    if (info && info->contains("linkinfo")) {
      const json& li = (*info)["linkinfo"];
      if (li.contains("info_slave_data") &&
          li["info_slave_data"].value("state", "") == "forwarding") {
        return true;
      }
    }
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

UnderlayMtu detect_underlay_mtu() {
  ProgramResult links = ip({"-j", "link", "show"});
  must(links, "list this host's interfaces", "Is iproute2 installed?");
  std::optional<std::string> dev;
  for (const char* family : {"-4", "-6"}) {
    ProgramResult routes = ip({family, "-j", "route", "show", "default"});
    if (routes.ok()) dev = default_route_dev(json::parse(routes.out, nullptr, false));
    if (dev) break;
  }
  return choose_underlay_mtu(links_from_ip_json(json::parse(links.out, nullptr, false)), dev);
}

bool bridge_exists() {
  return link_info(kBridgeName).has_value();
}

bool ensure_bridge(int mtu) {
  const std::string br = kBridgeName;
  auto info = link_info(br);
  bool created = false;
  if (info) {
    std::string kind;
    if (info->contains("linkinfo")) kind = (*info)["linkinfo"].value("info_kind", "");
    if (kind != "bridge") {
      throw HostNetError("an interface named " + br + " exists on this host and is not a bridge (" +
                         (kind.empty() ? "no kind" : "kind " + kind) +
                         "); weft needs that name for its bridge. Remove it (`ip link del " + br +
                         "`), then run `weft launch` again.");
    }
  } else {
    must(ip({"link", "add", br, "type", "bridge", "forward_delay", "0"}), "create the bridge " + br,
         "Run `weft launch` as root.");
    created = true;
  }
  try {
    std::string e = disable_ipv6_autoconf(br, true);
    if (!e.empty()) {
      throw HostNetError("cannot turn off IPv6 router advertisements on the bridge " + br + ": " +
                         e + ". Run `weft launch` as root.");
    }
    // Set explicitly (not at creation) so the bridge keeps it when ports come and go.
    if (created || info->value("mtu", 0) != mtu) {
      must(ip({"link", "set", "dev", br, "mtu", std::to_string(mtu)}),
           "set the MTU of the bridge " + br + " to " + std::to_string(mtu),
           "Choose another with `weft launch --mtu N`.");
    }
    must(ip({"link", "set", "dev", br, "up"}), "bring the bridge " + br + " up",
         "Run `weft launch` as root.");
  } catch (const HostNetError&) {
    if (created) ip({"link", "del", br});  // leave nothing half-configured
    throw;
  }
  return created;
}

std::vector<Ipv4Cidr> bridge_addresses() {
  std::vector<Ipv4Cidr> out;
  ProgramResult r = ip({"-j", "-4", "addr", "show", "dev", kBridgeName});
  if (!r.ok()) return out;
  json j = json::parse(r.out, nullptr, false);
  if (!j.is_array()) return out;
  for (const auto& l : j) {
    if (!l.is_object() || !l.contains("addr_info") || !l["addr_info"].is_array()) continue;
    for (const auto& a : l["addr_info"]) {
      if (!a.is_object() || !a.contains("local") || !a["local"].is_string() ||
          !a.contains("prefixlen") || !a["prefixlen"].is_number_integer()) {
        continue;
      }
      if (auto addr = parse_ipv4(a["local"].get<std::string>())) {
        out.push_back({*addr, a["prefixlen"].get<int>()});
      }
    }
  }
  return out;
}

std::vector<std::string> weft_ports() {
  std::vector<std::string> out;
  ProgramResult r = ip({"-j", "link", "show"});
  must(r, "list this host's interfaces", "Run the command as root.");
  json j = json::parse(r.out, nullptr, false);
  if (!j.is_array()) return out;
  for (const auto& l : j) {
    if (!l.is_object() || !l.contains("ifname") || !l["ifname"].is_string()) continue;
    std::string name = l["ifname"].get<std::string>();
    if (name != kBridgeName && is_weft_interface(name)) out.push_back(name);
  }
  return out;
}

std::string new_veth_name() {
  std::random_device rd;
  for (int attempt = 0; attempt < 16; ++attempt) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%08x", static_cast<unsigned>(rd()));
    std::string name = std::string(kHostVethPrefix) + buf;
    if (!link_info(name)) return name;
  }
  throw HostNetError(
      "cannot find an unused interface name vethweXXXXXXXX on this host; remove "
      "leftover ones (`ip link show type veth`) and try again.");
}

}  // namespace weft
