// Writes the seed corpora: fuzz_make_corpus <tests/fuzz/corpus>. Valid messages of every kind,
// and recorded control-channel sessions made with the same deterministic RNG the fuzz target uses,
// so that they replay past the handshake.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <string>

#include "common/bytes.h"
#include "fuzz_common.h"
#include "router/crypto/control_channel.h"
#include "router/mesh/peer_record.h"
#include "router/wire/mesh_message.h"
#include "router/wire/peer_hello.h"
#include "router/wire/topology_message.h"

using namespace weft;
using namespace weft::fuzz;
namespace fs = std::filesystem;

namespace {

fs::path g_root;

void write(const std::string& target, const std::string& name, const Bytes& b) {
  fs::create_directories(g_root / target);
  std::ofstream f(g_root / target / name, std::ios::binary);
  f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  if (!f) throw std::runtime_error("cannot write " + (g_root / target / name).string());
}

Bytes cat(std::initializer_list<ByteView> parts) {
  Bytes b;
  for (ByteView p : parts) b.insert(b.end(), p.begin(), p.end());
  return b;
}

// A recorded session: the bytes one side wrote (the initiator if recorded_initiator), including two
// application messages after the handshake. The other side, the one a fuzz input replays the
// recording into, receives first and so draws the first ephemeral key, as the fuzz target's lone
// channel will: the replay then authenticates all the way through.
Bytes record_session(bool recorded_initiator, bool encrypted) {
  rng_reset();
  ControlChannel i(channel_config(true, encrypted)), r(channel_config(false, encrypted));
  ControlChannel& recorded = recorded_initiator ? i : r;
  ControlChannel& replayed_into = recorded_initiator ? r : i;
  Bytes wire;
  bool sent = false;
  for (int round = 0; round < 8; ++round) {
    Bytes a = recorded.take_output();
    wire.insert(wire.end(), a.begin(), a.end());
    replayed_into.receive(a);
    recorded.receive(replayed_into.take_output());
    if (!sent && recorded.established()) {
      recorded.send(as_bytes("first message"));
      recorded.send(encode_heartbeat());
      sent = true;
    }
  }
  if (!i.established() || !r.established() || !sent)
    throw std::runtime_error("recorded session did not establish");
  return wire;
}

void control_channel() {
  const std::string t = "control_channel";
  auto with_mode = [](uint8_t mode, uint8_t seed, const Bytes& stream) {
    Bytes b = {mode, seed};
    b.insert(b.end(), stream.begin(), stream.end());
    return b;
  };
  Bytes from_initiator = record_session(true, true);
  Bytes from_responder = record_session(false, true);
  Bytes plain_from_initiator = record_session(true, false);
  Bytes plain_from_responder = record_session(false, false);
  write(t, "responder-encrypted", with_mode(0, 0, from_initiator));
  write(t, "initiator-encrypted", with_mode(kModeInitiator, 0, from_responder));
  write(t, "responder-plain", with_mode(kModePlain, 0, plain_from_initiator));
  write(t, "initiator-plain", with_mode(kModeInitiator | kModePlain, 0, plain_from_responder));
  write(t, "responder-encrypted-chunked", with_mode(kModeChunked, 42, from_initiator));
  write(t, "initiator-plain-chunked",
        with_mode(kModeInitiator | kModePlain | kModeChunked, 7, plain_from_responder));
  write(t, "tamper-none", with_mode(kModeTamper, 0, {}));
  // Flip a bit in the initiator's hello ciphertext and in the responder's confirmation.
  write(t, "tamper-two", with_mode(kModeTamper, 0, Bytes{0x00, 0x30, 0x01, 0x80, 0x60, 0x80}));
  write(t, "not-weft",
        with_mode(0, 0,
                  Bytes(as_bytes("GET / HTTP/1.1\r\n\r\n").begin(),
                        as_bytes("GET / HTTP/1.1\r\n\r\n").end())));
  Bytes preamble = {'w', 'e', 'f', 't', 1, 1, 1};
  std::string reason = "authentication failed";
  Bytes reject = {2, 0, static_cast<uint8_t>(reason.size())};
  write(t, "rejected", with_mode(kModeInitiator, 0, cat({preamble, reject, as_bytes(reason)})));
  write(t, "version-mismatch", with_mode(0, 0, Bytes{'w', 'e', 'f', 't', 2, 3, 1}));
}

PeerRecord rec(PeerName n, uint64_t version, std::initializer_list<PeerName> edges) {
  PeerRecord r;
  r.name = n;
  r.nickname = "p" + std::to_string(n);
  r.incarnation = 1;
  r.version = version;
  r.port = 6783;
  for (PeerName e : edges) r.edges[e] = Edge{"10.0.0." + std::to_string(e), e < n};
  return r;
}

TopologyMessage updates(std::vector<PeerUpdate> u) {
  TopologyMessage m;
  m.kind = TopologyMessage::kUpdates;
  m.updates = std::move(u);
  return m;
}

// A small mesh around 0x0a (the fuzz target's self): 0x0a-0x0b-0x0c-0x0d, 0x0a-0x0c, 0x0e alone.
TopologyMessage mesh_updates() {
  return updates({full_update(rec(0x0b, 3, {0x0a, 0x0c})),
                  full_update(rec(0x0c, 2, {0x0a, 0x0b, 0x0d})), full_update(rec(0x0d, 1, {0x0c})),
                  full_update(rec(0x0e, 1, {0x0d}))});
}

void topology_message() {
  const std::string t = "topology_message";
  write(t, "updates-mesh", encode_topology_message(mesh_updates()));
  PeerRecord b3 = rec(0x0b, 3, {0x0a, 0x0c}), b4 = rec(0x0b, 4, {0x0a, 0x0d});
  write(t, "updates-full-then-delta",
        encode_topology_message(updates({full_update(b3), delta_update(b3, b4)})));
  write(t, "updates-about-self", encode_topology_message(updates({full_update(rec(0x0a, 9, {}))})));
  TopologyMessage d;
  d.kind = TopologyMessage::kDigest;
  d.digest = 0x0123456789abcdefull;
  d.peer_count = 4;
  write(t, "digest", encode_topology_message(d));
  TopologyMessage s;
  s.kind = TopologyMessage::kSummary;
  s.mode = TopologyMessage::kRepair;
  s.summary = {{0x0b, 1, 3}, {0x0c, 1, 2}, {0x0d, 2, 1}};
  write(t, "summary", encode_topology_message(s));
  TopologyMessage q;
  q.kind = TopologyMessage::kRequest;
  q.request = {0x0b, 0x0e};
  write(t, "request", encode_topology_message(q));
}

void mesh_message() {
  const std::string t = "mesh_message";
  write(t, "heartbeat", encode_heartbeat());
  write(t, "close", encode_close("shutting down"));
  write(t, "neighbor-topology",
        encode_gossip_neighbor("topology", encode_topology_message(mesh_updates())));
  TopologyMessage d;
  d.kind = TopologyMessage::kDigest;
  d.digest = 42;
  d.peer_count = 3;
  write(t, "broadcast-digest",
        encode_gossip_broadcast("topology", 0x0b, encode_topology_message(d)));
  write(t, "unicast", encode_gossip_unicast("ipam", 0x0b, 0x0a, as_bytes("claim 10.32.0.0/12")));
  TopologyMessage s;
  s.kind = TopologyMessage::kSummary;
  s.mode = TopologyMessage::kJoin;
  s.summary = {{0x0b, 1, 3}};
  write(t, "neighbor-summary", encode_gossip_neighbor("topology", encode_topology_message(s)));
  write(t, "frames", encode_frames(as_bytes("opaque data-plane frame batch")));
}

void peer_hello() {
  const std::string t = "peer_hello";
  for (const PeerHello& h : {kInitiatorHello, kResponderHello,
                             PeerHello{0xffffffffffffull, std::string(255, 'n'), ~0ull, 65535},
                             PeerHello{0, "", 0, 0}}) {
    Bytes b;
    encode_peer_hello(h, b);
    write(t, "hello-" + std::to_string(h.nickname.size()) + "-" + std::to_string(h.port), b);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: fuzz_make_corpus <corpus dir>\n";
    return 2;
  }
  install_deterministic_rng();
  g_root = argv[1];
  control_channel();
  topology_message();
  mesh_message();
  peer_hello();
  return 0;
}
