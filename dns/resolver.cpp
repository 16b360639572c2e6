#include "dns/resolver.h"

#include <algorithm>
#include <utility>

namespace weft::dns {

Resolver::Resolver(ResolverConfig cfg, const DnsZone& zone, ResolverIo& io,
                   std::function<uint32_t()> random)
    : cfg_(std::move(cfg)), zone_(zone), io_(io), random_(std::move(random)) {}

void Resolver::set_upstreams(std::vector<Upstream> upstreams) {
  cfg_.upstreams = std::move(upstreams);
}

void Resolver::count_answer(uint16_t rcode) {
  ++stats_.answers_by_rcode[rcode];
}

void Resolver::send(ClientId client, bool tcp, const Query& q, const Response& r) {
  Bytes b = encode_response(r, tcp ? kMaxTcpMessage : q.udp_limit());
  if (b[2] & 0x02) ++stats_.truncated;
  count_answer(r.rcode);
  io_.answer(client, std::move(b));
}

Response Resolver::answer_locally(const Query& q, const DnsZone::Answer& a) const {
  Response r = error_response(q, true, kNoError);
  r.aa = true;
  const Name& qn = q.question.name;
  switch (a.kind) {
    case DnsZone::Kind::kAddresses:
      for (uint32_t ip : a.addresses) r.answers.push_back({qn, kTypeA, cfg_.ttl_s, ip});
      break;
    case DnsZone::Kind::kNames:
      for (const Name& n : a.names) r.answers.push_back({qn, kTypePTR, cfg_.ttl_s, n});
      break;
    case DnsZone::Kind::kNxDomain:
      r.rcode = kNxDomain;
      break;
    case DnsZone::Kind::kSoa:
    case DnsZone::Kind::kNoData:
    case DnsZone::Kind::kNotOurs:
      break;
  }
  // The SOA answers an SOA query, and rides in the authority section of a negative answer so
  // caches know how long to keep it (RFC 2308 §3): ttl_s, like a positive one.
  bool soa_answer = a.kind == DnsZone::Kind::kSoa;
  if (!soa_answer && a.kind != DnsZone::Kind::kNoData && a.kind != DnsZone::Kind::kNxDomain)
    return r;
  const Name& apex = zone_.domain();
  Name host_master = apex;
  host_master.labels.insert(host_master.labels.begin(), "hostmaster");
  Soa soa{apex, host_master, zone_.serial(), 3600, 600, 86400, cfg_.ttl_s};
  (soa_answer ? r.answers : r.authority)
      .push_back({soa_answer ? qn : apex, kTypeSOA, cfg_.ttl_s, soa});
  return r;
}

void Resolver::on_query(ClientId client, bool tcp, ByteView message, int64_t now) {
  ++(tcp ? stats_.queries_tcp : stats_.queries_udp);
  ParsedQuery pq = parse_query(message);
  const Query& q = pq.query;
  switch (pq.status) {
    case ParseStatus::kDrop:
      ++stats_.dropped;
      io_.malformed(client, "not a query");
      return;
    case ParseStatus::kFormErr:
      io_.malformed(client, "malformed query");
      return send(client, tcp, q, error_response(q, false, kFormErr));
    case ParseStatus::kNotImp:
      return send(client, tcp, q, error_response(q, false, kNotImp));
    case ParseStatus::kBadVers:
      return send(client, tcp, q, error_response(q, true, kBadVers));
    case ParseStatus::kOk:
      break;
  }
  DnsZone::Answer a = zone_.lookup(q.question.name, q.question.type, rotation_);
  if (a.kind != DnsZone::Kind::kNotOurs) {
    ++stats_.answered_locally;
    if (a.kind == DnsZone::Kind::kAddresses) ++rotation_;
    if (q.question.qclass != kClassIN && q.question.qclass != kTypeANY)
      return send(client, tcp, q, error_response(q, true, kRefused));
    return send(client, tcp, q, answer_locally(q, a));
  }
  if (q.edns && q.edns->weft_forwarded) {
    ++stats_.loops_refused;
    return send(client, tcp, q, error_response(q, true, kServFail));
  }
  if (cfg_.upstreams.empty()) {
    ++stats_.no_upstream;
    return send(client, tcp, q, error_response(q, true, kServFail));
  }
  if (pending_.size() >= cfg_.max_in_flight) {
    ++stats_.overloaded;
    return send(client, tcp, q, error_response(q, true, kServFail));
  }
  ++stats_.forwarded;
  uint64_t seq = next_seq_++;
  Pending& p = pending_[seq];
  p.client = client;
  p.tcp = tcp;
  p.query = q;
  p.started = now;
  p.deadline = now + cfg_.query_timeout_ms;
  start_try(seq, now);
}

void Resolver::set_deadline(uint64_t seq, int64_t try_deadline) {
  Pending& p = pending_.at(seq);
  deadlines_.erase({std::min(p.try_deadline, p.deadline), seq});
  p.try_deadline = try_deadline;
  deadlines_.insert({std::min(p.try_deadline, p.deadline), seq});
}

void Resolver::start_try(uint64_t seq, int64_t now) {
  Pending& p = pending_.at(seq);
  if (p.next_upstream >= cfg_.upstreams.size()) return fail(seq, now);
  p.current = cfg_.upstreams[p.next_upstream++];
  // A random id nobody in flight uses; with at most max_in_flight (< 65536) taken, a few draws
  // almost always find one, and a scan from the last draw always does.
  uint16_t id = uint16_t(random_());
  for (int i = 0; i < 8 && by_wire_id_.count(id); ++i) id = uint16_t(random_());
  while (by_wire_id_.count(id)) ++id;
  p.wire_id = id;
  p.has_wire_id = true;
  by_wire_id_[id] = seq;
  set_deadline(seq, now + cfg_.try_timeout_ms);
  io_.send_udp(p.current, encode_forward_query(p.query, id));
}

void Resolver::next_try(uint64_t seq, int64_t now) {
  Pending& p = pending_.at(seq);
  if (p.has_wire_id) by_wire_id_.erase(p.wire_id);
  p.has_wire_id = false;
  if (p.exchange) {
    io_.cancel_tcp(p.exchange);
    by_exchange_.erase(p.exchange);
    p.exchange = 0;
  }
  start_try(seq, now);
}

void Resolver::drop_pending(uint64_t seq) {
  auto it = pending_.find(seq);
  if (it == pending_.end()) return;
  Pending& p = it->second;
  deadlines_.erase({std::min(p.try_deadline, p.deadline), seq});
  if (p.has_wire_id) by_wire_id_.erase(p.wire_id);
  if (p.exchange) {
    io_.cancel_tcp(p.exchange);
    by_exchange_.erase(p.exchange);
  }
  pending_.erase(it);
}

void Resolver::record_latency(int64_t ms) {
  double s = double(ms) / 1000.0;
  stats_.latency_sum_s += s;
  ++stats_.latency_count;
  ++stats_.latency_buckets[size_t(
      std::lower_bound(std::begin(kLatencyBuckets), std::end(kLatencyBuckets), s) -
      std::begin(kLatencyBuckets))];
}

void Resolver::fail(uint64_t seq, int64_t now) {
  Pending p = pending_.at(seq);
  drop_pending(seq);
  send(p.client, p.tcp, p.query, error_response(p.query, true, kServFail));
  record_latency(now - p.started);
}

void Resolver::finish(uint64_t seq, ByteView reply, uint16_t rcode, int64_t now) {
  Pending p = pending_.at(seq);
  drop_pending(seq);
  Bytes out(reply.begin(), reply.end());
  if (!rewrite_reply(out, p.query.id, p.query.edns.has_value())) {
    ++stats_.upstream_failures;
    return send(p.client, p.tcp, p.query, error_response(p.query, true, kServFail));
  }
  record_latency(now - p.started);
  if (!p.tcp && out.size() > p.query.udp_limit()) {
    // Too big for the client's UDP: an empty TC answer sends it to TCP (RFC 2181 §9).
    Response r = error_response(p.query, true, rcode);
    r.tc = true;
    return send(p.client, p.tcp, p.query, r);
  }
  count_answer(rcode);
  io_.answer(p.client, std::move(out));
}

void Resolver::settle(uint64_t seq, ByteView reply, uint16_t rcode, int64_t now) {
  // A broken or refusing upstream is no answer while another upstream is left to ask.
  if ((rcode == kServFail || rcode == kRefused) &&
      pending_.at(seq).next_upstream < cfg_.upstreams.size()) {
    ++stats_.upstream_failures;
    return next_try(seq, now);
  }
  finish(seq, reply, rcode, now);
}

bool Resolver::reply_matches(const Pending& p, const ReplyInfo& info) const {
  // The question exactly as sent (a spoofer must also guess the case of every letter).
  return info.question == p.query.question;
}

void Resolver::on_udp_reply(const Upstream& from, ByteView message, int64_t now) {
  auto info = inspect_reply(message);
  auto it = info ? by_wire_id_.find(info->id) : by_wire_id_.end();
  if (it == by_wire_id_.end()) {
    ++stats_.upstream_mismatched;
    return;
  }
  uint64_t seq = it->second;
  Pending& p = pending_.at(seq);
  if (p.current != from || p.exchange || !reply_matches(p, *info)) {
    ++stats_.upstream_mismatched;
    return;
  }
  if (info->tc) {
    ++stats_.tcp_retries;
    p.exchange = next_exchange_++;
    by_exchange_[p.exchange] = seq;
    set_deadline(seq, now + cfg_.try_timeout_ms);
    io_.send_tcp(p.exchange, p.current, encode_forward_query(p.query, p.wire_id));
    return;
  }
  settle(seq, message, info->rcode, now);
}

void Resolver::on_tcp_reply(ExchangeId exchange, ByteView message, int64_t now) {
  auto it = by_exchange_.find(exchange);
  if (it == by_exchange_.end()) return;
  uint64_t seq = it->second;
  Pending& p = pending_.at(seq);
  by_exchange_.erase(it);
  p.exchange = 0;
  auto info = inspect_reply(message);
  if (!info || info->id != p.wire_id || !reply_matches(p, *info)) {
    ++stats_.upstream_failures;
    return next_try(seq, now);
  }
  settle(seq, message, info->rcode, now);
}

void Resolver::on_tcp_failed(ExchangeId exchange, int64_t now) {
  auto it = by_exchange_.find(exchange);
  if (it == by_exchange_.end()) return;
  uint64_t seq = it->second;
  by_exchange_.erase(it);
  pending_.at(seq).exchange = 0;
  ++stats_.upstream_failures;
  next_try(seq, now);
}

void Resolver::forget_client(ClientId client) {
  std::vector<uint64_t> gone;
  for (const auto& [seq, p] : pending_)
    if (p.client == client) gone.push_back(seq);
  for (uint64_t seq : gone) drop_pending(seq);
}

int64_t Resolver::next_deadline() const {
  return deadlines_.empty() ? INT64_MAX : deadlines_.begin()->first;
}

void Resolver::on_timer(int64_t now) {
  while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
    uint64_t seq = deadlines_.begin()->second;
    Pending& p = pending_.at(seq);
    if (now >= p.deadline) {
      ++stats_.upstream_timeouts;
      fail(seq, now);
    } else {
      ++stats_.upstream_timeouts;
      next_try(seq, now);
    }
  }
}

}  // namespace weft::dns
