// Resolver core with a fake adapter: local answers, forwarding with fresh ids and the weft
// option, timeouts moving on to the next upstream and ending in SERVFAIL within the query's
// deadline, TCP retry on truncation, replies that do not match ignored, loop refusal, the
// in-flight bound; and resolv.conf parsing with our own addresses skipped.
#include <doctest/doctest.h>

#include <deque>
#include <memory>

#include "common/ipv4_cidr.h"
#include "dns/message.h"
#include "dns/resolver.h"
#include "dns/upstreams.h"
#include "dns/zone.h"

using namespace weft;
using namespace weft::dns;

namespace {

struct Sent {
  Upstream to;
  Bytes message;
  ExchangeId exchange = 0;  // 0: UDP
};

struct FakeIo : ResolverIo {
  std::vector<std::pair<ClientId, Bytes>> answers;
  std::deque<Sent> sent;
  std::vector<ExchangeId> cancelled;
  int malformed_count = 0;
  void answer(ClientId c, Bytes m) override { answers.emplace_back(c, std::move(m)); }
  void send_udp(const Upstream& to, Bytes m) override { sent.push_back({to, std::move(m)}); }
  void send_tcp(ExchangeId e, const Upstream& to, Bytes m) override {
    sent.push_back({to, std::move(m), e});
  }
  void cancel_tcp(ExchangeId e) override { cancelled.push_back(e); }
  void malformed(ClientId, const char*) override { ++malformed_count; }
};

Upstream up(const char* s) {
  return *parse_upstream(s);
}

Bytes query(uint16_t id, const char* name, uint16_t type = kTypeA, bool edns = false,
            bool weft = false) {
  Query q;
  q.id = id;
  q.rd = true;
  q.question = {*parse_name(name), type, kClassIN};
  if (weft) return encode_forward_query(q, id);
  Bytes b;
  ByteWriter w(b);
  w.u16(id);
  w.u16(0x0100);
  w.u16(1);
  w.u16(0);
  w.u16(0);
  w.u16(edns ? 1 : 0);
  for (const auto& l : q.question.name.labels) {
    w.u8(uint8_t(l.size()));
    w.raw(as_bytes(l));
  }
  w.u8(0);
  w.u16(type);
  w.u16(kClassIN);
  if (edns) {
    w.u8(0);
    w.u16(kTypeOPT);
    w.u16(1232);
    w.u32(0);
    w.u16(0);
  }
  return b;
}

// The upstream's answer to a forwarded query: `count` A records, rcode, TC as given.
Bytes upstream_reply(const Bytes& forwarded, uint16_t rcode = kNoError, int count = 1,
                     bool tc = false) {
  ParsedQuery p = parse_query(forwarded);
  REQUIRE(p.status == ParseStatus::kOk);
  CHECK(p.query.edns->weft_forwarded);
  Response r = error_response(p.query, true, rcode);
  for (int i = 0; i < count; ++i)
    r.answers.push_back({p.query.question.name, kTypeA, 60, uint32_t(0x5db8d800 + i)});
  r.tc = tc;
  return encode_response(r, kMaxTcpMessage);
}

uint16_t id_of(const Bytes& b) {
  return uint16_t((b[0] << 8) | b[1]);
}
uint16_t rcode_of(const Bytes& b) {
  return b[3] & 0xF;
}
uint16_t ancount(const Bytes& b) {
  return uint16_t((b[6] << 8) | b[7]);
}
bool tc_of(const Bytes& b) {
  return b[2] & 0x02;
}

struct Fixture {
  DnsZone zone;
  FakeIo io;
  uint32_t next_random = 0x1000;
  ResolverConfig cfg;
  std::unique_ptr<Resolver> r;
  explicit Fixture(std::vector<Upstream> ups = {up("192.0.2.1"), up("192.0.2.2:5353")},
                   size_t max_in_flight = 100) {
    zone.upsert("w1", "web", {*parse_ipv4("10.32.0.2"), *parse_ipv4("10.32.0.3")});
    cfg.upstreams = std::move(ups);
    cfg.max_in_flight = max_in_flight;
    r = std::make_unique<Resolver>(cfg, zone, io, [this] { return next_random += 7; });
  }
};

}  // namespace

TEST_CASE("dns resolver: cluster names are answered from the zone, rotating") {
  Fixture f;
  f.r->on_query(1, false, query(0x11, "web.weft.local"), 0);
  f.r->on_query(1, false, query(0x12, "WEB.weft.local"), 0);
  REQUIRE(f.io.answers.size() == 2);
  CHECK(f.io.sent.empty());
  const Bytes& a1 = f.io.answers[0].second;
  const Bytes& a2 = f.io.answers[1].second;
  CHECK(id_of(a1) == 0x11);
  CHECK(ancount(a1) == 2);
  CHECK((a1[2] & 0x04) != 0);  // AA
  // The first address differs between the two answers (12 hdr + 20 question + 12 rr header).
  CHECK(std::vector<uint8_t>(a1.begin() + 44, a1.begin() + 48) !=
        std::vector<uint8_t>(a2.begin() + 44, a2.begin() + 48));

  f.r->on_query(2, false, query(0x13, "nope.weft.local"), 0);
  f.r->on_query(2, false, query(0x14, "web.weft.local", kTypeAAAA), 0);
  CHECK(rcode_of(f.io.answers[2].second) == kNxDomain);
  CHECK(rcode_of(f.io.answers[3].second) == kNoError);
  CHECK(ancount(f.io.answers[3].second) == 0);
  CHECK(f.io.answers[3].second[9] == 1);  // SOA in authority
  CHECK(f.r->stats().answers_by_rcode.at(kNxDomain) == 1);
}

TEST_CASE("dns resolver: forwards with a fresh id and relays the reply") {
  Fixture f;
  f.r->on_query(7, false, query(0xabcd, "example.com", kTypeA, true), 100);
  REQUIRE(f.io.sent.size() == 1);
  Sent s = f.io.sent.front();
  CHECK(s.to == up("192.0.2.1"));
  CHECK(s.exchange == 0);
  CHECK(id_of(s.message) != 0xabcd);
  CHECK(f.r->next_deadline() == 100 + f.cfg.try_timeout_ms);
  Bytes reply = upstream_reply(s.message);
  // From the wrong upstream, or for another question: ignored.
  f.r->on_udp_reply(up("192.0.2.9"), reply, 110);
  Bytes other = upstream_reply(encode_forward_query(
      parse_query(query(id_of(s.message), "example.org", kTypeA)).query, id_of(s.message)));
  f.r->on_udp_reply(s.to, other, 110);
  CHECK(f.io.answers.empty());
  CHECK(f.r->stats().upstream_mismatched == 2);
  f.r->on_udp_reply(s.to, reply, 120);
  REQUIRE(f.io.answers.size() == 1);
  CHECK(f.io.answers[0].first == 7);
  CHECK(id_of(f.io.answers[0].second) == 0xabcd);
  CHECK(ancount(f.io.answers[0].second) == 1);
  CHECK(f.r->in_flight() == 0);
  CHECK(f.r->next_deadline() == INT64_MAX);
  CHECK(f.r->stats().latency_count == 1);
  // A late duplicate changes nothing.
  f.r->on_udp_reply(s.to, reply, 130);
  CHECK(f.io.answers.size() == 1);
}

TEST_CASE("dns resolver: a client without EDNS gets no OPT, and TC when the reply is too big") {
  Fixture f;
  f.r->on_query(1, false, query(1, "small.example"), 0);
  f.r->on_udp_reply(f.io.sent[0].to, upstream_reply(f.io.sent[0].message), 1);
  REQUIRE(f.io.answers.size() == 1);
  CHECK(f.io.answers[0].second[11] == 0);  // ARCOUNT: the upstream's OPT removed
  f.r->on_query(1, false, query(2, "big.example"), 0);
  f.r->on_udp_reply(f.io.sent[1].to, upstream_reply(f.io.sent[1].message, kNoError, 40), 1);
  REQUIRE(f.io.answers.size() == 2);
  const Bytes& a = f.io.answers[1].second;
  CHECK(a.size() <= 512);
  CHECK(tc_of(a));
  CHECK(ancount(a) == 0);
  CHECK(id_of(a) == 2);
}

TEST_CASE("dns resolver: timeouts try the next upstream, then SERVFAIL within the deadline") {
  Fixture f;
  f.r->on_query(1, false, query(5, "slow.example"), 0);
  REQUIRE(f.io.sent.size() == 1);
  f.r->on_timer(f.r->next_deadline());
  REQUIRE(f.io.sent.size() == 2);
  CHECK(f.io.sent[1].to == up("192.0.2.2:5353"));
  CHECK(id_of(f.io.sent[1].message) != id_of(f.io.sent[0].message));
  // The first upstream answering now is too late: its try is over.
  f.r->on_udp_reply(f.io.sent[0].to, upstream_reply(f.io.sent[0].message), 800);
  CHECK(f.io.answers.empty());
  int64_t t = f.r->next_deadline();
  CHECK(t <= f.cfg.query_timeout_ms);
  f.r->on_timer(t);
  REQUIRE(f.io.answers.size() == 1);
  CHECK(rcode_of(f.io.answers[0].second) == kServFail);
  CHECK(f.r->in_flight() == 0);
  CHECK(f.r->stats().upstream_timeouts == 2);

  // With a long try timeout, the query deadline ends it.
  Fixture g({up("192.0.2.1")});
  g.r->on_query(1, false, query(5, "slow.example"), 0);
  CHECK(g.r->next_deadline() == g.cfg.try_timeout_ms);
}

TEST_CASE("dns resolver: SERVFAIL from one upstream moves on; the last one's answer is relayed") {
  Fixture f;
  f.r->on_query(1, false, query(5, "broken.example"), 0);
  f.r->on_udp_reply(f.io.sent[0].to, upstream_reply(f.io.sent[0].message, kServFail, 0), 1);
  REQUIRE(f.io.sent.size() == 2);
  f.r->on_udp_reply(f.io.sent[1].to, upstream_reply(f.io.sent[1].message, kNxDomain, 0), 2);
  REQUIRE(f.io.answers.size() == 1);
  CHECK(rcode_of(f.io.answers[0].second) == kNxDomain);
}

TEST_CASE("dns resolver: a truncated UDP reply is asked again over TCP") {
  Fixture f;
  f.r->on_query(3, true, query(9, "large.example"), 0);
  Sent s = f.io.sent.front();
  f.r->on_udp_reply(s.to, upstream_reply(s.message, kNoError, 2, true), 5);
  REQUIRE(f.io.sent.size() == 2);
  Sent t = f.io.sent[1];
  CHECK(t.exchange != 0);
  CHECK(t.to == s.to);
  f.r->on_tcp_reply(t.exchange, upstream_reply(t.message, kNoError, 200), 9);
  REQUIRE(f.io.answers.size() == 1);
  CHECK(ancount(f.io.answers[0].second) == 200);  // over TCP: no size limit
  CHECK(f.r->stats().tcp_retries == 1);

  // A failed exchange moves on to the next upstream.
  f.r->on_query(3, true, query(10, "large.example"), 20);
  Sent u = f.io.sent[2];
  f.r->on_udp_reply(u.to, upstream_reply(u.message, kNoError, 2, true), 21);
  f.r->on_tcp_failed(f.io.sent[3].exchange, 22);
  REQUIRE(f.io.sent.size() == 5);
  CHECK(f.io.sent[4].to == up("192.0.2.2:5353"));
  CHECK(f.io.sent[4].exchange == 0);
}

TEST_CASE("dns resolver: loops are refused") {
  Fixture f;
  // A query another weft resolver forwarded is never forwarded again...
  f.r->on_query(1, false, query(1, "example.com", kTypeA, false, true), 0);
  CHECK(f.io.sent.empty());
  REQUIRE(f.io.answers.size() == 1);
  CHECK(rcode_of(f.io.answers[0].second) == kServFail);
  CHECK(f.r->stats().loops_refused == 1);
  // ...but is answered when it is for a cluster name.
  f.r->on_query(1, false, query(2, "web.weft.local", kTypeA, false, true), 0);
  CHECK(rcode_of(f.io.answers[1].second) == kNoError);
  CHECK(ancount(f.io.answers[1].second) == 2);

  // Our own addresses are never upstreams.
  auto c = choose_upstreams({"10.32.0.1", "192.0.2.1", "fe80::1", "192.0.2.1", "127.0.0.53"},
                            {up("10.32.0.1")});
  CHECK(c.upstreams == std::vector<Upstream>{up("192.0.2.1"), up("127.0.0.53")});
  CHECK(c.skipped.size() == 2);

  Fixture none(std::vector<Upstream>{});
  none.r->on_query(1, false, query(1, "example.com"), 0);
  CHECK(rcode_of(none.io.answers[0].second) == kServFail);
}

TEST_CASE("dns resolver: in-flight queries are bounded; malformed ones answered or dropped") {
  Fixture f({up("192.0.2.1")}, 2);
  for (uint16_t i = 0; i < 3; ++i) f.r->on_query(1, false, query(i, "x.example"), 0);
  CHECK(f.io.sent.size() == 2);
  REQUIRE(f.io.answers.size() == 1);
  CHECK(rcode_of(f.io.answers[0].second) == kServFail);
  CHECK(f.r->stats().overloaded == 1);
  f.r->forget_client(1);
  CHECK(f.r->in_flight() == 0);

  Bytes bad = query(4, "x.example");
  bad.push_back(0);
  f.r->on_query(2, false, bad, 0);
  CHECK(rcode_of(f.io.answers.back().second) == kFormErr);
  f.r->on_query(2, false, Bytes{1, 2, 3}, 0);
  CHECK(f.io.answers.size() == 2);
  CHECK(f.io.malformed_count == 2);
}

TEST_CASE("dns upstreams: resolv.conf") {
  auto rc = parse_resolv_conf(
      "# generated\nnameserver 127.0.0.53\n  nameserver\t192.0.2.7 \nsearch a.example "
      "b.example\n; comment\noptions edns0\nnameserver ::1\ndomain last.example\r\n");
  CHECK(rc.nameservers == std::vector<std::string>{"127.0.0.53", "192.0.2.7", "::1"});
  CHECK(rc.search == std::vector<std::string>{"last.example"});
  CHECK(parse_upstream("192.0.2.1:5353") == Upstream{*parse_ipv4("192.0.2.1"), 5353});
  CHECK_FALSE(parse_upstream("192.0.2.1:0"));
  CHECK_FALSE(parse_upstream("192.0.2.1:x"));
  CHECK_FALSE(parse_upstream("example.com"));
}

TEST_CASE("dns upstreams: a workload's resolv.conf") {
  std::string rc = workload_resolv_conf(*parse_ipv4("10.32.0.1"), "shop", "weft.local.");
  CHECK(rc.find("\nnameserver 10.32.0.1\nsearch shop.weft.local weft.local\noptions ndots:2\n") !=
        std::string::npos);
  auto parsed = parse_resolv_conf(rc);
  CHECK(parsed.nameservers == std::vector<std::string>{"10.32.0.1"});
  CHECK(parsed.search == std::vector<std::string>{"shop.weft.local", "weft.local"});
  CHECK(parse_resolv_conf(workload_resolv_conf(1, "default", "weft.local")).search ==
        std::vector<std::string>{"weft.local"});
}
