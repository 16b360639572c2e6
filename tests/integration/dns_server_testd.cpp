// A DnsServer alone, for tests/integration/test_dns_server.sh: the adapter with a zone from the
// command line, without the router around it. Serves DNS on --listen and GET /dns/lookup and
// /metrics on --http (loopback) and, with --api-socket, on a unix socket where the `weft` CLI
// finds it (DATADIR/api.sock), with in-memory stand-ins of POST /dns/add and /dns/remove (the
// router's own keep hand-added records in its cluster state). Prints "ready ADDR" once
// listening; runs until SIGTERM.
//
//   dns_server_testd --listen 127.0.0.1:53 --http 127.0.0.1:PORT [--api-socket PATH]
//       [--upstream A[:P]]... [--resolv-conf FILE] [--poll-ms N]
//       [--record NAME=IP[,IP...]]... [--many NAME=COUNT]
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <cstdio>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "common/ipv4_cidr.h"
#include "dns/zone.h"
#include "router/api/http_server.h"
#include "router/os/dns_server.h"

int main(int argc, char** argv) {
  using namespace weft;
  DnsServerConfig cfg;
  cfg.upstreams.clear();
  std::string http = "127.0.0.1:0", api_socket;
  dns::DnsZone zone;
  int n = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--listen")
      cfg.listen = v;
    else if (k == "--http")
      http = v;
    else if (k == "--api-socket")
      api_socket = v;
    else if (k == "--upstream")
      cfg.upstreams.push_back(v);
    else if (k == "--resolv-conf")
      cfg.resolv_conf = v;
    else if (k == "--poll-ms")
      cfg.resolv_conf_poll_ms = std::stoll(v);
    else if (k == "--record" || k == "--many") {
      size_t eq = v.find('=');
      std::string name = v.substr(0, eq), rest = v.substr(eq + 1);
      std::vector<uint32_t> ips;
      if (k == "--many") {
        for (int j = 1; j <= std::stoi(rest); ++j) ips.push_back(*parse_ipv4("10.40.0.0") + j);
      } else {
        for (size_t p = 0; p <= rest.size();) {
          size_t c = rest.find(',', p);
          if (c == std::string::npos) c = rest.size();
          ips.push_back(*parse_ipv4(rest.substr(p, c - p)));
          p = c + 1;
        }
      }
      zone.upsert("test:" + std::to_string(n++), name, ips);
    } else {
      std::cerr << "unknown option " << k << "\n";
      return 2;
    }
  }
  // What the router does with /dns/add and /dns/remove, minus gossip and persistence: one zone
  // entry per hand-added name, keyed "manual:NAME".
  std::map<std::string, std::set<uint32_t>> manual;
  auto hand_added = [&](const HttpRequest& r) -> HttpResponse {
    using nlohmann::json;
    try {
      json j = json::parse(r.body);
      std::string name = zone.relative_name(j.at("name").get<std::string>());
      std::vector<uint32_t> want;
      for (const auto& ip : j.at("ips")) want.push_back(parse_ipv4(ip.get<std::string>()).value());
      std::set<uint32_t> now = manual[name];
      for (uint32_t a : want) {
        if (r.path == "/dns/add")
          now.insert(a);
        else
          now.erase(a);
      }
      if (now.empty())
        zone.remove("manual:" + name);
      else
        zone.upsert("manual:" + name, name, {now.begin(), now.end()});
      manual[name] = now;
      return {200, "application/json", json{{"name", name}}.dump()};
    } catch (const std::exception& e) {
      return {400, "application/json", json{{"error", e.what()}}.dump()};
    }
  };
  boost::asio::io_context io;
  DnsServer server(io, cfg, zone);
  HttpServer api(io, [&](const HttpRequest& r, HttpResponder respond) {
    if (r.path == "/metrics") return respond({200, "text/plain", server.metrics_text()});
    if (r.method == "POST" && (r.path == "/dns/add" || r.path == "/dns/remove"))
      return respond(hand_added(r));
    if (r.path.starts_with("/dns/")) return server.handle(r, std::move(respond));
    respond({404, "application/json", "{}"});
  });
  try {
    server.start();
    api.listen_tcp(http);
    if (!api_socket.empty()) api.listen_unix(api_socket);
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
  boost::asio::signal_set stop(io, SIGTERM, SIGINT);
  stop.async_wait([&](const boost::system::error_code&, int) {
    server.stop();
    api.stop();
    io.stop();
  });
  std::cout << "ready " << server.listen_address() << " http " << api.tcp_address() << std::endl;
  io.run();
  return 0;
}
