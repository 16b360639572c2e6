// weft-router: the per-host mesh router. Started by `weft launch`; see README.md.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>

#include "common/atomic_file.h"
#include "common/ipv4_cidr.h"
#include "common/overlay.h"
#include "common/pid_file.h"
#include "router/crypto/cluster_key.h"
#include "router/identity/identity.h"
#include "router/os/router_daemon.h"

using namespace weft;

int main(int argc, char** argv) {
  CLI::App app{"weft-router: the weft mesh router (normally started by `weft launch`)"};
  std::string datadir = "/var/lib/weft", name, nickname, http_addr;
  uint16_t port = 6783;
  bool no_encryption = false, no_discovery = false, debug = false, no_dns = false;
  std::vector<std::string> peers;
  std::string capture = "tap", bridge = "weft";
  int mtu = 0;
  std::string ipalloc_range = kDefaultOverlayRange, ipalloc_init, cluster_name;
  app.add_option("--capture", capture, "Capture backend: tap (fast) or pcap (reference)")
      ->check(CLI::IsMember({"tap", "pcap"}))
      ->capture_default_str();
  app.add_option("--bridge", bridge, "Bridge the workloads are on")->capture_default_str();
  app.add_option("--mtu", mtu, "Overlay MTU (default: the underlay's minus weft's overhead)")
      ->check(CLI::Range(576, 65000));
  app.add_option("--ipalloc-range", ipalloc_range, "Overlay address range for IPAM")
      ->capture_default_str();
  app.add_option("--ipalloc-init", ipalloc_init,
                 "IPAM bootstrap: consensus=N, seed=NAME,NAME... or observer; default: "
                 "consensus=(1 + the number of peers given)");
  app.add_option("--datadir", datadir, "Data directory")->capture_default_str();
  app.add_option("--name", name, "Peer name (six hex bytes); default: generated once");
  app.add_option("--nickname", nickname, "Human-friendly name; default: the hostname");
  app.add_option("--port", port, "TCP port for control connections")->capture_default_str();
  app.add_option(
         "--http-addr", http_addr,
         "Loopback address of a read-only HTTP API (default: none; DATADIR/api.sock always)")
      ->capture_default_str();
  app.add_flag("--no-encryption", no_encryption, "Run without encryption (not recommended)");
  app.add_flag("--no-discovery", no_discovery, "Connect only to the given targets");
  app.add_option("--cluster-name", cluster_name,
                 "Salts the stretching of the cluster secret; the same on every host "
                 "(default: none, the fixed salt)");
  DnsModuleConfig dns;
  app.add_flag("--no-dns", no_dns, "Do not serve DNS (names are still kept for /dns/lookup)");
  app.add_option("--dns-listen", dns.listen,
                 "DNS address ADDR[:PORT] (default: the bridge's IPv4 address, port 53, "
                 "followed as it changes)");
  app.add_option("--dns-domain", dns.domain, "The cluster's DNS domain")->capture_default_str();
  app.add_option("--dns-ttl", dns.ttl_s, "TTL of DNS answers, seconds")
      ->check(CLI::Range(0, 86400))
      ->capture_default_str();
  app.add_option("--dns-upstream", dns.upstreams,
                 "Upstream DNS server ADDR[:PORT], repeatable (default: resolv.conf's)")
      ->allow_extra_args(false);  // one value each time: PEER... may follow
  app.add_flag("--debug", debug, "Verbose logging");
  app.add_option("peers", peers, "Peers to connect to (host[:port])");
  CLI11_PARSE(app, argc, argv);

  spdlog::set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ %v");
  spdlog::set_level(debug ? spdlog::level::debug : spdlog::level::info);
  spdlog::flush_on(spdlog::level::info);

  try {
    // The pid file is locked for the process's life: a second router on this data dir fails here.
    PidFile pidfile(datadir + "/router.pid", "weft router on " + datadir);

    Identity id = load_or_create_identity(
        datadir, name.empty() ? std::nullopt : std::optional<std::string>(name),
        nickname.empty() ? std::nullopt : std::optional<std::string>(nickname));
    RouterOptions o;
    o.datadir = datadir;
    o.self.name = id.name;
    o.self.nickname = id.nickname;
    o.self.port = port;
    o.self.incarnation =
        static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count());
    o.encryption = !no_encryption;
    o.discovery = !no_discovery;
    o.http_addr = http_addr;
    o.peers = peers;
    o.capture = capture == "pcap" ? CaptureBackend::kPcap : CaptureBackend::kTap;
    o.bridge = bridge;
    o.mtu = mtu;
    try {
      o.ipalloc_range = parse_ipv4_cidr(ipalloc_range);
      if (o.ipalloc_range.addr != o.ipalloc_range.network() || o.ipalloc_range.prefix < 1 ||
          o.ipalloc_range.prefix > 30)
        throw std::invalid_argument("give a network address with a prefix from /1 to /30");
      o.ipalloc_init = ipalloc_init.empty()
                           ? ipam::parse_init_mode("consensus=" + std::to_string(peers.size() + 1))
                           : ipam::parse_init_mode(ipalloc_init);
    } catch (const std::invalid_argument& e) {
      throw std::runtime_error("--ipalloc-range/--ipalloc-init: " + std::string(e.what()));
    }
    o.started_unix_ms = o.self.incarnation;
    dns.enabled = !no_dns;
    try {
      dns::DnsZone check(dns.domain);
    } catch (const std::invalid_argument& e) {
      throw std::runtime_error("--dns-domain: " + std::string(e.what()));
    }
    o.dns = dns;
    if (o.encryption) {
      auto secret = read_file(datadir + "/secret");
      if (!secret || secret->empty())
        throw std::runtime_error("no cluster secret in " + datadir +
                                 "/secret; start the router with `weft launch`, which creates it");
      o.psk = derive_cluster_key(*secret, cluster_name);
    }
    RouterDaemon daemon(std::move(o));
    daemon.run();
    return 0;
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return 1;
  }
}
