#pragma once
// What weft's DNS server does with a query, without I/O: answer it from the zone, answer an error,
// or forward it upstream and relay the reply. The adapter (router/os/dns_server) owns sockets and
// timers, reports datagrams, TCP exchanges and the time, and carries out the ResolverIo calls.
//
// Forwarding: each query goes to the upstreams in order over UDP, with a fresh random id per try
// (ids come from the caller's random source) and kOurUdpSize; a truncated reply is asked again
// over TCP of the same upstream; a try that times out, fails, or answers SERVFAIL/REFUSED moves on
// to the next upstream; the client gets SERVFAIL when none is left or `query_timeout_ms` has
// passed, whichever is first. At most `max_in_flight` queries are forwarded at once (the next ones
// get SERVFAIL at once). A reply counts only from the upstream the try went to, with the try's id
// and the question as sent; a UDP reply larger than the client takes becomes a TC answer.
//
// Loops (weave #2161): a resolver that forwards to itself, directly or through others, would
// multiply each query. Three defences:
//   1. Upstreams never include an address a weft resolver serves on (choose_upstreams: the
//      caller lists this router's listen addresses, every local address when it listens on the
//      wildcard, and other routers' DNS addresses it knows of).
//   2. Every forwarded query carries the EDNS0 option kWeftForwardedOption. A weft resolver never
//      forwards a query that carries it (SERVFAIL, counted as loops_refused): weft -> weft
//      stops after one hop, and so does weft -> X -> weft when X passes EDNS options on.
//   3. What slips through (an intermediary that strips options) is bounded: every hop holds an
//      in-flight slot until its deadline, so a loop ends in SERVFAIL after query_timeout_ms and
//      costs at most max_in_flight queries per resolver.
#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/bytes.h"
#include "dns/message.h"
#include "dns/upstreams.h"
#include "dns/zone.h"

namespace weft::dns {

// The adapter's handle for where an answer goes (a UDP client endpoint, a TCP connection).
using ClientId = uint64_t;
// One TCP exchange with an upstream: connect, send one query, read one reply.
using ExchangeId = uint64_t;

class ResolverIo {
 public:
  virtual ~ResolverIo() = default;
  // Send this message to the client (over the transport it came on).
  virtual void answer(ClientId client, Bytes message) = 0;
  virtual void send_udp(const Upstream& to, Bytes message) = 0;
  // Open a TCP connection to `to`, send the message (the adapter adds the length prefix) and
  // report the reply with on_tcp_reply, or on_tcp_failed; never both, never after cancel_tcp.
  virtual void send_tcp(ExchangeId exchange, const Upstream& to, Bytes message) = 0;
  virtual void cancel_tcp(ExchangeId exchange) = 0;
  // A query was malformed (dropped or answered FORMERR): the adapter logs, rate-limited.
  virtual void malformed(ClientId client, const char* what) = 0;
};

struct ResolverConfig {
  uint32_t ttl_s = 1;               // of our answers, and the SOA minimum (negative caching)
  std::vector<Upstream> upstreams;  // already without our own addresses (choose_upstreams)
  int64_t try_timeout_ms = 700;     // one upstream's chance (UDP, or the TCP retry)
  int64_t query_timeout_ms = 2000;  // SERVFAIL at the latest after this
  size_t max_in_flight = 1000;
};

// Latency buckets (seconds) of forwarded queries, Prometheus style (cumulative, +Inf last).
constexpr double kLatencyBuckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                      0.1,   0.25,   0.5,   1,    2.5};
constexpr size_t kLatencyBucketCount = std::size(kLatencyBuckets);

struct ResolverStats {
  uint64_t queries_udp = 0, queries_tcp = 0;
  std::map<uint16_t, uint64_t> answers_by_rcode;  // every answer we sent, local or relayed
  uint64_t answered_locally = 0;
  uint64_t forwarded = 0;
  uint64_t dropped = 0;    // malformed beyond an answer, or a response sent to us
  uint64_t truncated = 0;  // UDP answers sent with TC
  uint64_t upstream_timeouts = 0;
  uint64_t upstream_failures = 0;    // TCP failed, SERVFAIL/REFUSED from upstream, unusable reply
  uint64_t upstream_mismatched = 0;  // replies with an unknown id, wrong source or question
  uint64_t tcp_retries = 0;
  uint64_t loops_refused = 0;
  uint64_t overloaded = 0;  // refused: max_in_flight reached
  uint64_t no_upstream = 0;
  std::array<uint64_t, kLatencyBucketCount + 1> latency_buckets{};  // non-cumulative counts
  double latency_sum_s = 0;
  uint64_t latency_count = 0;
};

class Resolver {
 public:
  // `zone` outlives the resolver and may change between calls. `random` gives the query ids.
  Resolver(ResolverConfig cfg, const DnsZone& zone, ResolverIo& io,
           std::function<uint32_t()> random);

  // New upstreams (resolv.conf changed). Queries in flight finish with the list they started on
  // only as far as it is still valid: their next try uses the new list.
  void set_upstreams(std::vector<Upstream> upstreams);
  const std::vector<Upstream>& upstreams() const { return cfg_.upstreams; }

  // A query from a client; `tcp` when it came over TCP (no size limit on the answer).
  void on_query(ClientId client, bool tcp, ByteView message, int64_t now_ms);
  void on_udp_reply(const Upstream& from, ByteView message, int64_t now_ms);
  void on_tcp_reply(ExchangeId exchange, ByteView message, int64_t now_ms);
  void on_tcp_failed(ExchangeId exchange, int64_t now_ms);
  // The client went away (TCP closed): forget its queries.
  void forget_client(ClientId client);

  // INT64_MAX when nothing waits.
  int64_t next_deadline() const;
  void on_timer(int64_t now_ms);

  size_t in_flight() const { return pending_.size(); }
  const ResolverStats& stats() const { return stats_; }
  // Builds the local answer (used by on_query; public for tests and /dns/lookup).
  Response answer_locally(const Query& q, const DnsZone::Answer& a) const;

 private:
  struct Pending {
    ClientId client = 0;
    bool tcp = false;
    Query query;
    int64_t started = 0, deadline = 0, try_deadline = 0;
    size_t next_upstream = 0;  // index of the upstream the next try goes to
    Upstream current;
    uint16_t wire_id = 0;
    bool has_wire_id = false;
    ExchangeId exchange = 0;  // 0: no TCP exchange open
  };
  void send(ClientId client, bool tcp, const Query& q, const Response& r);
  void count_answer(uint16_t rcode);
  void start_try(uint64_t seq, int64_t now);
  void finish(uint64_t seq, ByteView reply, uint16_t rcode, int64_t now);
  // finish(), or the next upstream for SERVFAIL/REFUSED while one is left.
  void settle(uint64_t seq, ByteView reply, uint16_t rcode, int64_t now);
  void record_latency(int64_t ms);
  void fail(uint64_t seq, int64_t now);  // SERVFAIL to the client
  void next_try(uint64_t seq, int64_t now);
  void drop_pending(uint64_t seq);
  void set_deadline(uint64_t seq, int64_t try_deadline);
  bool reply_matches(const Pending& p, const ReplyInfo& info) const;

  ResolverConfig cfg_;
  const DnsZone& zone_;
  ResolverIo& io_;
  std::function<uint32_t()> random_;
  uint64_t rotation_ = 0;
  uint64_t next_seq_ = 1;
  ExchangeId next_exchange_ = 1;
  std::map<uint64_t, Pending> pending_;
  std::unordered_map<uint16_t, uint64_t> by_wire_id_;
  std::unordered_map<ExchangeId, uint64_t> by_exchange_;
  std::set<std::pair<int64_t, uint64_t>> deadlines_;  // (min(try, query deadline), seq)
  ResolverStats stats_;
};

}  // namespace weft::dns
