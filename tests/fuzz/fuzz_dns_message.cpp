// DNS queries and upstream replies on arbitrary bytes. Oracles:
//  - parse_query never crashes and, for an accepted query, the forwarded form parses back to the
//    same question, flags and DO bit, carrying the weft option;
//  - an answer to it encodes within the client's UDP limit (TC when cut), and reads back with the
//    same question; removing its OPT keeps it readable;
//  - inspect_reply/rewrite_reply on the raw bytes never crash, and a rewrite keeps the question;
//  - a live Resolver fed the bytes as a query, an upstream UDP reply and a TCP reply answers every
//    query exactly once by its deadline and keeps no state afterwards.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/bytes.h"
#include "dns/message.h"
#include "dns/resolver.h"
#include "dns/zone.h"
#include "fuzz_common.h"

using namespace weft;
using namespace weft::dns;
using weft::fuzz::require;

namespace {

struct Io : ResolverIo {
  size_t answers = 0;
  std::vector<std::pair<Upstream, Bytes>> udp;
  std::vector<std::pair<ExchangeId, Bytes>> tcp;
  void answer(ClientId, Bytes m) override {
    require(m.size() >= kHeaderSize);
    ++answers;
  }
  void send_udp(const Upstream& to, Bytes m) override { udp.emplace_back(to, std::move(m)); }
  void send_tcp(ExchangeId e, const Upstream&, Bytes m) override {
    tcp.emplace_back(e, std::move(m));
  }
  void cancel_tcp(ExchangeId) override {}
  void malformed(ClientId, const char*) override {}
};

void check_query(const Query& q) {
  ParsedQuery back = parse_query(encode_forward_query(q, 0x4242));
  require(back.status == ParseStatus::kOk);
  require(back.query.question == q.question);
  require(back.query.rd == q.rd && back.query.cd == q.cd);
  require(back.query.edns && back.query.edns->weft_forwarded);
  require(back.query.edns->dnssec_ok == (q.edns && q.edns->dnssec_ok));

  Response r = error_response(q, true, kNoError);
  for (uint32_t i = 0; i < 40; ++i) r.answers.push_back({q.question.name, kTypeA, 1, i});
  r.answers.push_back({q.question.name, kTypePTR, 1, q.question.name});
  Bytes b = encode_response(r, q.udp_limit());
  require(b.size() <= q.udp_limit());
  auto info = inspect_reply(b);
  require(info && info->question == q.question && info->id == q.id);
  Bytes cut = b;
  require(rewrite_reply(cut, 7, false));
  require(inspect_reply(cut)->question == q.question);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteView in(data, size);
  ParsedQuery p = parse_query(in);
  if (p.status == ParseStatus::kOk) check_query(p.query);

  if (auto info = inspect_reply(in)) {
    Bytes copy(in.begin(), in.end());
    if (rewrite_reply(copy, 9, false)) {
      auto again = inspect_reply(copy);
      require(again && again->question == info->question && again->id == 9);
    }
  }

  static DnsZone zone = [] {
    DnsZone z;
    z.upsert("a", "web", {0x0a200002, 0x0a200003});
    z.upsert("b", "web.shop", {0x0a200004});
    return z;
  }();
  Io io;
  ResolverConfig cfg;
  cfg.upstreams = {{0xc0000201, 53}, {0xc0000202, 53}};
  uint32_t r = 1;
  Resolver res(cfg, zone, io, [&r] { return r *= 69069u; });
  res.on_query(1, false, in, 0);
  res.on_query(2, true, in, 0);
  // The input as every upstream's reply, over UDP (from the right and a wrong address) and TCP.
  for (size_t i = 0; i < io.udp.size() && i < 8; ++i) {
    res.on_udp_reply(io.udp[i].first, in, 10);
    res.on_udp_reply({1, 53}, in, 10);
  }
  for (size_t i = 0; i < io.tcp.size() && i < 8; ++i) res.on_tcp_reply(io.tcp[i].first, in, 20);
  for (int64_t t = 100; res.next_deadline() != INT64_MAX && t < 10'000; t += 100) res.on_timer(t);
  require(res.in_flight() == 0);
  require(res.next_deadline() == INT64_MAX);
  require(io.answers <= 2);
  if (p.status != ParseStatus::kDrop) require(io.answers == 2);
  return 0;
}
