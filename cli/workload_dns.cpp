#include "cli/workload_dns.h"

#include <chrono>
#include <filesystem>
#include <optional>
#include <thread>

#include "cli/expose.h"
#include "hostnet/host_net.h"
#include "cli/router_api.h"
#include "common/atomic_file.h"
#include "dns/upstreams.h"

namespace weft::cli {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// dns::workload_resolv_conf's first line: a file that starts so is ours to replace and remove.
constexpr const char* kMarker = "# written by weft attach";
constexpr auto kBindWait = std::chrono::seconds(3);

bool written_by_weft(const std::string& path) {
  auto text = read_file(path);
  return text && text->starts_with(kMarker);
}

// The router's DNS address once it serves on `ip` (it polls the bridge), or "" after kBindWait.
std::string wait_listening(const Context& ctx, uint32_t ip) {
  const std::string want = format_ipv4(ip) + ":53";
  const auto deadline = std::chrono::steady_clock::now() + kBindWait;
  for (;;) {
    std::optional<json> st;
    try {
      st = try_get_json(ctx, "/dns/status");
    } catch (const CliError&) {  // a slow answer: try again until the deadline
    }
    if (st && st->value("listen", "") == want) return want;
    if (std::chrono::steady_clock::now() >= deadline) return "";
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

// Where workloads send queries: the router's DNS address as a nameserver IP, or throws
// CliError saying why there is none.
uint32_t router_nameserver(const Context& ctx, const json& st, const Ipv4Cidr& range) {
  std::string listen = st.value("listen", "");
  if (listen.empty() && st.value("follows_bridge", false)) {
    // No address on the bridge yet: give the host one (attach is when IPAM surely works).
    Ipv4Cidr a = ensure_host_exposed(ctx, range);
    listen = wait_listening(ctx, a.addr);
    if (listen.empty())
      throw CliError("the router does not serve DNS on " + a.address() + " yet (its log says why)");
  }
  auto u = dns::parse_upstream(listen);
  if (!u) throw CliError("the router serves no DNS (its log says why)");
  if (u->port != 53)
    throw CliError("the router serves DNS on port " + std::to_string(u->port) +
                   ", which resolv.conf cannot name (launch with --dns-listen ADDR for port 53)");
  if (u->ip == 0) {  // the wildcard: the host's overlay address reaches it
    auto have = bridge_addresses();
    if (have.empty())
      throw CliError(
          "the router serves DNS on every address, but this host has none on the "
          "overlay (`weft expose` gives it one)");
    return have.front().addr;
  }
  if ((u->ip >> 24) == 127)
    throw CliError("the router serves DNS on " + listen +
                   ", a loopback address workloads cannot reach (see --dns-listen)");
  return u->ip;
}

}  // namespace

std::string workload_resolv_conf_path(const std::string& netns) {
  return "/etc/netns/" + netns + "/resolv.conf";
}

std::string configure_workload_dns(const Context& ctx, const NetnsRef& ns,
                                   const std::string& k8s_ns, const Ipv4Cidr& range) {
  std::optional<json> st;
  try {
    st = try_get_json(ctx, "/dns/status");
  } catch (const CliError&) {  // a router without DNS (older than this weft): nothing to do
  }
  if (!st || !st->value("enabled", false)) return "";
  const std::string domain = st->value("domain", "weft.local.");
  uint32_t server = 0;
  try {
    server = router_nameserver(ctx, *st, range);
  } catch (const CliError& e) {
    return std::string(" No DNS config was written: ") + e.what() + ".";
  }
  std::string conf = dns::workload_resolv_conf(server, k8s_ns, domain);
  if (ns.pid > 0) {
    std::string lines;  // the file without its comment, one "; " between lines
    for (size_t at = 0, nl; at < conf.size(); at = nl + 1) {
      nl = conf.find('\n', at);
      if (nl == std::string::npos) nl = conf.size();
      std::string line = conf.substr(at, nl - at);
      if (!line.starts_with("#")) lines += (lines.empty() ? "" : "; ") + line;
    }
    return " For names, give the process this resolv.conf (weft does not change files of --pid "
           "workloads): " +
           lines + ".";
  }
  const std::string path = workload_resolv_conf_path(ns.name);
  std::error_code ec;
  if (fs::exists(path, ec) && !written_by_weft(path))
    return " " + path + " exists and was not written by weft: it was left as it is (for weft " +
           "names, make it say nameserver " + format_ipv4(server) + ").";
  try {
    fs::create_directories(fs::path(path).parent_path());
    write_file_atomic(path, conf, 0644);
  } catch (const std::exception& e) {
    return std::string(" No DNS config was written: ") + e.what() + ".";
  }
  return " DNS: nameserver " + format_ipv4(server) + " in " + path + ".";
}

void remove_workload_dns(const NetnsRef& ns) {
  if (ns.pid > 0 || ns.name.empty()) return;
  const std::string path = workload_resolv_conf_path(ns.name);
  if (!written_by_weft(path)) return;
  std::error_code ec;
  fs::remove(path, ec);
  fs::remove(fs::path(path).parent_path(), ec);  // only when empty
}

}  // namespace weft::cli
