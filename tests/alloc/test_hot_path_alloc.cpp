// The data plane's hot path allocates nothing per packet (ARCHITECTURE.md §4). This binary
// replaces the global operator new / delete with counting versions, wires two DataplaneCores
// together in memory with I/O that itself never allocates (fixed buffers), warms them up (hellos,
// sessions, UDP proven, MACs and IPs learned, buffers grown), and then sends thousands of packets
// both ways: plain frames, TSO super-frames cut into segments, frames too big for the overlay
// (answered with ICMP), broadcasts, with the periodic timer (probes, expiry) running in between.
// Not one allocation may happen in that phase. malloc, calloc, realloc and the aligned variants
// are counted too (replaced here, forwarding to glibc's __libc_* functions; not under a
// sanitizer, which has its own malloc), so a C allocation on the hot path is seen as well. A
// binary of its own because replacing operator new and malloc is global.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <new>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "router/dataplane/dataplane_core.h"
#include "router/dataplane/gso.h"
#include "tests/unit/support/gso_test_frames.h"

using weft::test::vnet_tso4;

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define WEFT_COUNT_MALLOC 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
#define WEFT_COUNT_MALLOC 0
#endif
#endif
#ifndef WEFT_COUNT_MALLOC
#define WEFT_COUNT_MALLOC 1
#endif

namespace {
std::atomic<uint64_t> g_allocations{0};

void count_allocation() {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
}

// operator new: counted here unless malloc counts it (then once, in malloc).
void* counted_alloc(std::size_t n, std::size_t align = 0) {
  if (!WEFT_COUNT_MALLOC || align > alignof(std::max_align_t)) count_allocation();
  if (n == 0) n = 1;
  void* p = align > alignof(std::max_align_t)
                ? std::aligned_alloc(align, (n + align - 1) / align * align)
                : std::malloc(n);
  if (!p) throw std::bad_alloc();
  return p;
}
}  // namespace

#if WEFT_COUNT_MALLOC
// glibc's own allocator, under the names it exports for replacements like this one.
extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
void __libc_free(void*);

void* malloc(std::size_t n) {
  count_allocation();
  return __libc_malloc(n);
}
void* calloc(std::size_t n, std::size_t size) {
  count_allocation();
  return __libc_calloc(n, size);
}
void* realloc(void* p, std::size_t n) {
  count_allocation();
  return __libc_realloc(p, n);
}
void free(void* p) {
  __libc_free(p);
}
void* aligned_alloc(std::size_t align, std::size_t n) {
  return __libc_memalign(align, n);  // counted by operator new (its only caller here) or not
}
void* memalign(std::size_t align, std::size_t n) {
  count_allocation();
  return __libc_memalign(align, n);
}
int posix_memalign(void** out, std::size_t align, std::size_t n) {
  count_allocation();
  void* p = __libc_memalign(align, n);
  if (!p) return ENOMEM;
  *out = p;
  return 0;
}
}
#endif

void* operator new(std::size_t n) {
  return counted_alloc(n);
}
void* operator new[](std::size_t n) {
  return counted_alloc(n);
}
void* operator new(std::size_t n, std::align_val_t a) {
  return counted_alloc(n, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t n, std::align_val_t a) {
  return counted_alloc(n, static_cast<std::size_t>(a));
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return counted_alloc(n);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return counted_alloc(n);
  } catch (...) {
    return nullptr;
  }
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
  std::free(p);
}

using namespace weft;

namespace {

constexpr PeerName kA = 0xa, kB = 0xb;

Mac mac(uint64_t v) {
  return Mac::from_u64(0x020000000000ull | v);
}

// IPv4 + TCP from 10.32.0.`from` to 10.32.0.`to` with `payload` bytes; DF when asked.
Bytes tcp_frame(const Mac& dst, const Mac& src, uint8_t from, uint8_t to, size_t payload,
                bool df = false) {
  Bytes f(14 + 40 + payload, 0);
  std::copy(dst.b.begin(), dst.b.end(), f.begin());
  std::copy(src.b.begin(), src.b.end(), f.begin() + 6);
  f[12] = 0x08;
  uint8_t* ip = f.data() + 14;
  ip[0] = 0x45;
  const size_t total = 40 + payload;
  ip[2] = uint8_t(total >> 8), ip[3] = uint8_t(total);
  ip[6] = df ? 0x40 : 0;
  ip[8] = 64, ip[9] = 6;
  ip[12] = 10, ip[13] = 32, ip[15] = from;
  ip[16] = 10, ip[17] = 32, ip[19] = to;
  ip[20 + 12] = 0x50;
  for (size_t i = 0; i < payload; ++i) f[54 + i] = uint8_t(i);
  return f;
}

struct TwoRoutes : ForwardingRoutes {
  PeerName other = 0;
  std::vector<PeerName> children;  // built once: returning it copies, see broadcast_children
  std::optional<PeerName> next_hop(PeerName dst) override {
    if (dst == other) return other;
    return std::nullopt;
  }
  std::vector<PeerName> broadcast_children(PeerName src) override {
    // A copy of a one-element vector allocates: the real routes (Topology) return one too, so
    // floods are measured separately below.
    if (src == other) return {};
    return children;
  }
};

struct Pair;

// Datagrams in flight, in fixed slots: queuing them must not allocate either.
struct Datagram {
  PeerName to = 0;
  size_t len = 0;
  std::array<uint8_t, 70000> bytes{};
};

struct Side : GossipSender, DataplaneIo {
  Pair* pair = nullptr;
  PeerName name = 0, other = 0;
  UdpEndpoint ep;
  TwoRoutes routes;
  std::optional<DataplaneCore> core;
  uint64_t injected = 0, injected_icmp = 0, fallbacks = 0;

  void send_neighbor(std::string_view, PeerName, ByteView payload) override;
  void send_unicast(std::string_view, PeerName, ByteView) override {}
  void broadcast(std::string_view, ByteView) override {}
  void send_udp(const UdpEndpoint& to, ByteView datagram) override;
  void send_fallback(PeerName, ByteView) override { ++fallbacks; }
  void inject(ByteView, ByteView frame) override {
    ++injected;
    if (frame.size() > 34 && frame[12] == 0x08 && frame[14 + 9] == 1) ++injected_icmp;
  }
};

struct Pair {
  Side a, b;
  std::vector<Datagram> flight = std::vector<Datagram>(64);
  size_t in_flight = 0;
  std::vector<std::pair<PeerName, Bytes>> hellos;  // setup only

  Pair() {
    for (auto [s, name, other, seed] : {std::tuple{&a, kA, kB, 1}, std::tuple{&b, kB, kA, 2}}) {
      s->pair = this;
      s->name = name;
      s->other = other;
      s->ep = *parse_udp_endpoint("10.0.0." + std::to_string(name), 6783);
      s->routes.other = other;
      s->routes.children = {other};
      s->core.emplace(name, 6783, *s, s->routes, *s, seed);
      s->core->set_overlay_mtu(1400);
    }
  }
  Side& side(PeerName n) { return n == kA ? a : b; }

  void connect(int64_t now) {
    noise::Key ab{}, ba{};
    ab.fill(0x11);
    ba.fill(0x22);
    a.core->on_neighbor_up(kB, now);
    b.core->on_neighbor_up(kA, now);
    a.core->set_neighbor_keys(kB, ab, ba, "10.0.0.11", now);
    b.core->set_neighbor_keys(kA, ba, ab, "10.0.0.10", now);
    for (auto& [to, payload] : hellos) side(to).core->on_neighbor(side(to).other, payload, now);
    hellos.clear();
  }

  // Delivers every datagram in flight (and what answering them sends).
  void run(int64_t now) {
    while (in_flight > 0) {
      Datagram& d = flight[--in_flight];
      Side& to = side(d.to);
      // Copied out: delivering may queue more into the same slot.
      static std::array<uint8_t, 70000> copy;
      std::memcpy(copy.data(), d.bytes.data(), d.len);
      to.core->on_udp(side(to.other).ep, ByteView(copy.data(), d.len), now);
    }
  }
};

void Side::send_neighbor(std::string_view, PeerName, ByteView payload) {
  pair->hellos.emplace_back(other, Bytes(payload.begin(), payload.end()));
}

void Side::send_udp(const UdpEndpoint&, ByteView datagram) {
  REQUIRE(pair->in_flight < pair->flight.size());
  Datagram& d = pair->flight[pair->in_flight++];
  d.to = other;
  d.len = datagram.size();
  std::memcpy(d.bytes.data(), datagram.data(), datagram.size());
}

}  // namespace

TEST_CASE("the data plane's hot path allocates nothing per packet") {
  Pair p;
  int64_t now = 0;
  p.connect(now);
  // Probes prove UDP both ways.
  for (int i = 0; i < 3; ++i) {
    now += DataplaneCore::kProbeIntervalMs;
    p.a.core->on_timer(now);
    p.b.core->on_timer(now);
    p.run(now);
  }
  REQUIRE(p.a.core->paths(now).at(0).udp);
  REQUIRE(p.b.core->paths(now).at(0).udp);

  const Mac ma = mac(0xa1), mb = mac(0xb1);
  const Bytes zero(10, 0), tso = vnet_tso4(1300);
  const Bytes a_to_b = tcp_frame(mb, ma, 1, 2, 1200), b_to_a = tcp_frame(ma, mb, 2, 1, 100);
  const Bytes super = tcp_frame(mb, ma, 1, 2, 60000), too_big = tcp_frame(mb, ma, 1, 2, 1500, true);
  const Bytes arp = [&] {
    Bytes f = tcp_frame(kBroadcastMac, ma, 1, 2, 0);
    f[12] = 0x08, f[13] = 0x06;
    return f;
  }();

  auto round = [&](int i) {
    p.a.core->on_local_frame(zero, a_to_b, now);
    p.run(now);
    p.b.core->on_local_frame(zero, b_to_a, now);
    p.run(now);
    if (i % 4 == 0) {
      p.a.core->on_local_frame(tso, super, now);
      p.run(now);
    }
    if (i % 8 == 0) p.a.core->on_local_frame(zero, too_big, now);  // answered locally
    if (++now % 250 == 0) {
      p.a.core->on_timer(now);
      p.b.core->on_timer(now);
      p.run(now);
    }
  };
  // Warm up: MACs and IPs learned, every reusable buffer at its largest.
  for (int i = 0; i < 200; ++i) round(i);
  const uint64_t injected_before = p.b.injected, icmp_before = p.a.injected_icmp;

  const int kRounds = 4000;
  const uint64_t before = g_allocations.load();
  for (int i = 0; i < kRounds; ++i) round(i);
  const uint64_t allocations = g_allocations.load() - before;

  CHECK(allocations == 0);
  // The packets really went through: every plain frame and every segment arrived.
  const uint64_t segments = (60000 + 1299) / 1300;
  CHECK(p.b.injected - injected_before == kRounds + kRounds / 4 * segments);
  CHECK(p.a.injected_icmp - icmp_before > 0);
  CHECK(p.a.fallbacks == 0);
  CHECK(p.b.fallbacks == 0);
  CHECK(p.a.core->counters().dropped_auth == 0);
  CHECK(p.b.core->forwarding().dropped_spoofed + p.b.core->forwarding().dropped_spoofed_ip == 0);

  // A flood asks the routes for the broadcast tree (a vector: the real Topology's answer is one
  // too); apart from that one copy, flooding allocates nothing either.
  for (int i = 0; i < 10; ++i) {
    p.a.core->on_local_frame(zero, arp, now);
    p.run(now);
  }
  const uint64_t flood_before = g_allocations.load();
  for (int i = 0; i < 100; ++i) {
    p.a.core->on_local_frame(zero, arp, now);
    p.run(now);
  }
  CHECK(g_allocations.load() - flood_before <= 100);
}

TEST_CASE("the counting allocator counts") {
  const uint64_t before = g_allocations.load();
  auto* v = new std::vector<int>(100);
  delete v;
  CHECK(g_allocations.load() - before == 2);
#if WEFT_COUNT_MALLOC
  // Through a volatile pointer, so that the compiler cannot drop the malloc/free pair.
  void* (*volatile c_malloc)(std::size_t) = std::malloc;
  void* (*volatile c_realloc)(void*, std::size_t) = std::realloc;
  void* (*volatile c_calloc)(std::size_t, std::size_t) = std::calloc;
  const uint64_t c_before = g_allocations.load();
  void* p = c_realloc(c_malloc(16), 4096);
  void* q = c_calloc(4, 16);
  CHECK(g_allocations.load() - c_before == 3);
  std::free(p);
  std::free(q);
#endif
}
