// DataplaneCore (router/dataplane/dataplane_core.h) without sockets: two or three cores wired
// together in memory. Gossip (the "dataplane" hello), UDP datagrams and control-connection
// fallback batches are queued and delivered by the test, so each side handles one event at a
// time as the event loop would. Keys are fixed per direction, as a control handshake would
// export them. Covers the hello and session setup, frames crossing over the fallback path until
// UDP is proven and over UDP after, falling back when UDP stops, everything a stranger or a
// replayer can put on the UDP port, endpoint moves (NAT rebinding), relaying through a middle
// peer, sessions ending with the control connection, and TSO super-frames leaving as segments.
#include <doctest/doctest.h>

#include <algorithm>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "router/dataplane/data_session.h"
#include "router/dataplane/dataplane_core.h"
#include "router/dataplane/frame_batch.h"
#include "router/dataplane/gso.h"
#include "tests/unit/support/gso_test_frames.h"

using weft::Bytes;
using weft::ByteView;
using weft::DataplaneCore;
using weft::DecodeError;
using weft::Mac;
using weft::PeerName;
using weft::UdpEndpoint;
using weft::VnetHdr;
using weft::test::vnet_tso4;

using weft::test::vnet_tso4;

namespace {

Mac mac(uint64_t v) {
  return Mac::from_u64(0x020000000000ull | v);
}

Bytes ether(const Mac& dst, const Mac& src, uint16_t type = 0x0800, size_t payload = 46,
            uint8_t salt = 0) {
  Bytes f(14 + payload);
  std::copy(dst.b.begin(), dst.b.end(), f.begin());
  std::copy(src.b.begin(), src.b.end(), f.begin() + 6);
  f[12] = static_cast<uint8_t>(type >> 8);
  f[13] = static_cast<uint8_t>(type);
  for (size_t i = 0; i < payload; ++i) f[14 + i] = static_cast<uint8_t>(i + salt);
  return f;
}

const Bytes kZeroVnet(10, 0);

// The key `from` seals with towards `to` (and `to` opens with) on their `gen`th connection.
weft::noise::Key key_for(PeerName from, PeerName to, int gen = 0) {
  weft::noise::Key k;
  for (size_t i = 0; i < k.size(); ++i)
    k[i] = static_cast<uint8_t>(from * 16 + to + i * 3 + gen * 101);
  return k;
}

UdpEndpoint endpoint(const std::string& ip, uint16_t port) {
  auto e = weft::parse_udp_endpoint(ip, port);
  REQUIRE(e);
  return *e;
}

// Routes along a line of peers: next hop towards each, and the broadcast tree of each source
// (away from the source in both directions).
struct LineRoutes : weft::ForwardingRoutes {
  std::vector<PeerName> line;
  size_t me = 0;
  size_t pos(PeerName p) const {
    auto it = std::find(line.begin(), line.end(), p);
    REQUIRE(it != line.end());
    return static_cast<size_t>(it - line.begin());
  }
  std::optional<PeerName> next_hop(PeerName dst) override {
    auto it = std::find(line.begin(), line.end(), dst);
    if (it == line.end() || dst == line[me]) return std::nullopt;
    return pos(dst) > me ? line[me + 1] : line[me - 1];
  }
  std::vector<PeerName> broadcast_children(PeerName src) override {
    size_t s = pos(src);
    std::vector<PeerName> c;
    if (me >= s && me + 1 < line.size()) c.push_back(line[me + 1]);
    if (me <= s && me > 0) c.push_back(line[me - 1]);
    return c;
  }
};

struct Net;

struct Injected {
  Bytes vnet, frame;
};

struct Peer : weft::GossipSender, weft::DataplaneIo {
  Net* net = nullptr;
  PeerName name = 0;
  std::string ip;
  uint16_t port = 0;
  UdpEndpoint ep;
  std::optional<UdpEndpoint> nat;  // the source address others see, when rewritten
  LineRoutes routes;
  std::unique_ptr<DataplaneCore> core;
  std::vector<Injected> injected;

  void send_neighbor(std::string_view channel, PeerName neighbor, ByteView payload) override;
  void send_unicast(std::string_view, PeerName, ByteView) override {
    FAIL("the data plane only talks to neighbours");
  }
  void broadcast(std::string_view, ByteView) override {
    FAIL("the data plane only talks to neighbours");
  }
  void send_udp(const UdpEndpoint& to, ByteView datagram) override;
  void send_fallback(PeerName neighbor, ByteView batch) override;
  void inject(ByteView vnet, ByteView frame) override {
    injected.push_back({Bytes(vnet.begin(), vnet.end()), Bytes(frame.begin(), frame.end())});
  }
  const weft::DataplaneCounters& c() const { return core->counters(); }
  weft::NeighborPath path_to(PeerName p, int64_t now) const {
    for (const auto& np : core->paths(now))
      if (np.peer == p) return np;
    FAIL("no path to " << p);
    return {};
  }
};

struct GossipMsg {
  PeerName from, to;
  std::string channel;
  Bytes payload;
};
struct UdpMsg {
  PeerName from;
  UdpEndpoint src, dst;
  Bytes datagram;
};
struct FallbackMsg {
  PeerName from, to;
  Bytes batch;
};

struct Net {
  std::map<PeerName, std::unique_ptr<Peer>> peers;
  std::deque<GossipMsg> gossip;
  std::deque<UdpMsg> udp;
  std::deque<FallbackMsg> fallback;
  std::vector<GossipMsg> gossip_log;
  std::vector<UdpMsg> udp_log;  // everything sent, for replays
  bool udp_blocked = false;
  std::set<PeerName> udp_blocked_from;  // one-way: datagrams these peers send are lost
  bool hold_udp = false;                // queue but do not deliver
  int udp_lost = 0;

  explicit Net(std::vector<PeerName> line) {
    for (size_t i = 0; i < line.size(); ++i) {
      auto p = std::make_unique<Peer>();
      p->net = this;
      p->name = line[i];
      p->ip = "10.0.0." + std::to_string(line[i]);
      p->port = static_cast<uint16_t>(6000 + line[i]);
      p->ep = endpoint(p->ip, p->port);
      p->routes.line = line;
      p->routes.me = i;
      p->core = std::make_unique<DataplaneCore>(p->name, p->port, *p, p->routes, *p, 100 + i);
      peers[line[i]] = std::move(p);
    }
  }
  Peer& operator[](PeerName n) { return *peers.at(n); }

  // What the router does when the control connection between a and b is established (each end,
  // in its own order), then the hellos cross.
  void connect(PeerName a, PeerName b, int64_t now, int gen = 0) {
    for (auto [x, y] : {std::pair{a, b}, std::pair{b, a}}) {
      Peer& p = *peers.at(x);
      p.core->on_neighbor_up(y, now);
      p.core->set_neighbor_keys(y, key_for(x, y, gen), key_for(y, x, gen), peers.at(y)->ip, now);
    }
    run(now);
  }

  Peer* by_endpoint(const UdpEndpoint& e) {
    for (auto& [_, p] : peers)
      if (p->ep == e || (p->nat && *p->nat == e)) return p.get();
    return nullptr;
  }

  void deliver_udp(const UdpMsg& m, int64_t now) {
    Peer* to = by_endpoint(m.dst);
    if (!to) {
      ++udp_lost;
      return;
    }
    to->core->on_udp(m.src, m.datagram, now);
  }

  // Delivers until nothing is left in flight.
  void run(int64_t now) {
    for (int round = 0; round < 10'000; ++round) {
      if (!gossip.empty()) {
        GossipMsg g = std::move(gossip.front());
        gossip.pop_front();
        REQUIRE(g.channel == DataplaneCore::kChannel);
        peers.at(g.to)->core->on_neighbor(g.from, g.payload, now);
      } else if (!fallback.empty()) {
        FallbackMsg f = std::move(fallback.front());
        fallback.pop_front();
        peers.at(f.to)->core->on_fallback(f.from, f.batch, now);
      } else if (!udp.empty() && !hold_udp) {
        UdpMsg u = std::move(udp.front());
        udp.pop_front();
        if (udp_blocked || udp_blocked_from.count(u.from))
          ++udp_lost;
        else
          deliver_udp(u, now);
      } else {
        return;
      }
    }
    FAIL("messages kept flowing");
  }

  // Probes both ways (each core's periodic timer) and their delivery.
  void tick(int64_t now) {
    for (auto& [_, p] : peers) p->core->on_timer(now);
    run(now);
  }

  size_t injected_total() const {
    size_t n = 0;
    for (auto& [_, p] : peers) n += p->injected.size();
    return n;
  }

  // B's receiver id for datagrams from A, from the hello B sent A.
  uint32_t receiver_id(PeerName at, PeerName from) const {
    for (auto it = gossip_log.rbegin(); it != gossip_log.rend(); ++it)
      if (it->from == at && it->to == from) {
        const Bytes& p = it->payload;
        return uint32_t(p[1]) << 24 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 8 | p[4];
      }
    FAIL("no hello");
    return 0;
  }
};

void Peer::send_neighbor(std::string_view channel, PeerName neighbor, ByteView payload) {
  GossipMsg m{name, neighbor, std::string(channel), Bytes(payload.begin(), payload.end())};
  net->gossip_log.push_back(m);
  net->gossip.push_back(std::move(m));
}

void Peer::send_udp(const UdpEndpoint& to, ByteView datagram) {
  UdpMsg m{name, nat ? *nat : ep, to, Bytes(datagram.begin(), datagram.end())};
  net->udp_log.push_back(m);
  net->udp.push_back(std::move(m));
}

void Peer::send_fallback(PeerName neighbor, ByteView batch) {
  net->fallback.push_back({name, neighbor, Bytes(batch.begin(), batch.end())});
}

constexpr PeerName kA = 1, kB = 2, kC = 3;

// Ethernet + IPv4 + TCP super-frame with `payload` bytes, as the kernel hands it over with TSO.
Bytes super_frame(const Mac& dst, const Mac& src, size_t payload) {
  Bytes f(14 + 20 + 20 + payload);
  std::copy(dst.b.begin(), dst.b.end(), f.begin());
  std::copy(src.b.begin(), src.b.end(), f.begin() + 6);
  f[12] = 0x08;
  uint8_t* ip = f.data() + 14;
  ip[0] = 0x45;
  size_t total = 40 + payload;
  ip[2] = uint8_t(total >> 8);
  ip[3] = uint8_t(total);
  ip[8] = 64;
  ip[9] = 6;
  ip[12] = 10, ip[15] = 1, ip[16] = 10, ip[19] = 2;
  uint8_t* tcp = ip + 20;
  tcp[1] = 80;
  tcp[3] = 99;
  tcp[7] = 1;      // seq 1
  tcp[12] = 0x50;  // 20-byte header
  tcp[13] = 0x18;  // PSH ACK
  for (size_t i = 0; i < payload; ++i) f[54 + i] = uint8_t(i * 13);
  return f;
}

}  // namespace

TEST_CASE("the dataplane hello swaps receiver ids and ports, then both ends have a session") {
  Net net({kA, kB});
  for (PeerName x : {kA, kB}) {
    PeerName y = x == kA ? kB : kA;
    net[x].core->on_neighbor_up(y, 0);
    net[x].core->set_neighbor_keys(y, key_for(x, y), key_for(y, x), net[y].ip, 0);
    CHECK_FALSE(net[x].path_to(y, 0).session);  // keys, but no hello yet
  }
  REQUIRE(net.gossip.size() == 2);
  for (const GossipMsg& g : net.gossip) {
    CAPTURE(g.from);
    CHECK(g.channel == "dataplane");
    REQUIRE(g.payload.size() == 8);  // u8 type, u32 receiver id, u16 UDP port, u8 ciphers
    CHECK(g.payload[0] == 1);
    CHECK(net.receiver_id(g.from, g.to) != 0);
    CHECK((g.payload[5] << 8 | g.payload[6]) == net[g.from].port);
    uint8_t want = weft::best_local_cipher() == weft::DataCipher::kAes256Gcm ? 3 : 1;
    CHECK(g.payload[7] == want);
  }
  CHECK(net.receiver_id(kA, kB) != net.receiver_id(kB, kA));
  net.run(0);
  for (PeerName x : {kA, kB}) {
    PeerName y = x == kA ? kB : kA;
    auto p = net[x].path_to(y, 0);
    CHECK(p.session);
    CHECK_FALSE(p.udp);  // nothing has arrived over UDP yet
    CHECK(p.endpoint == net[y].ip + ":" + std::to_string(net[y].port));
  }
}

TEST_CASE("malformed dataplane hellos are refused") {
  Net net({kA, kB});
  auto hello = [](uint8_t type, uint32_t id, uint16_t port, uint8_t ciphers) {
    Bytes b;
    weft::ByteWriter w(b);
    w.u8(type);
    w.u32(id);
    w.u16(port);
    w.u8(ciphers);
    return b;
  };
  DataplaneCore& a = *net[kA].core;
  CHECK_THROWS_AS(a.on_neighbor(kB, hello(2, 5, 6000, 1), 0), DecodeError);
  CHECK_THROWS_AS(a.on_neighbor(kB, hello(1, 0, 6000, 1), 0), DecodeError);
  CHECK_THROWS_AS(a.on_neighbor(kB, hello(1, 5, 0, 1), 0), DecodeError);
  CHECK_THROWS_AS(a.on_neighbor(kB, hello(1, 5, 6000, 2), 0), DecodeError);  // no ChaCha
  Bytes trailing = hello(1, 5, 6000, 1);
  trailing.push_back(0);
  CHECK_THROWS_AS(a.on_neighbor(kB, trailing, 0), DecodeError);
  Bytes shorter = hello(1, 5, 6000, 1);
  shorter.pop_back();
  CHECK_THROWS_AS(a.on_neighbor(kB, shorter, 0), DecodeError);
  CHECK_THROWS_AS(a.on_neighbor(kB, Bytes{}, 0), DecodeError);
  CHECK(net.gossip.empty());
}

TEST_CASE("frames ride the control connection until UDP is proven, then UDP, and back") {
  Net net({kA, kB});
  net.connect(kA, kB, 0);
  Peer &a = net[kA], &b = net[kB];

  Bytes f1 = ether(weft::kBroadcastMac, mac(0xa1), 0x0806, 28);
  a.core->on_local_frame(kZeroVnet, f1, 10);
  REQUIRE(net.fallback.size() == 1);
  CHECK(net.udp.empty());
  net.run(10);
  REQUIRE(b.injected.size() == 1);
  CHECK(b.injected[0].frame == f1);
  CHECK(b.injected[0].vnet == kZeroVnet);
  CHECK(a.c().fallback_tx == 1);
  CHECK(a.c().udp_tx == 0);
  CHECK(b.c().fallback_rx == 1);

  // The periodic probes go over UDP even before UDP is proven; they inject nothing.
  net.tick(1000);
  CHECK(a.c().udp_tx == 1);
  CHECK(b.c().udp_rx == 1);
  CHECK(a.c().udp_rx == 1);
  CHECK(b.injected.size() == 1);
  CHECK(a.injected.empty());
  CHECK(a.path_to(kB, 1000).udp);
  CHECK(b.path_to(kA, 1000).udp);

  Bytes f2 = ether(mac(0xa1), mac(0xb1), 0x0800, 100);
  b.core->on_local_frame(kZeroVnet, f2, 1001);
  CHECK(net.fallback.empty());
  REQUIRE(net.udp.size() == 1);
  CHECK(net.udp.front().dst == a.ep);
  net.run(1001);
  REQUIRE(a.injected.size() == 1);
  CHECK(a.injected[0].frame == f2);
  CHECK(b.c().fallback_tx == 0);
  CHECK(b.c().udp_tx == 2);  // probe + frame
  // Known unicast now: A learned mac(0xb1) behind B, B learned mac(0xa1) behind A.
  CHECK(b.core->forwarding().unicast == 1);

  // UDP stops working: within kUdpFreshMs of the last datagram UDP is still tried (and lost),
  // after that frames take the control connection again.
  net.udp_blocked = true;
  const int64_t last_rx = 1001;  // f2 was A's last UDP datagram
  a.core->on_local_frame(kZeroVnet, ether(mac(0xb1), mac(0xa1)),
                         last_rx + DataplaneCore::kUdpFreshMs - 1);
  net.run(last_rx + DataplaneCore::kUdpFreshMs - 1);
  CHECK(b.injected.size() == 1);
  CHECK(net.udp_lost == 1);
  Bytes f3 = ether(mac(0xb1), mac(0xa1), 0x0800, 64, 3);
  a.core->on_local_frame(kZeroVnet, f3, last_rx + DataplaneCore::kUdpFreshMs);
  CHECK(a.c().fallback_tx == 2);
  CHECK_FALSE(a.path_to(kB, last_rx + DataplaneCore::kUdpFreshMs).udp);
  net.run(last_rx + DataplaneCore::kUdpFreshMs);
  REQUIRE(b.injected.size() == 2);
  CHECK(b.injected[1].frame == f3);

  // UDP comes back: the next probes restore it.
  net.udp_blocked = false;
  net.tick(6000);
  CHECK(a.path_to(kB, 6000).udp);
  uint64_t udp_before = a.c().udp_tx;
  a.core->on_local_frame(kZeroVnet, f3, 6001);
  net.run(6001);
  CHECK(a.c().udp_tx == udp_before + 1);
  CHECK(b.injected.size() == 3);
}

TEST_CASE("with UDP blocked from the start, traffic keeps flowing over the control connection") {
  Net net({kA, kB});
  net.connect(kA, kB, 0);
  net.udp_blocked = true;
  for (int64_t t = 0; t < 10'000; t += 500) {
    net.tick(t);
    net[kA].core->on_local_frame(kZeroVnet, ether(mac(0xb1), mac(0xa1)), t);
    net.run(t);
  }
  CHECK(net[kB].injected.size() == 20);
  CHECK(net[kA].c().fallback_tx == 20);
  CHECK(net[kA].c().udp_tx == 10);  // probes only
  CHECK_FALSE(net[kA].path_to(kB, 10'000).udp);
}

TEST_CASE(
    "garbage, unknown receiver ids, forgeries and replays are dropped, counted, not injected") {
  Net net({kA, kB});
  net.connect(kA, kB, 0);
  net.tick(0);
  Peer &a = net[kA], &b = net[kB];
  REQUIRE(a.path_to(kB, 0).udp);

  net.hold_udp = true;
  Bytes f = ether(mac(0xb1), mac(0xa1), 0x0800, 80);
  a.core->on_local_frame(kZeroVnet, f, 1);
  REQUIRE(net.udp.size() == 1);
  UdpMsg genuine = net.udp.front();
  net.udp.clear();
  net.hold_udp = false;

  const auto before = b.c();
  const std::string endpoint_before = b.path_to(kA, 1).endpoint;

  // Garbage of every short length, and a long one.
  for (size_t n : {size_t(0), size_t(1), size_t(15), size_t(16), size_t(31)})
    b.core->on_udp(a.ep, Bytes(n, 0x01), 2);
  Bytes junk(200);
  for (size_t i = 0; i < junk.size(); ++i) junk[i] = static_cast<uint8_t>(i * 37 + 5);
  b.core->on_udp(a.ep, junk, 2);
  CHECK(b.c().dropped_malformed == before.dropped_malformed + 6);

  // A well-formed header for a session nobody has.
  Bytes unknown = genuine.datagram;
  uint32_t id = net.receiver_id(kB, kA) ^ 0x00010000;
  for (int i = 0; i < 4; ++i) unknown[4 + i] = static_cast<uint8_t>(id >> (24 - 8 * i));
  b.core->on_udp(a.ep, unknown, 2);
  CHECK(b.c().dropped_unknown_session == before.dropped_unknown_session + 1);

  // Tampered ciphertext, tampered counter, and a datagram sealed under other keys.
  Bytes tampered = genuine.datagram;
  tampered[30] ^= 0x20;
  b.core->on_udp(a.ep, tampered, 2);
  Bytes counter = genuine.datagram;
  counter[15] ^= 0x40;
  b.core->on_udp(a.ep, counter, 2);
  weft::DataSession stranger(weft::best_local_cipher(), key_for(7, 7), key_for(8, 8),
                             net.receiver_id(kB, kA), 0);
  Bytes batch, forged;
  weft::begin_frame_batch(batch, weft::kBatchFrames, kA, 0);
  REQUIRE(weft::append_frame(batch, kZeroVnet, f));
  for (int i = 0; i < 5; ++i) stranger.seal(batch, forged, 2);  // a counter B has not seen
  b.core->on_udp(a.ep, forged, 2);
  CHECK(b.c().dropped_auth == before.dropped_auth + 3);
  CHECK(b.injected.empty());

  // The genuine datagram still opens (nothing above moved the window), exactly once.
  b.core->on_udp(genuine.src, genuine.datagram, 3);
  REQUIRE(b.injected.size() == 1);
  CHECK(b.injected[0].frame == f);
  b.core->on_udp(genuine.src, genuine.datagram, 4);
  for (const UdpMsg& m : net.udp_log)
    if (m.from == kA) b.core->on_udp(m.src, m.datagram, 5);  // the probe and the frame again
  CHECK(b.c().dropped_replay == before.dropped_replay + 3);
  CHECK(b.injected.size() == 1);

  // An authenticated datagram whose batch is malformed: counted, nothing injected. (Made with
  // A's real key, past the counters A used.)
  const uint32_t id_a = net.receiver_id(kA, kB), id_b = net.receiver_id(kB, kA);
  weft::DataSession insider(weft::best_local_cipher(),
                            weft::dataplane_session_key(key_for(kA, kB), id_a, id_b),
                            weft::dataplane_session_key(key_for(kB, kA), id_b, id_a), id_b, 0);
  Bytes d;
  for (int i = 0; i < 100; ++i) insider.seal(batch, d, 5);
  Bytes bad_batch = batch;
  bad_batch[0] = 9;  // unknown kind
  insider.seal(bad_batch, d, 5);
  b.core->on_udp(a.ep, d, 6);
  CHECK(b.c().dropped_malformed == before.dropped_malformed + 7);
  Bytes probe_with_frame = batch;
  probe_with_frame[0] = weft::kBatchProbe;
  insider.seal(probe_with_frame, d, 5);
  b.core->on_udp(a.ep, d, 6);
  CHECK(b.c().dropped_malformed == before.dropped_malformed + 8);
  CHECK(b.injected.size() == 1);

  CHECK(b.path_to(kA, 6).endpoint == endpoint_before);
  CHECK(b.c().endpoint_changes == before.endpoint_changes);
}

TEST_CASE("the peer's endpoint moves on an authenticated datagram only") {
  Net net({kA, kB});
  net.connect(kA, kB, 0);
  net.tick(0);
  Peer &a = net[kA], &b = net[kB];
  const std::string original = a.ip + ":" + std::to_string(a.port);
  REQUIRE(b.path_to(kA, 0).endpoint == original);
  const uint64_t changes = b.c().endpoint_changes;

  // An attacker replays A's datagrams, forges one, or sends garbage, from its own address.
  const UdpEndpoint attacker = endpoint("203.0.113.9", 1234);
  for (const UdpMsg& m : net.udp_log)
    if (m.from == kA) b.core->on_udp(attacker, m.datagram, 1);
  Bytes forged = net.udp_log.front().datagram;
  forged.back() ^= 1;
  b.core->on_udp(attacker, forged, 1);
  b.core->on_udp(attacker, Bytes(64, 0x01), 1);
  CHECK(b.path_to(kA, 1).endpoint == original);
  CHECK(b.c().endpoint_changes == changes);

  // Replies still go to A's real address.
  Bytes to_a = ether(mac(0xa1), mac(0xb1));
  b.core->on_local_frame(kZeroVnet, to_a, 2);
  REQUIRE(net.udp.size() == 1);
  CHECK(net.udp.front().dst == a.ep);
  net.run(2);

  // A's NAT rebinds: A's next datagram arrives from a new address and authenticates.
  a.nat = endpoint("198.51.100.7", 40000);
  a.core->on_local_frame(kZeroVnet, ether(mac(0xb1), mac(0xa1)), 3);
  net.run(3);
  CHECK(b.injected.size() == 1);
  CHECK(b.path_to(kA, 3).endpoint == "198.51.100.7:40000");
  CHECK(b.c().endpoint_changes == changes + 1);
  b.core->on_local_frame(kZeroVnet, to_a, 4);
  REQUIRE(net.udp.size() == 1);
  CHECK(net.udp.front().dst == *a.nat);
  net.run(4);
  CHECK(a.injected.size() == 2);
}

TEST_CASE("a TSO super-frame from the local side arrives as MSS-sized segments") {
  Net net({kA, kB});
  net.connect(kA, kB, 0);
  net.tick(0);
  const size_t payload = 10000, mss = 1448;
  Bytes frame = super_frame(mac(0xb1), mac(0xa1), payload);
  uint64_t udp_before = net[kA].c().udp_tx;
  net[kA].core->on_local_frame(vnet_tso4(mss), frame, 1);
  net.run(1);
  const size_t segments = (payload + mss - 1) / mss;
  CHECK(net[kA].c().udp_tx == udp_before + segments);  // one datagram per segment
  auto& got = net[kB].injected;
  REQUIRE(got.size() == segments);
  Bytes joined;
  for (size_t i = 0; i < got.size(); ++i) {
    CAPTURE(i);
    VnetHdr h = VnetHdr::read(got[i].vnet);
    CHECK(h.gso_type == VnetHdr::kGsoNone);
    CHECK(h.flags == VnetHdr::kNeedsCsum);
    CHECK(h.csum_start == 34);
    CHECK(h.csum_offset == 16);
    const Bytes& s = got[i].frame;
    CHECK(s.size() <= 54 + mss);
    CHECK(s.size() == 54 + std::min(mss, payload - i * mss));
    CHECK(std::equal(s.begin(), s.begin() + 12, frame.begin()));  // same MACs
    Bytes copy = s;
    REQUIRE(weft::complete_checksum(got[i].vnet, copy.data(), copy.size()));
    // TCP checksum over the pseudo-header and the segment verifies.
    uint32_t acc = 0;
    auto add = [&acc](const uint8_t* p, size_t n) {
      for (size_t k = 0; k + 1 < n; k += 2) acc += uint32_t(p[k]) << 8 | p[k + 1];
      if (n & 1) acc += uint32_t(p[n - 1]) << 8;
    };
    add(copy.data() + 26, 8);
    acc += 6 + uint32_t(copy.size() - 34);
    add(copy.data() + 34, copy.size() - 34);
    while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
    CHECK(acc == 0xffff);
    joined.insert(joined.end(), s.begin() + 54, s.end());
  }
  CHECK(joined == Bytes(frame.begin() + 54, frame.end()));

  // What cannot be segmented is counted and dropped, not sent whole.
  uint64_t udp_now = net[kA].c().udp_tx;
  Bytes udp_gso = vnet_tso4(mss);
  udp_gso[1] = VnetHdr::kGsoUdp;
  net[kA].core->on_local_frame(udp_gso, frame, 2);
  net[kA].core->on_local_frame(vnet_tso4(mss), Bytes(frame.begin(), frame.begin() + 40), 2);
  CHECK(net[kA].c().dropped_malformed == 2);
  CHECK(net[kA].c().udp_tx == udp_now);
  // Runts are ignored.
  net[kA].core->on_local_frame(kZeroVnet, Bytes(13, 0xff), 2);
  CHECK(net.udp.empty());
  CHECK(net.fallback.empty());
}

TEST_CASE("a local DF packet over the overlay MTU is answered into the bridge, not sent") {
  Net net({kA, kB});
  net.connect(kA, kB, 0);
  net.tick(0);
  net[kA].core->set_overlay_mtu(1400);
  Bytes frame = super_frame(mac(0xb1), mac(0xa1), 10000);
  frame[14 + 6] = 0x40;  // DF
  const uint64_t udp_before = net[kA].c().udp_tx;
  // Segments of 40 + 1361 bytes are one byte too many; 1360 fit.
  net[kA].core->on_local_frame(vnet_tso4(1361), frame, 1);
  net.run(1);
  CHECK(net[kA].c().udp_tx == udp_before);
  CHECK(net[kB].injected.empty());
  REQUIRE(net[kA].injected.size() == 1);
  const Bytes& reply = net[kA].injected[0].frame;
  CHECK(net[kA].injected[0].vnet == kZeroVnet);
  CHECK(std::equal(reply.begin(), reply.begin() + 6, frame.begin() + 6));  // to the sender
  CHECK(reply[14 + 9] == 1);                                               // ICMP
  CHECK(reply[34] == 3);
  CHECK(reply[35] == 4);
  CHECK((reply[40] << 8 | reply[41]) == 1400);
  CHECK(net[kA].core->too_big().replies == 1);

  net[kA].core->on_local_frame(vnet_tso4(1360), frame, 2);
  net.run(2);
  CHECK(net[kA].c().udp_tx == udp_before + 8);  // ceil(10000 / 1360) segments
  CHECK(net[kB].injected.size() == 8);
  CHECK(net[kA].injected.size() == 1);
}

TEST_CASE("three peers in a line: the middle one relays, each hop with its own session") {
  Net net({kA, kB, kC});
  net.connect(kA, kB, 0);
  net.connect(kB, kC, 0);
  net.tick(0);
  Peer &a = net[kA], &b = net[kB], &c = net[kC];

  Bytes arp = ether(weft::kBroadcastMac, mac(0xc1), 0x0806, 28);
  c.core->on_local_frame(kZeroVnet, arp, 1);
  net.run(1);
  REQUIRE(a.injected.size() == 1);
  REQUIRE(b.injected.size() == 1);
  CHECK(a.injected[0].frame == arp);
  CHECK(c.injected.empty());

  net.hold_udp = true;
  Bytes reply = ether(mac(0xc1), mac(0xa1), 0x0806, 28);
  a.core->on_local_frame(kZeroVnet, reply, 2);
  REQUIRE(net.udp.size() == 1);
  CHECK(net.udp.front().dst == b.ep);
  net.hold_udp = false;
  net.run(2);
  REQUIRE(c.injected.size() == 1);
  CHECK(c.injected[0].frame == reply);
  CHECK(b.injected.size() == 1);  // B only relayed
  CHECK(a.injected.size() == 1);
  CHECK(b.core->forwarding().relayed == 1);
  // The two hops used different sessions (different receiver ids in the headers).
  const UdpMsg& hop1 = net.udp_log[net.udp_log.size() - 2];
  const UdpMsg& hop2 = net.udp_log.back();
  CHECK(hop1.from == kA);
  CHECK(hop2.from == kB);
  CHECK(hop2.dst == c.ep);
  CHECK(weft::parse_datagram_header(hop1.datagram)->receiver_id == net.receiver_id(kB, kA));
  CHECK(weft::parse_datagram_header(hop2.datagram)->receiver_id == net.receiver_id(kC, kB));
}

TEST_CASE("a repeated hello keeps the session: counters go on, the receiver accepts") {
  Net net({kA, kB});
  net.connect(kA, kB, 0);
  net.tick(0);
  Peer &a = net[kA], &b = net[kB];
  a.core->on_local_frame(kZeroVnet, ether(mac(0xb1), mac(0xa1)), 1);
  net.run(1);
  REQUIRE(b.injected.size() == 1);
  const uint64_t sent = a.core->counters().udp_tx;
  // B's hello to A arrives again (as a gossip retransmission would deliver it).
  for (const GossipMsg& g : std::vector<GossipMsg>(net.gossip_log))
    if (g.from == kB) a.core->on_neighbor(kB, g.payload, 2);
  a.core->on_local_frame(kZeroVnet, ether(mac(0xb1), mac(0xa1), 0x0800, 46, 1), 2);
  net.run(2);
  CHECK(a.core->counters().udp_tx == sent + 1);
  CHECK(b.injected.size() == 2);  // a session started over would repeat counters: replays
  CHECK(b.c().dropped_replay == 0);
}

TEST_CASE("a session started over under the same handshake keys does not reuse a keystream") {
  Net net({kA, kB});
  net.connect(kA, kB, 0);
  net.tick(0);
  // B starts over on the same connection (a new hello, no new keys): A's next session must not
  // seal under the key the first one used. A's probes carry the same plaintext every time, so
  // equal counters under one key would give equal ciphertexts.
  net[kB].core->on_neighbor_up(kA, 1);
  net.run(1);
  net.tick(1000);
  std::map<uint64_t, std::vector<Bytes>> by_counter;  // A's datagrams: ciphertext without tag
  for (const UdpMsg& m : net.udp_log) {
    if (m.from != kA) continue;
    auto h = weft::parse_datagram_header(m.datagram);
    REQUIRE(h);
    by_counter[h->counter].emplace_back(m.datagram.begin() + weft::kDataHeaderLen,
                                        m.datagram.end() - weft::kDataTagLen);
  }
  REQUIRE(by_counter.count(0));
  REQUIRE(by_counter[0].size() == 2);  // the first probe of each session
  CHECK(by_counter[0][0] != by_counter[0][1]);
}

TEST_CASE("a session ends with its control connection; a new connection means a new session") {
  Net net({kA, kB});
  net.connect(kA, kB, 0);
  net.tick(0);
  Peer &a = net[kA], &b = net[kB];
  Bytes f = ether(mac(0xb1), mac(0xa1));
  a.core->on_local_frame(kZeroVnet, f, 1);
  net.run(1);
  REQUIRE(b.injected.size() == 1);
  std::vector<UdpMsg> old_datagrams;
  for (const UdpMsg& m : net.udp_log)
    if (m.from == kA) old_datagrams.push_back(m);

  b.core->neighbor_down(kA);
  for (const UdpMsg& m : old_datagrams) b.core->on_udp(m.src, m.datagram, 2);
  CHECK(b.c().dropped_unknown_session == old_datagrams.size());
  b.core->on_local_frame(kZeroVnet, ether(mac(0xa1), mac(0xb1)), 2);
  CHECK(b.c().dropped_no_session == 1);
  CHECK(net.udp.empty());
  CHECK(net.fallback.empty());

  // Reconnected with fresh keys: the old datagrams are strangers to the new session too.
  a.core->neighbor_down(kB);
  net.connect(kA, kB, 3, 1);
  for (const UdpMsg& m : old_datagrams) b.core->on_udp(m.src, m.datagram, 3);
  CHECK(b.injected.size() == 1);
  CHECK(b.path_to(kA, 3).session);
  a.core->on_local_frame(kZeroVnet, f, 4);
  net.run(4);
  CHECK(b.injected.size() == 2);
}

// The receiver follows the sender's key ratchet one epoch at a time. Probes keep being sealed
// (and the send key ratcheted every rekey_after_ms, 2 min) while UDP is down, so an outage that
// swallows every datagram of one epoch leaves the receiver two or more epochs behind. UDP must
// come back when the path does.
TEST_CASE("UDP comes back after an outage that spans one rekey") {
  Net net({kA, kB});
  net.connect(kA, kB, 0);
  net.tick(0);
  net.udp_blocked = true;
  int64_t t = 0;
  for (t = 1000; t <= 200'000; t += 1000) net.tick(t);  // the senders rekeyed at 120 s
  CHECK_FALSE(net[kA].path_to(kB, t).udp);
  net.udp_blocked = false;
  for (int i = 0; i < 3; ++i, t += 1000) net.tick(t);
  CHECK(net[kA].path_to(kB, t).udp);
  CHECK(net[kB].path_to(kA, t).udp);
}

TEST_CASE("UDP comes back after an outage longer than two rekey periods") {
  Net net({kA, kB});
  net.connect(kA, kB, 0);
  net.tick(0);
  REQUIRE(net[kA].path_to(kB, 0).udp);
  net.udp_blocked = true;
  int64_t t = 0;
  for (t = 1000; t <= 300'000; t += 1000) net.tick(t);
  CHECK_FALSE(net[kA].path_to(kB, t).udp);
  CHECK_FALSE(net[kB].path_to(kA, t).udp);
  net.udp_blocked = false;
  for (int i = 0; i < 3; ++i, t += 1000) net.tick(t);
  CHECK(net[kA].path_to(kB, t).udp);
  CHECK(net[kB].path_to(kA, t).udp);
  uint64_t udp_before = net[kA].c().udp_tx;
  net[kA].core->on_local_frame(kZeroVnet, ether(mac(0xb1), mac(0xa1)), t);
  net.run(t);
  CHECK(net[kA].c().udp_tx == udp_before + 1);
  CHECK(net[kB].injected.size() == 1);
}

TEST_CASE("after a long one-way UDP outage, frames in that direction arrive again") {
  Net net({kA, kB});
  net.connect(kA, kB, 0);
  net.tick(0);
  // A's datagrams to B are lost for five minutes; B's reach A all along, so A keeps choosing UDP.
  net.udp_blocked_from.insert(kA);
  int64_t t = 0;
  for (t = 1000; t <= 300'000; t += 1000) net.tick(t);
  net.udp_blocked_from.clear();
  for (int i = 0; i < 3; ++i, t += 1000) net.tick(t);
  for (int i = 0; i < 5; ++i, t += 10) {
    net[kA].core->on_local_frame(kZeroVnet, ether(mac(0xb1), mac(0xa1), 0x0800, 46, uint8_t(i)), t);
    net.run(t);
  }
  CHECK(net[kB].injected.size() == 5);
  CHECK(net[kB].c().dropped_auth == 0);
}

TEST_CASE("experiment: a whole super-frame crosses under one AEAD; one fragment lost, all lost") {
  Net net({kA, kB});
  for (PeerName p : {kA, kB}) net[p].core->set_whole_superframes(true, 1400);
  net.connect(kA, kB, 0);
  net.tick(0);
  const size_t payload = 30000, mss = 1448;
  Bytes frame = super_frame(mac(0xb1), mac(0xa1), payload);
  net.hold_udp = true;
  net[kA].core->on_local_frame(vnet_tso4(mss), frame, 1);
  // One sealed datagram of ~30 KB, cut into 1400-byte fragments (type 3).
  size_t fragments = net.udp.size();
  CHECK(fragments == (30000 + 54 + 10 + 2 + 17 + 32 + 1383) / 1384);
  for (const UdpMsg& u : net.udp) {
    CHECK(u.datagram[0] == 3);
    CHECK(u.datagram.size() <= 1400);
  }
  net.hold_udp = false;
  net.run(1);
  auto& got = net[kB].injected;
  REQUIRE(got.size() == 1);  // the super-frame itself, GSO fields kept
  CHECK(VnetHdr::read(got[0].vnet).gso_type == VnetHdr::kGsoTcpV4);
  CHECK(VnetHdr::read(got[0].vnet).gso_size == mss);
  CHECK(got[0].frame.size() == frame.size());
  CHECK(std::equal(got[0].frame.begin() + 54, got[0].frame.end(), frame.begin() + 54));

  // Lose one fragment of the next super-frame: nothing of it arrives.
  net.hold_udp = true;
  net[kA].core->on_local_frame(vnet_tso4(mss), frame, 2);
  net.udp.erase(net.udp.begin() + 3);
  net.hold_udp = false;
  net.run(2);
  CHECK(got.size() == 1);
  CHECK(net[kB].c().dropped_auth == 0);
}

TEST_CASE("fragments are malformed datagrams unless the experiment is on") {
  Net net({kA, kB});
  net[kA].core->set_whole_superframes(true, 1400);
  net.connect(kA, kB, 0);
  net.tick(0);
  Bytes frame = super_frame(mac(0xb1), mac(0xa1), 20000);
  uint64_t malformed = net[kB].c().dropped_malformed;
  net[kA].core->on_local_frame(vnet_tso4(1448), frame, 1);
  net.run(1);
  CHECK(net[kB].injected.empty());
  CHECK(net[kB].c().dropped_malformed > malformed);
}
