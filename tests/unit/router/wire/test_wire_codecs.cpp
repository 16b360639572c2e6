// Wire codecs: PeerHello, MeshMessage and TopologyMessage. Golden vectors are written out by hand
// from the formats documented in the headers, so a change to the bytes on the wire shows up here
// (peers of different versions must keep understanding each other). Decoders get untrusted bytes:
// every truncation, trailing byte, out-of-range name and oversized count must be a DecodeError.
#include <doctest/doctest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <random>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "router/mesh/peer_record.h"
#include "router/wire/mesh_message.h"
#include "router/wire/peer_hello.h"
#include "router/wire/topology_message.h"

using weft::Bytes;
using weft::ByteView;
using weft::DecodeError;
using weft::MeshMessage;
using weft::MeshMessageType;
using weft::PeerHello;
using weft::PeerUpdate;
using weft::TopologyMessage;

// Allocation tracking, to show that a hostile count is rejected before anything proportional to it
// is allocated. Only active inside an AllocationProbe; otherwise plain malloc/free.
namespace {
std::atomic<bool> g_probe_active{false};
std::atomic<size_t> g_probe_largest{0};
}  // namespace

// noinline keeps GCC from pairing the inlined free() with operator new (-Wmismatched-new-delete).
[[gnu::noinline]] void* operator new(size_t n) {
  if (g_probe_active.load(std::memory_order_relaxed)) {
    size_t cur = g_probe_largest.load(std::memory_order_relaxed);
    while (n > cur && !g_probe_largest.compare_exchange_weak(cur, n)) {
    }
  }
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
[[gnu::noinline]] void operator delete(void* p) noexcept {
  std::free(p);
}
[[gnu::noinline]] void operator delete(void* p, size_t) noexcept {
  std::free(p);
}
// The nothrow forms too (std::stable_sort's temporary buffer uses them): left to the sanitizer's
// own operator new, their blocks would reach the free() above, an alloc-dealloc mismatch.
[[gnu::noinline]] void* operator new(size_t n, const std::nothrow_t&) noexcept {
  return std::malloc(n ? n : 1);
}
[[gnu::noinline]] void operator delete(void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}

namespace {

struct AllocationProbe {
  AllocationProbe() {
    g_probe_largest = 0;
    g_probe_active = true;
  }
  ~AllocationProbe() { g_probe_active = false; }
  size_t largest() const { return g_probe_largest.load(); }
};

Bytes unhex(std::string_view s) {
  Bytes b;
  REQUIRE(weft::from_hex(s, b));
  return b;
}

std::string hex(ByteView b) {
  return weft::to_hex(b);
}

// Each prefix in a buffer of exactly its size, so that a read past the end is caught by ASan.
template <typename Decode>
void check_every_prefix_throws(const Bytes& full, size_t from, Decode decode) {
  for (size_t n = from; n < full.size(); ++n) {
    CAPTURE(n);
    Bytes prefix(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
    CHECK_THROWS_AS(decode(prefix), DecodeError);
  }
}

void set_u64(Bytes& b, size_t off, uint64_t v) {
  for (int i = 0; i < 8; ++i) b[off + i] = static_cast<uint8_t>(v >> (56 - 8 * i));
}

void check_same(const PeerUpdate& a, const PeerUpdate& b) {
  CHECK(a.name == b.name);
  CHECK(a.nickname == b.nickname);
  CHECK(a.incarnation == b.incarnation);
  CHECK(a.version == b.version);
  CHECK(a.port == b.port);
  CHECK(a.base_version == b.base_version);
  CHECK(a.upserts == b.upserts);
  CHECK(a.removals == b.removals);
}

void check_same(const TopologyMessage& a, const TopologyMessage& b) {
  REQUIRE(a.kind == b.kind);
  switch (a.kind) {
    case TopologyMessage::kUpdates:
      REQUIRE(a.updates.size() == b.updates.size());
      for (size_t i = 0; i < a.updates.size(); ++i) check_same(a.updates[i], b.updates[i]);
      break;
    case TopologyMessage::kDigest:
      CHECK(a.digest == b.digest);
      CHECK(a.peer_count == b.peer_count);
      break;
    case TopologyMessage::kSummary:
      CHECK(a.mode == b.mode);
      CHECK(a.buckets == b.buckets);
      REQUIRE(a.summary.size() == b.summary.size());
      for (size_t i = 0; i < a.summary.size(); ++i) {
        CHECK(a.summary[i].name == b.summary[i].name);
        CHECK(a.summary[i].incarnation == b.summary[i].incarnation);
        CHECK(a.summary[i].version == b.summary[i].version);
      }
      break;
    case TopologyMessage::kRequest:
      CHECK(a.request == b.request);
      break;
    case TopologyMessage::kBuckets:
      CHECK(a.bucket_digests == b.bucket_digests);
      break;
  }
}

// ---- golden vectors ----

const PeerHello kHello{0xce31e006451aull, "host-1", 0x0102030405060708ull, 6783};
constexpr const char* kHelloHex =
    "0000ce31e006451a"  // name
    "0006686f73742d31"  // str16 "host-1"
    "0102030405060708"  // incarnation
    "1a7f";             // port 6783

weft::PeerRecord record_a() {
  // Aggregate initialisation: GCC 12 warns falsely (-Wrestrict) on assigning a short literal.
  weft::PeerRecord r{0x0a, "a", 5, 7, 6783, {}};
  r.edges[0x0b] = weft::Edge{"10.0.0.2", true};
  return r;
}

weft::PeerRecord record_a_next() {
  weft::PeerRecord r = record_a();
  r.version = 8;
  r.edges.erase(0x0b);
  r.edges[0x0c] = weft::Edge{"10.0.0.3", false};
  return r;
}

constexpr const char* kFullUpdateHex =
    "01"                    // kind kUpdates
    "00000001"              // one update
    "000000000000000a"      // name
    "000161"                // nickname "a"
    "0000000000000005"      // incarnation
    "0000000000000007"      // version
    "1a7f"                  // port
    "0000000000000000"      // base_version 0: full record
    "00000001"              // one upsert
    "000000000000000b"      //   peer
    "000831302e302e302e32"  // ip "10.0.0.2"
    "01"                    //   outbound
    "00000000";             // no removals

constexpr const char* kDeltaUpdateHex =
    "01"
    "00000001"
    "000000000000000a"
    "000161"
    "0000000000000005"
    "0000000000000008"  // version 8
    "1a7f"
    "0000000000000007"      // against version 7
    "00000001"              // one upsert
    "000000000000000c"      //   peer 0x0c
    "000831302e302e302e33"  //   ip "10.0.0.3"
    "00"                    //   inbound
    "00000001"              // one removal
    "000000000000000b";     //   peer 0x0b

// Byte offsets inside kFullUpdateHex / kDeltaUpdateHex (kind 1 + count 4, then the update).
constexpr size_t kOffName = 5;
constexpr size_t kOffVersion = kOffName + 8 + 3 + 8;           // after the name, "a", incarnation
constexpr size_t kOffBase = kOffVersion + 8 + 2;               // after the version and port
constexpr size_t kOffUpsertPeer = kOffBase + 8 + 4;            // after base_version and the count
constexpr size_t kOffUpsertFlag = kOffUpsertPeer + 8 + 2 + 8;  // after peer and "10.0.0.x"
constexpr size_t kOffRemovalPeer = kOffUpsertFlag + 1 + 4;     // delta only

constexpr const char* kDigestHex =
    "02"
    "1122334455667788"
    "00000003";
constexpr const char* kSummaryHex =
    "03"
    "01"                // mode kRepair
    "8000000000000401"  // buckets 0, 10 and 63
    "00000002"
    "000000000000000a"
    "0000000000000001"
    "0000000000000002"
    "0000ce31e006451a"
    "0000000000000003"
    "0000000000000100";
// kBuckets: exactly 64 bucket digests, nothing else.
std::string buckets_hex() {
  std::string h =
      "05"
      "0102030405060708"
      "1122334455667788";
  for (int i = 2; i < 63; ++i) h += "0000000000000000";
  return h + "ffffffffffffffff";
}
constexpr const char* kRequestHex =
    "04"
    "00000002"
    "000000000000000a"
    "000000000000000b";

TopologyMessage digest_message() {
  TopologyMessage m;
  m.kind = TopologyMessage::kDigest;
  m.digest = 0x1122334455667788ull;
  m.peer_count = 3;
  return m;
}

TopologyMessage summary_message() {
  TopologyMessage m;
  m.kind = TopologyMessage::kSummary;
  m.mode = TopologyMessage::kRepair;
  m.buckets = 0x8000000000000401ull;
  m.summary = {{0x0a, 1, 2}, {0xce31e006451aull, 3, 0x100}};
  return m;
}

TopologyMessage buckets_message() {
  TopologyMessage m;
  m.kind = TopologyMessage::kBuckets;
  m.bucket_digests.assign(weft::kDigestBuckets, 0);
  m.bucket_digests[0] = 0x0102030405060708ull;
  m.bucket_digests[1] = 0x1122334455667788ull;
  m.bucket_digests[63] = ~0ull;
  return m;
}

TopologyMessage request_message() {
  TopologyMessage m;
  m.kind = TopologyMessage::kRequest;
  m.request = {0x0a, 0x0b};
  return m;
}

TopologyMessage updates_message(std::vector<PeerUpdate> u) {
  TopologyMessage m;
  m.kind = TopologyMessage::kUpdates;
  m.updates = std::move(u);
  return m;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// PeerHello

TEST_CASE("PeerHello golden vector") {
  Bytes b;
  weft::encode_peer_hello(kHello, b);
  CHECK(hex(b) == kHelloHex);
  CHECK(weft::decode_peer_hello(unhex(kHelloHex)) == kHello);
}

TEST_CASE("PeerHello round trips, including empty, binary and maximum-length nicknames") {
  std::mt19937_64 rng(1);
  for (int i = 0; i < 200; ++i) {
    PeerHello h;
    h.name = rng() & weft::kPeerNameMask;
    size_t len = i == 0 ? 0 : i == 1 ? weft::kMaxNicknameLen : rng() % 40;
    for (size_t k = 0; k < len; ++k) h.nickname.push_back(static_cast<char>(rng()));
    h.incarnation = rng();
    h.port = static_cast<uint16_t>(rng());
    Bytes b;
    weft::encode_peer_hello(h, b);
    CHECK(b.size() == 8 + 2 + h.nickname.size() + 8 + 2);
    CHECK(weft::decode_peer_hello(b) == h);
  }
}

TEST_CASE("PeerHello: a nickname over 255 bytes is cut on encode, refused on decode") {
  PeerHello h = kHello;
  h.nickname = std::string(300, 'n');
  Bytes b;
  weft::encode_peer_hello(h, b);
  CHECK(weft::decode_peer_hello(b).nickname == std::string(weft::kMaxNicknameLen, 'n'));

  Bytes crafted = unhex("0000ce31e006451a0100");  // announces a 256-byte nickname
  crafted.resize(crafted.size() + 256, 'n');
  crafted.resize(crafted.size() + 10, 0);
  CHECK_THROWS_AS(weft::decode_peer_hello(crafted), DecodeError);
}

TEST_CASE("PeerHello: every truncation, trailing bytes and out-of-range names are rejected") {
  Bytes full = unhex(kHelloHex);
  check_every_prefix_throws(full, 0, [](const Bytes& b) { return weft::decode_peer_hello(b); });
  Bytes longer = full;
  longer.push_back(0);
  CHECK_THROWS_AS(weft::decode_peer_hello(longer), DecodeError);
  for (uint64_t bad : {0x0001000000000000ull, 0x8000000000000000ull, ~0ull}) {
    Bytes b = full;
    set_u64(b, 0, bad);
    CHECK_THROWS_AS(weft::decode_peer_hello(b), DecodeError);
  }
  Bytes max_name = full;
  set_u64(max_name, 0, weft::kPeerNameMask);
  CHECK(weft::decode_peer_hello(max_name).name == weft::kPeerNameMask);
}

// ---------------------------------------------------------------------------------------------
// MeshMessage

TEST_CASE("MeshMessage golden vectors for each type") {
  CHECK(hex(weft::encode_heartbeat()) == "01");
  CHECK(hex(weft::encode_close("bye")) ==
        "02"
        "0003"
        "627965");
  CHECK(hex(weft::encode_gossip_neighbor("topology", Bytes{0xaa, 0xbb})) ==
        "03"
        "0008"
        "746f706f6c6f6779"
        "aabb");
  CHECK(hex(weft::encode_gossip_unicast("ipam", 0xce31e006451aull, 0xb2, Bytes{1, 2})) ==
        "04"
        "0004"
        "6970616d"
        "0000ce31e006451a"
        "00000000000000b2"
        "0102");
  CHECK(hex(weft::encode_gossip_broadcast("dns", 0x123456789abcull, weft::as_bytes("x"))) ==
        "05"
        "0003"
        "646e73"
        "0000123456789abc"
        "78");
  CHECK(hex(weft::encode_frames(Bytes{0xde, 0xad})) ==
        "06"
        "dead");

  Bytes hb = unhex("01");
  CHECK(weft::decode_mesh_message(hb).type == MeshMessageType::kHeartbeat);

  Bytes close = unhex("020003627965");
  MeshMessage c = weft::decode_mesh_message(close);
  CHECK(c.type == MeshMessageType::kClose);
  CHECK(c.text == "bye");

  Bytes nb = unhex("030008746f706f6c6f6779aabb");
  MeshMessage n = weft::decode_mesh_message(nb);
  CHECK(n.type == MeshMessageType::kGossipNeighbor);
  CHECK(n.text == "topology");
  CHECK(Bytes(n.payload.begin(), n.payload.end()) == Bytes{0xaa, 0xbb});
  CHECK(n.payload.data() == nb.data() + 11);  // a view into the input, no copy

  Bytes uc = unhex("0400046970616d0000ce31e006451a00000000000000b20102");
  MeshMessage u = weft::decode_mesh_message(uc);
  CHECK(u.type == MeshMessageType::kGossipUnicast);
  CHECK(u.text == "ipam");
  CHECK(u.src == 0xce31e006451aull);
  CHECK(u.dst == 0xb2);
  CHECK(Bytes(u.payload.begin(), u.payload.end()) == Bytes{1, 2});

  Bytes bc = unhex("050003646e730000123456789abc78");
  MeshMessage m = weft::decode_mesh_message(bc);
  CHECK(m.type == MeshMessageType::kGossipBroadcast);
  CHECK(m.text == "dns");
  CHECK(m.src == 0x123456789abcull);
  CHECK(Bytes(m.payload.begin(), m.payload.end()) == Bytes{'x'});

  Bytes fr = unhex("06dead");
  MeshMessage f = weft::decode_mesh_message(fr);
  CHECK(f.type == MeshMessageType::kFrames);
  CHECK(Bytes(f.payload.begin(), f.payload.end()) == Bytes{0xde, 0xad});
  CHECK(f.payload.data() == fr.data() + 1);
}

TEST_CASE("MeshMessage round trips with empty and large payloads") {
  std::mt19937_64 rng(2);
  for (int i = 0; i < 100; ++i) {
    Bytes payload(i == 0 ? 0 : rng() % (i == 1 ? 70000 : 200));
    for (auto& x : payload) x = static_cast<uint8_t>(rng());
    std::string channel(rng() % (weft::kMaxChannelNameLen + 1), 'c');
    weft::PeerName src = rng() & weft::kPeerNameMask, dst = rng() & weft::kPeerNameMask;
    Bytes e = weft::encode_gossip_unicast(channel, src, dst, payload);
    MeshMessage m = weft::decode_mesh_message(e);
    CHECK(m.type == MeshMessageType::kGossipUnicast);
    CHECK(m.text == channel);
    CHECK(m.src == src);
    CHECK(m.dst == dst);
    CHECK(Bytes(m.payload.begin(), m.payload.end()) == payload);
    Bytes n = weft::encode_gossip_neighbor(channel, payload);
    CHECK(Bytes(weft::decode_mesh_message(n).payload.begin(),
                weft::decode_mesh_message(n).payload.end()) == payload);
    Bytes b = weft::encode_gossip_broadcast(channel, src, payload);
    MeshMessage mb = weft::decode_mesh_message(b);
    CHECK(mb.src == src);
    CHECK(Bytes(mb.payload.begin(), mb.payload.end()) == payload);
  }
  // A close reason is cut at 1024 bytes, which is what the decoder accepts.
  std::string long_reason(5000, 'r');
  CHECK(weft::decode_mesh_message(weft::encode_close(long_reason)).text == std::string(1024, 'r'));
}

TEST_CASE("MeshMessage: truncated headers throw; gossip payload is the rest of the message") {
  auto dec = [](const Bytes& b) { return weft::decode_mesh_message(b); };
  check_every_prefix_throws(unhex("01"), 0, dec);
  check_every_prefix_throws(unhex("020003627965"), 0, dec);
  // Headers: type + str16 channel (+ u64 src (+ u64 dst)). Any cut inside the header throws; a
  // cut inside the payload is a shorter payload.
  struct G {
    const char* hex;
    size_t header;
  };
  for (G g : {G{"030008746f706f6c6f6779aabb", 11},
              G{"0400046970616d0000ce31e006451a00000000000000b20102", 23},
              G{"050003646e730000123456789abc78", 14}, G{"06dead", 1}}) {
    CAPTURE(g.hex);
    Bytes full = unhex(g.hex);
    Bytes header(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(g.header));
    check_every_prefix_throws(header, 0, dec);
    for (size_t n = g.header; n <= full.size(); ++n) {
      Bytes prefix(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
      CHECK(weft::decode_mesh_message(prefix).payload.size() == n - g.header);
    }
  }
}

TEST_CASE("MeshMessage: trailing bytes after fixed-size types, bad types, names and lengths") {
  CHECK_THROWS_AS(weft::decode_mesh_message(unhex("0100")), DecodeError);
  CHECK_THROWS_AS(weft::decode_mesh_message(unhex("02000362796500")), DecodeError);
  for (const char* t : {"00", "07", "ff", "80"})
    CHECK_THROWS_AS(weft::decode_mesh_message(unhex(t)), DecodeError);
  // Names with bits above 48 set, in each position.
  Bytes uc = unhex("0400046970616d0000ce31e006451a00000000000000b20102");
  for (size_t off : {size_t(7), size_t(15)}) {
    Bytes b = uc;
    b[off] = 0x01;
    CHECK_THROWS_AS(weft::decode_mesh_message(b), DecodeError);
  }
  Bytes bc = unhex("050003646e730000123456789abc78");
  bc[6] = 0x80;
  CHECK_THROWS_AS(weft::decode_mesh_message(bc), DecodeError);
  // A channel name longer than 64 bytes.
  Bytes longname = weft::encode_gossip_neighbor(std::string(65, 'c'), Bytes{1});
  CHECK_THROWS_AS(weft::decode_mesh_message(longname), DecodeError);
  // A close reason longer than 1024 bytes.
  Bytes longclose = {2, 0x04, 0x01};
  longclose.resize(3 + 1025, 'r');
  CHECK_THROWS_AS(weft::decode_mesh_message(longclose), DecodeError);
  // A length prefix longer than the message.
  CHECK_THROWS_AS(weft::decode_mesh_message(unhex("03ffff61")), DecodeError);
}

// ---------------------------------------------------------------------------------------------
// TopologyMessage

TEST_CASE("TopologyMessage golden vectors: full update and delta") {
  PeerUpdate full = weft::full_update(record_a());
  CHECK(full.is_full());
  CHECK(hex(weft::encode_topology_message(updates_message({full}))) == kFullUpdateHex);

  PeerUpdate delta = weft::delta_update(record_a(), record_a_next());
  CHECK_FALSE(delta.is_full());
  CHECK(delta.base_version == 7);
  CHECK(delta.version == 8);
  CHECK(hex(weft::encode_topology_message(updates_message({delta}))) == kDeltaUpdateHex);

  TopologyMessage df = weft::decode_topology_message(unhex(kFullUpdateHex));
  REQUIRE(df.kind == TopologyMessage::kUpdates);
  REQUIRE(df.updates.size() == 1);
  check_same(df.updates[0], full);
  TopologyMessage dd = weft::decode_topology_message(unhex(kDeltaUpdateHex));
  REQUIRE(dd.updates.size() == 1);
  check_same(dd.updates[0], delta);
  CHECK(dd.updates[0].upserts ==
        std::vector<std::pair<weft::PeerName, weft::Edge>>{{0x0c, {"10.0.0.3", false}}});
  CHECK(dd.updates[0].removals == std::vector<weft::PeerName>{0x0b});
}

TEST_CASE("TopologyMessage golden vectors: digest, summary, request, bucket digests") {
  CHECK(hex(weft::encode_topology_message(digest_message())) == kDigestHex);
  CHECK(hex(weft::encode_topology_message(summary_message())) == kSummaryHex);
  CHECK(hex(weft::encode_topology_message(request_message())) == kRequestHex);
  check_same(weft::decode_topology_message(unhex(kDigestHex)), digest_message());
  check_same(weft::decode_topology_message(unhex(kSummaryHex)), summary_message());
  check_same(weft::decode_topology_message(unhex(kRequestHex)), request_message());
  CHECK(hex(weft::encode_topology_message(buckets_message())) == buckets_hex());
  check_same(weft::decode_topology_message(unhex(buckets_hex())), buckets_message());
  CHECK(hex(weft::encode_topology_message(updates_message({}))) == "0100000000");
  CHECK(weft::decode_topology_message(unhex("0100000000")).updates.empty());
}

TEST_CASE("digest buckets: every peer must hash names alike (splitmix64's finaliser)") {
  CHECK(weft::mix64(0) == 0xe220a8397b1dcdafull);  // splitmix64's first output for seed 0
  CHECK(weft::digest_bucket(0x0a) == 2);
  CHECK(weft::digest_bucket(0xce31e006451aull) == 1);
  CHECK(weft::digest_bucket(1) == 36);
}

TEST_CASE("TopologyMessage round trips (seeded random messages of every kind)") {
  std::mt19937_64 rng(3);
  auto name = [&] { return rng() & weft::kPeerNameMask; };
  auto str = [&](size_t max) {
    std::string s(rng() % (max + 1), ' ');
    for (char& c : s) c = static_cast<char>(rng());
    return s;
  };
  for (int i = 0; i < 300; ++i) {
    TopologyMessage m;
    m.kind = static_cast<TopologyMessage::Kind>(1 + i % 5);
    switch (m.kind) {
      case TopologyMessage::kUpdates:
        for (size_t k = rng() % 5; k > 0; --k) {
          PeerUpdate u;
          u.name = name();
          u.nickname = str(255);
          u.incarnation = rng();
          u.version = 1 + rng() % 1000;
          u.port = static_cast<uint16_t>(rng());
          u.base_version = rng() % 2 ? 0 : rng() % u.version;
          for (size_t e = rng() % 6; e > 0; --e)
            u.upserts.emplace_back(name(), weft::Edge{str(64), rng() % 2 == 0});
          if (!u.is_full())
            for (size_t e = rng() % 4; e > 0; --e) u.removals.push_back(name());
          m.updates.push_back(u);
        }
        break;
      case TopologyMessage::kDigest:
        m.digest = rng();
        m.peer_count = static_cast<uint32_t>(rng());
        break;
      case TopologyMessage::kSummary:
        m.mode = static_cast<TopologyMessage::Mode>(rng() % 3);
        m.buckets = rng();
        for (size_t k = rng() % 10; k > 0; --k) m.summary.push_back({name(), rng(), rng()});
        break;
      case TopologyMessage::kRequest:
        for (size_t k = rng() % 10; k > 0; --k) m.request.push_back(name());
        break;
      case TopologyMessage::kBuckets:
        for (int k = 0; k < weft::kDigestBuckets; ++k) m.bucket_digests.push_back(rng());
        break;
    }
    CAPTURE(i);
    Bytes b = weft::encode_topology_message(m);
    TopologyMessage back = weft::decode_topology_message(b);
    check_same(back, m);
    CHECK(weft::encode_topology_message(back) == b);
  }
}

TEST_CASE("TopologyMessage: a minimal update (no nickname, no edges) round trips") {
  // The smallest PeerUpdate on the wire is 44 bytes: 8+2+8+8+2+8+4+4. A fresh peer with an empty
  // nickname and no connections yet is exactly that.
  PeerUpdate u;
  u.name = 0x0d;
  u.incarnation = 1;
  u.version = 1;
  Bytes b = weft::encode_topology_message(updates_message({u}));
  CHECK(b.size() == 1 + 4 + 44);
  TopologyMessage back;
  CHECK_NOTHROW(back = weft::decode_topology_message(b));
  REQUIRE(back.updates.size() == 1);
  check_same(back.updates[0], u);
}

TEST_CASE("TopologyMessage: whatever the encoder produces from a record decodes") {
  // Nicknames come from --nickname; PeerHello cuts them at 255 bytes but the topology record
  // carries the configured one. A peer whose updates cannot be decoded never joins the mesh.
  weft::PeerRecord r = record_a();
  r.nickname = std::string(300, 'n');
  Bytes b = weft::encode_topology_message(updates_message({weft::full_update(r)}));
  CHECK_NOTHROW(weft::decode_topology_message(b));
}

TEST_CASE("TopologyMessage: every truncation and any trailing byte is rejected") {
  auto dec = [](const Bytes& b) { return weft::decode_topology_message(b); };
  std::string buckets = buckets_hex();
  for (const char* h : {kFullUpdateHex, kDeltaUpdateHex, kDigestHex, kSummaryHex, kRequestHex,
                        buckets.c_str(), "0100000000"}) {
    CAPTURE(h);
    Bytes full = unhex(h);
    check_every_prefix_throws(full, 0, dec);
    Bytes longer = full;
    longer.push_back(0);
    CHECK_THROWS_AS(weft::decode_topology_message(longer), DecodeError);
  }
}

TEST_CASE("TopologyMessage: out-of-range peer names are rejected wherever they appear") {
  struct Case {
    const char* hex;
    size_t name_offset;
  };
  for (Case c : {Case{kFullUpdateHex, kOffName}, Case{kFullUpdateHex, kOffUpsertPeer},
                 Case{kDeltaUpdateHex, kOffRemovalPeer}, Case{kSummaryHex, 14},
                 Case{kSummaryHex, 14 + 24}, Case{kRequestHex, 5 + 8}}) {
    CAPTURE(c.hex);
    CAPTURE(c.name_offset);
    Bytes good = unhex(c.hex);
    REQUIRE_NOTHROW(weft::decode_topology_message(good));
    for (uint64_t bad : {0x0001000000000000ull, 0xffffffffffffffffull}) {
      Bytes b = good;
      set_u64(b, c.name_offset, bad);
      CHECK_THROWS_AS(weft::decode_topology_message(b), DecodeError);
    }
  }
}

TEST_CASE("TopologyMessage: invalid field values are rejected") {
  auto reject = [](Bytes b) { CHECK_THROWS_AS(weft::decode_topology_message(b), DecodeError); };
  for (const char* k : {"00", "05", "ff"}) reject(unhex(k));
  // Summary mode beyond kRepairReply.
  Bytes s = unhex(kSummaryHex);
  s[1] = 3;
  reject(s);
  // Version 0.
  Bytes v0 = unhex(kFullUpdateHex);
  set_u64(v0, kOffVersion, 0);
  reject(v0);
  // A delta whose base is not older than its version.
  Bytes d = unhex(kDeltaUpdateHex);
  set_u64(d, kOffBase, 8);
  reject(d);
  set_u64(d, kOffBase, 9);
  reject(d);
  // An outbound flag that is neither 0 nor 1.
  Bytes f = unhex(kFullUpdateHex);
  f[kOffUpsertFlag] = 2;
  reject(f);
  // A full record that removes edges.
  Bytes fr = unhex(kFullUpdateHex);
  fr.resize(fr.size() - 4);
  for (const char* tail : {"00000001", "000000000000000b"}) {
    Bytes t = unhex(tail);
    fr.insert(fr.end(), t.begin(), t.end());
  }
  reject(fr);
  // A nickname over 255 bytes or an ip over 64 bytes on the wire.
  Bytes nick = unhex(kFullUpdateHex);
  nick[13] = 0x01;  // nickname length 0x0161 = 353
  reject(nick);
  // The encoder cuts them to what the decoder takes, so one long nickname cannot make a whole
  // update message undecodable.
  PeerUpdate u = weft::full_update(record_a());
  u.nickname = std::string(256, 'n');
  u.upserts[0].second.ip = std::string(65, '1');
  TopologyMessage m =
      weft::decode_topology_message(weft::encode_topology_message(updates_message({u})));
  CHECK(m.updates.at(0).nickname.size() == 255);
  CHECK(m.updates.at(0).upserts.at(0).second.ip.size() == 64);
}

TEST_CASE("TopologyMessage: huge counts are rejected without allocating for them") {
  struct Case {
    const char* what;
    Bytes bytes;
  };
  auto with_count = [](const char* prefix, uint32_t n, size_t filler) {
    Bytes b = unhex(prefix);
    for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<uint8_t>(n >> s));
    b.resize(b.size() + filler, 0);
    return b;
  };
  // An update header (name .. base_version) followed by the upsert count.
  const char* update_header =
      "01"
      "00000001"
      "000000000000000a"
      "000161"
      "0000000000000005"
      "0000000000000007"
      "1a7f"
      "0000000000000000";
  const char* delta_header =
      "01"
      "00000001"
      "000000000000000a"
      "000161"
      "0000000000000005"
      "0000000000000008"
      "1a7f"
      "0000000000000007"
      "00000000";
  std::vector<Case> cases = {
      {"updates 2^32-1", with_count("01", 0xffffffffu, 100)},
      {"updates at the limit, too few bytes", with_count("01", 1u << 16, 1000)},
      {"updates over the limit", with_count("01", (1u << 16) + 1, 1000)},
      {"summary 2^32-1", with_count("0301", 0xffffffffu, 100)},
      {"summary at the limit", with_count("0301", 1u << 16, 1000)},
      {"request 2^32-1", with_count("04", 0xffffffffu, 100)},
      {"request at the limit", with_count("04", 1u << 16, 1000)},
      {"upserts 2^32-1", with_count(update_header, 0xffffffffu, 100)},
      {"upserts at the limit", with_count(update_header, 1u << 16, 1000)},
      {"removals 2^32-1", with_count(delta_header, 0xffffffffu, 100)},
      {"removals at the limit", with_count(delta_header, 1u << 16, 1000)},
  };
  for (const Case& c : cases) {
    CAPTURE(c.what);
    AllocationProbe probe;
    CHECK_THROWS_AS(weft::decode_topology_message(c.bytes), DecodeError);
    // Nothing bigger than a small multiple of the input (an exception message, a reserve bounded
    // by the bytes actually present).
    CHECK(probe.largest() < 16 * c.bytes.size() + 4096);
  }
}
