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
#include "dns/message.h"
#include "fuzz_common.h"
#include "ipam/messages.h"
#include "router/crypto/control_channel.h"
#include "router/dataplane/data_session.h"
#include "router/dataplane/frame_batch.h"
#include "router/dataplane/gso.h"
#include "router/mesh/peer_record.h"
#include "router/wire/mesh_message.h"
#include "router/wire/peer_hello.h"
#include "router/wire/topology_message.h"
#include "state/state_messages.h"

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
  s.buckets = 0;
  for (PeerName p : {0x0b, 0x0c, 0x0d}) s.buckets |= 1ull << digest_bucket(p);
  s.summary = {{0x0b, 1, 3}, {0x0c, 1, 2}, {0x0d, 2, 1}};
  write(t, "summary", encode_topology_message(s));
  TopologyMessage bd;
  bd.kind = TopologyMessage::kBuckets;
  for (int i = 0; i < kDigestBuckets; ++i) bd.bucket_digests.push_back(mix64(i));
  write(t, "bucket-digests", encode_topology_message(bd));
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

// ---- data plane

Bytes ether(uint64_t dst, uint64_t src, uint16_t type, size_t payload) {
  Bytes f(14 + payload);
  for (int i = 0; i < 6; ++i) {
    f[i] = static_cast<uint8_t>(dst >> (40 - 8 * i));
    f[6 + i] = static_cast<uint8_t>(src >> (40 - 8 * i));
  }
  f[12] = static_cast<uint8_t>(type >> 8);
  f[13] = static_cast<uint8_t>(type);
  for (size_t i = 0; i < payload; ++i) f[14 + i] = static_cast<uint8_t>(i * 7);
  return f;
}

constexpr uint64_t kBroadcast = 0xffffffffffffull;
const Bytes kZeroVnet(kVnetHdrLen, 0);

Bytes batch(uint8_t kind, PeerName src, PeerName dst, std::initializer_list<Bytes> frames) {
  Bytes b;
  begin_frame_batch(b, kind, src, dst);
  for (const Bytes& f : frames)
    if (!append_frame(b, kZeroVnet, f)) throw std::runtime_error("frame too long");
  return b;
}

void frame_batch() {
  const std::string t = "frame_batch";
  write(t, "arp-and-ip",
        batch(kBatchFrames, 0x0a, 0,
              {ether(kBroadcast, 0x02000000000a, 0x0806, 28),
               ether(0x02000000000b, 0x02000000000a, 0x0800, 100)}));
  write(t, "probe", batch(kBatchProbe, 0xfedcba987654ull, 0x0b, {}));
  write(t, "empty", batch(kBatchFrames, 1, 2, {}));
  write(t, "jumbo",
        batch(kBatchFrames, 0x0c, 0x0d, {ether(0x020000000001, 0x020000000002, 0x86dd, 8986)}));
}

// Ethernet + IPv4 or IPv6 + TCP with `payload` bytes, as a TAP hands over a TSO super-frame.
Bytes tso(bool v4, size_t payload, uint16_t mss, bool options) {
  size_t ip_len = v4 ? (options ? 24 : 20) : 40, tcp_len = options ? 32 : 20;
  Bytes f = ether(0x020000000002, 0x020000000001, v4 ? 0x0800 : 0x86dd, ip_len + tcp_len + payload);
  uint8_t* ip = f.data() + 14;
  std::fill(ip, ip + ip_len + tcp_len, 0);
  if (v4) {
    ip[0] = static_cast<uint8_t>(0x40 | ip_len / 4);
    ip[8] = 64;
    ip[9] = 6;
    ip[12] = 10, ip[15] = 1, ip[16] = 10, ip[19] = 2;
  } else {
    ip[0] = 0x60;
    ip[6] = 6;
    ip[7] = 64;
    ip[8] = 0xfd, ip[23] = 1, ip[24] = 0xfd, ip[39] = 2;
  }
  uint8_t* tcp = ip + ip_len;
  tcp[1] = 80;
  tcp[4] = 0xff, tcp[5] = 0xff, tcp[6] = 0xff, tcp[7] = 0x00;  // the sequence wraps
  tcp[12] = static_cast<uint8_t>(tcp_len / 4 << 4);
  tcp[13] = 0x99;  // CWR ACK PSH FIN
  VnetHdr h;
  h.flags = VnetHdr::kNeedsCsum;
  h.gso_type = v4 ? VnetHdr::kGsoTcpV4 : VnetHdr::kGsoTcpV6;
  h.hdr_len = static_cast<uint16_t>(14 + ip_len + tcp_len);
  h.gso_size = mss;
  h.csum_start = static_cast<uint16_t>(14 + ip_len);
  h.csum_offset = 16;
  Bytes out(kVnetHdrLen);
  h.write(out.data());
  out.insert(out.end(), f.begin(), f.end());
  return out;
}

void gso() {
  const std::string t = "gso";
  write(t, "tcp4-3-segments", tso(true, 2500, 1000, false));
  write(t, "tcp4-options", tso(true, 1400, 536, true));
  write(t, "tcp6-2-segments", tso(false, 2000, 1200, false));
  write(t, "tcp6-options-1-segment", tso(false, 100, 1440, true));
  Bytes plain = kZeroVnet, f = ether(0x020000000002, 0x020000000001, 0x0800, 60);
  plain.insert(plain.end(), f.begin(), f.end());
  write(t, "no-gso", plain);
  // A UDP datagram whose checksum the kernel left to us (complete_checksum).
  VnetHdr h;
  h.flags = VnetHdr::kNeedsCsum;
  h.csum_start = 34;
  h.csum_offset = 6;
  Bytes udp(kVnetHdrLen);
  h.write(udp.data());
  Bytes u = ether(0x020000000002, 0x020000000001, 0x0800, 20 + 8 + 32);
  u[14] = 0x45, u[23] = 17;
  udp.insert(udp.end(), u.begin(), u.end());
  write(t, "udp-needs-csum", udp);
}

// fuzz_inner_frame: u16 MTU, then virtio-net header and frame.
void inner_frame() {
  const std::string t = "inner_frame";
  auto with_mtu = [](uint16_t mtu, const Bytes& vnet_frame) {
    Bytes b = {static_cast<uint8_t>(mtu >> 8), static_cast<uint8_t>(mtu)};
    b.insert(b.end(), vnet_frame.begin(), vnet_frame.end());
    return b;
  };
  Bytes big4 = tso(true, 1000, 1000, false);  // one segment of 1040 bytes
  big4[kVnetHdrLen + 14 + 6] = 0x40;          // DF
  big4[1] = VnetHdr::kGsoNone;
  write(t, "ipv4-df-over-mtu", with_mtu(1000, big4));
  write(t, "ipv4-df-fits", with_mtu(1400, big4));
  Bytes tso4 = tso(true, 9000, 1448, false);
  tso4[kVnetHdrLen + 14 + 6] = 0x40;
  write(t, "tso4-segments-over-mtu", with_mtu(1400, tso4));
  Bytes big6 = tso(false, 1400, 1400, false);
  big6[1] = VnetHdr::kGsoNone;
  write(t, "ipv6-over-mtu", with_mtu(1280, big6));
  write(t, "tso6", with_mtu(1280, tso(false, 4000, 1200, true)));
  Bytes arp = kZeroVnet, a = ether(0xffffffffffff, 0x020000000001, 0x0806, 28);
  const uint8_t head[] = {0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 1, 10, 32, 0, 1};
  std::copy(std::begin(head), std::end(head), a.begin() + 14);
  arp.insert(arp.end(), a.begin(), a.end());
  write(t, "arp", with_mtu(1400, arp));
}

// As fuzz_datagram.cpp derives its keys.
noise::Key dp_key(uint8_t v) {
  noise::Key k;
  for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<uint8_t>(v * 7 + i);
  return k;
}

void datagram() {
  const std::string t = "datagram";
  auto with_mode = [](uint8_t mode, const Bytes& rest) {
    Bytes b = {mode};
    b.insert(b.end(), rest.begin(), rest.end());
    return b;
  };
  // Mode 0: sealed for the target's receiving session (receive key dp_key(2)), and garbage.
  DataSession s(DataCipher::kChaCha20Poly1305, dp_key(2), dp_key(1), 7, 0);
  Bytes d;
  s.seal(batch(kBatchFrames, 0x0a, 0, {ether(kBroadcast, 0x02000000000a, 0x0806, 28)}), d, 0);
  write(t, "raw-sealed", with_mode(0, d));
  write(t, "raw-header-only", with_mode(0, Bytes{1, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 9}));
  // Mode 1 scripts: rekey every 2 packets, time limit 8*20 ms, keep old keys 4*10 ms.
  //   op&3: 0 seal (len, bytes), 1 deliver (idx), 2 flip (idx, u16 pos, xor), 3 resize (idx, u16)
  //   op>>2: 7 ms steps of time.
  Bytes script = {2, 20, 10};
  for (int i = 0; i < 6; ++i)
    script.insert(script.end(), {0x00, 4, 'd', 'a', 't', static_cast<uint8_t>('0' + i)});
  script.insert(script.end(), {0x01, 0, 0x01, 2, 0x01, 1,  0x01, 0, 0x05, 4, 0x02, 3, 0,  17, 0x80,
                               0x01, 3, 0x03, 5, 0,    20, 0xfd, 5, 0x01, 5, 0x00, 1, 'x'});
  write(t, "session-script", with_mode(1, script));
  write(t, "session-script-aes", with_mode(1 | 4, script));
  // Mode 2: a header carrying the core's receiver id (patched in by option 16).
  Bytes fake(64, 0);
  fake[0] = 1;
  fake[15] = 3;
  write(t, "core-raw-patched-id", with_mode(2 | 16, fake));
  write(t, "core-raw-from-c", with_mode(2 | 8, fake));
  // Mode 3: op, time factor, u16 length, plaintext batch [, u16 pos, xor when op&2].
  //   op&1 fallback, op&2 flip a byte, op&4 from a new address, op&8 replay the previous one.
  auto op = [](Bytes& out, uint8_t o, uint8_t time, const Bytes& pt, Bytes extra = {}) {
    out.insert(out.end(),
               {o, time, static_cast<uint8_t>(pt.size() >> 8), static_cast<uint8_t>(pt.size())});
    out.insert(out.end(), pt.begin(), pt.end());
    out.insert(out.end(), extra.begin(), extra.end());
  };
  Bytes arp = batch(kBatchFrames, 0x0a, 0, {ether(kBroadcast, 0x02000000000a, 0x0806, 28)});
  Bytes to_d = batch(kBatchFrames, 0x0a, 0x0d, {ether(0x02000000000d, 0x02000000000a, 0x0800, 80)});
  Bytes to_b = batch(kBatchFrames, 0x0a, 0x0b, {ether(0x02000000000b, 0x02000000000a, 0x0800, 40)});
  Bytes probe = batch(kBatchProbe, 0x0a, 0x0b, {});
  Bytes core;
  op(core, 0x00, 0, arp);
  op(core, 0x10, 10, to_d);
  op(core, 0x08, 0, to_b);
  op(core, 0x01, 0, arp);
  op(core, 0x02, 0, to_d, {0, 30, 0x40});
  op(core, 0xf4, 200, to_b);  // 5 minutes later (a rekey) from a new address
  op(core, 0x00, 0, probe);
  write(t, "core-script", with_mode(3, core));
  write(t, "core-script-aes", with_mode(3 | 4, core));
}

// IPAM messages, each framed as the target reads them (u16 length + bytes).
void ipam_message() {
  const std::string t = "ipam_message";
  auto framed = [](std::initializer_list<Bytes> msgs) {
    Bytes out;
    for (const Bytes& m : msgs) {
      out.push_back(uint8_t(m.size() >> 8));
      out.push_back(uint8_t(m.size()));
      out.insert(out.end(), m.begin(), m.end());
    }
    return out;
  };
  using namespace weft::ipam;
  Ipv4Cidr range = parse_ipv4_cidr("10.32.0.0/26");
  Ring seeded = Ring::seeded(range, {0x0a, 0x0b}, 7);
  Ring given = seeded;
  given.give(0x0b, {*parse_ipv4("10.32.0.40"), *parse_ipv4("10.32.0.50")}, 0x0a);
  Ring other = Ring::seeded(range, {0x0b}, 3);
  write(t, "rings", framed({encode(RingMsg{seeded}), encode(RingMsg{given})}));
  write(t, "earlier-bootstrap", framed({encode(RingMsg{other})}));
  write(t, "grant", framed({encode(RequestMsg{1, std::nullopt}), encode(GrantMsg{1, given})}));
  write(t, "claim",
        framed({encode(RequestMsg{2, *parse_ipv4("10.32.0.3")}),
                encode(RefuseMsg{2, RefuseReason::kInUse, std::nullopt}),
                encode(RefuseMsg{3, RefuseReason::kNoSpace, given})}));
  write(t, "reclaim", framed({encode(RequestMsg{4, *parse_ipv4("10.32.0.3"), true})}));
  write(t, "proposal",
        framed({encode(ProposalMsg{1, 100, 2, {0x0a, 0x0b}}), encode(DigestMsg{seeded.digest()})}));
}

}  // namespace

// Queries dig 9.18 sent (see tests/unit/test_dns_message.cpp), a dnsmasq reply, our own
// forwarded query and answers, and a pointer loop.
void dns_message() {
  auto hex = [](const char* h) {
    Bytes b;
    if (!from_hex(h, b)) throw std::runtime_error("bad hex");
    return b;
  };
  write("dns_message", "dig-default",
        hex("e42901200001000000000001037765620477656674056c6f63616c000001000100002904d00000000000"
            "0c000a00080aee8625e1851fc4"));
  write("dns_message", "dig-noedns",
        hex("8e5501200001000000000000037765620477656674056c6f63616c0000010001"));
  write("dns_message", "dig-aaaa-bufsize",
        hex("445001200001000000000001035765620457656674054c6f63616c00001c0001000029100000000000"
            "0000"));
  write("dns_message", "dig-ptr",
        hex("b962012000010000000000010135013002333202313007696e2d61646472046172706100000c00010000"
            "2904d000000000000c000a00088e6f0e1832434039"));
  write("dns_message", "dig-soa-dnssec",
        hex("99a3002000010000000000010473686f700477656674056c6f63616c000006000100002904d000008000"
            "0000"));
  write("dns_message", "dnsmasq-ptr-reply",
        hex("b962858000010001000000010135013002333202313007696e2d61646472046172706100000c0001c00c"
            "000c0001000000010010037765620477656674056c6f63616c0000002904d0000000000000"));
  write("dns_message", "pointer-loop", hex("123401000001000000000000c00c00010001"));
  dns::Query q;
  q.id = 7;
  q.rd = true;
  q.question = {*dns::parse_name("Example.COM"), dns::kTypeA, dns::kClassIN};
  write("dns_message", "weft-forwarded", dns::encode_forward_query(q, 7));
  dns::Response r = dns::error_response(q, true, dns::kNoError);
  for (uint32_t i = 0; i < 40; ++i) r.answers.push_back({q.question.name, dns::kTypeA, 60, i});
  write("dns_message", "reply-truncated", dns::encode_response(r, 512));
  write("dns_message", "reply-full", dns::encode_response(r, 4096));
}

void state_message() {
  const std::string t = "state_message";
  using namespace weft::state;
  write(t, "summary", encode_state_message(SummaryMsg{0x1122334455667788ull}));
  BucketsMsg b;
  b.digest[7] = 42;
  b.reply = true;
  write(t, "buckets", encode_state_message(b));
  EntriesMsg e{{{Kind::kWorkload,
                 "0b:00:00:00:00:02/w1",
                 {1ull << 20, 0x0b0000000002},
                 false,
                 "{\"name\":\"web\"}"},
                {Kind::kPolicy, "default/deny", {5, 0x0b0000000002}, true, ""},
                {Kind::kWorkload, "0a:00:00:00:00:01/w1", {1ull << 40, 0x0a0000000001}, true, ""}}};
  write(t, "entries", encode_state_message(e));
}

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
  frame_batch();
  gso();
  inner_frame();
  datagram();
  ipam_message();
  dns_message();
  state_message();
  return 0;
}
