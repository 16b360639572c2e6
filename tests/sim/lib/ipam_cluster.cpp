#include "tests/sim/lib/ipam_cluster.h"

#include <algorithm>
#include <cstdlib>
#include <iostream>

namespace weft::sim {

const ipam::Allocations& MemStore::allocations() const {
  static const ipam::Allocations none;
  return saved ? saved->allocations : none;
}

std::vector<ipam::PeerInfo> SimIpamEnv::peers() {
  std::vector<ipam::PeerInfo> out;
  const Topology& t = net->core(index).topology();
  for (const auto& [name, r] : t.records()) out.push_back({name, r.nickname, t.reachable(name)});
  return out;
}

void SimIpamEnv::log(ipam::Severity s, const std::string& m) {
  if (std::getenv("WEFT_SIM_IPAM_LOG"))
    std::cerr << net->now() << " peer " << index << ": " << m << "\n";
  if (s == ipam::Severity::kError && errors) errors->push_back(m);
}

namespace {

// Runs `after` when the scope ends, also when the core threw (a rejected message).
struct AfterStep {
  const std::function<void()>& after;
  ~AfterStep() {
    if (after) after();
  }
};

}  // namespace

void SteppedChannel::on_neighbor(PeerName from, ByteView payload, int64_t now_ms) {
  AfterStep a{after};
  core->on_neighbor(from, payload, now_ms);
}
void SteppedChannel::on_unicast(PeerName src, ByteView payload, int64_t now_ms) {
  AfterStep a{after};
  core->on_unicast(src, payload, now_ms);
}
bool SteppedChannel::on_broadcast(PeerName src, PeerName from, ByteView payload, int64_t now_ms) {
  AfterStep a{after};
  return core->on_broadcast(src, from, payload, now_ms);
}
void SteppedChannel::on_neighbor_up(PeerName peer, int64_t now_ms) {
  AfterStep a{after};
  core->on_neighbor_up(peer, now_ms);
}
void SteppedChannel::on_gossip_tick(PeerName neighbor, int64_t now_ms) {
  AfterStep a{after};
  core->on_gossip_tick(neighbor, now_ms);
}

void IpamCluster::attach_ipam(int i, uint64_t started_unix_ms) {
  if (static_cast<int>(stores.size()) <= i) {
    stores.resize(i + 1);
    envs.resize(i + 1);
    ipam.resize(i + 1);
    channels.resize(i + 1);
  }
  if (!stores[i]) stores[i] = std::make_unique<MemStore>();
  envs[i] = std::make_unique<SimIpamEnv>();
  envs[i]->net = &net;
  envs[i]->index = i;
  envs[i]->errors = &errors;
  ipam::IpamConfig c = config_template;
  c.self = net.name(i);
  c.range = range;
  c.init = init;
  c.started_unix_ms = started_unix_ms;
  ipam[i] =
      std::make_unique<ipam::IpamCore>(c, net.core(i), *envs[i], *stores[i], stores[i]->load());
  channels[i] = std::make_unique<SteppedChannel>();
  channels[i]->core = ipam[i].get();
  channels[i]->after = [this, i] {
    if (stepped) stepped(i);
  };
  net.core(i).register_channel(ipam::IpamCore::kChannel, channels[i].get());
  ipam[i]->start(net.now());
  if (stepped) stepped(i);
}

int IpamCluster::add(const std::vector<int>& targets) {
  int i = net.add_peer(targets);
  attach_ipam(i, 1000 + static_cast<uint64_t>(i));
  return i;
}

void IpamCluster::crash(int i) {
  net.crash_peer(i);
  ipam[i].reset();
  channels[i].reset();
  if (stepped) stepped(i);
}

void IpamCluster::restart(int i, const std::vector<int>& targets) {
  net.restart_peer(i, targets);
  attach_ipam(i, 1000000 + static_cast<uint64_t>(net.now()));
}

void IpamCluster::run(int64_t ms) {
  int64_t end = net.now() + ms;
  while (net.now() < end) {
    net.run_for(std::min<int64_t>(10, end - net.now()));
    for (size_t i = 0; i < ipam.size(); ++i) {
      if (!ipam[i] || ipam[i]->next_deadline() > net.now()) continue;
      ipam[i]->on_timer(net.now());
      if (timer_fired) timer_fired(static_cast<int>(i));
      if (stepped) stepped(static_cast<int>(i));
    }
  }
}

bool IpamCluster::run_until(const std::function<bool()>& pred, int64_t max_ms, int64_t check_ms) {
  int64_t end = net.now() + max_ms;
  while (net.now() < end) {
    if (pred()) return true;
    run(std::min(check_ms, end - net.now()));
  }
  return pred();
}

std::vector<int> IpamCluster::live() const {
  std::vector<int> out;
  for (int i = 0; i < static_cast<int>(ipam.size()); ++i)
    if (ipam[i]) out.push_back(i);
  return out;
}

bool IpamCluster::rings_agree() const {
  std::optional<uint64_t> d;
  for (int i : live()) {
    if (ipam[i]->ring().empty()) return false;
    uint64_t x = ipam[i]->ring().digest();
    if (d && *d != x) return false;
    d = x;
  }
  return true;
}

}  // namespace weft::sim
