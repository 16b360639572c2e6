#include "router/dataplane/dataplane_core.h"

#include <arpa/inet.h>

#include "router/dataplane/gso.h"

namespace weft {

namespace {
constexpr uint8_t kHello = 1;
// Hello cipher bits. kCipherNone alone: this router runs with --no-encryption.
constexpr uint8_t kCipherChaCha = 1, kCipherAes = 2, kCipherNone = 4;
const uint8_t kZeroVnet[kVnetHdrLen] = {};
constexpr uint8_t kDatagramFragment = 3;  // the whole-super-frame experiment

MacTableConfig address_table_config(uint64_t hash_seed) {
  MacTableConfig c;
  c.hash_seed = hash_seed;
  c.move_hold_ms = DataplaneCore::kAddressMoveHoldMs;
  return c;
}
}  // namespace

std::string UdpEndpoint::to_string() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(v6 ? AF_INET6 : AF_INET, ip.data(), buf, sizeof buf);
  // Appended, not `"[" + std::string(...)`: GCC 12 -O3 warns wrongly (-Wrestrict) on that.
  std::string out = v6 ? std::string("[").append(buf).append("]") : std::string(buf);
  return out.append(":").append(std::to_string(port));
}

std::optional<UdpEndpoint> parse_udp_endpoint(const std::string& host, uint16_t port) {
  UdpEndpoint e;
  e.port = port;
  if (inet_pton(AF_INET, host.c_str(), e.ip.data()) == 1) return e;
  if (inet_pton(AF_INET6, host.c_str(), e.ip.data()) == 1) {
    e.v6 = true;
    return e;
  }
  return std::nullopt;
}

DataplaneCore::DataplaneCore(PeerName self, uint16_t udp_port, GossipSender& gossip,
                             ForwardingRoutes& routes, DataplaneIo& io, uint64_t seed,
                             bool encrypted)
    : self_(self),
      udp_port_(udp_port),
      encrypted_(encrypted),
      gossip_(gossip),
      io_(io),
      // A keyed hash: whoever can send frames cannot pick addresses that collide.
      macs_(address_table_config(seed ^ 0x6d61637461626c65ull)),
      ips_(address_table_config(seed ^ 0x69707461626c6521ull)),
      forwarder_(self, macs_, ips_, routes, FloodLimiter({}, seed ^ 0x666c6f6f646c696dull)),
      rng_(seed) {
  batch_buf_.reserve(70000);
  datagram_buf_.reserve(70000);
  plain_buf_.reserve(70000);
  segment_buf_.reserve(70000);
}

uint32_t DataplaneCore::fresh_id() {
  uint32_t id;
  do {
    id = static_cast<uint32_t>(rng_());
  } while (id == 0 || by_id_.count(id));
  return id;
}

void DataplaneCore::on_neighbor_up(PeerName peer, int64_t now_ms) {
  now_ms_ = now_ms;
  Neighbor& n = neighbors_[peer];
  if (n.local_id) by_id_.erase(n.local_id);
  // A new control connection means new keys: start the session over.
  n.session.reset();
  n.remote_id.reset();
  n.local_id = fresh_id();
  by_id_[n.local_id] = peer;
  Bytes hello;
  ByteWriter w(hello);
  w.u8(kHello);
  w.u32(n.local_id);
  w.u16(udp_port_);
  w.u8(!encrypted_                                     ? kCipherNone
       : best_local_cipher() == DataCipher::kAes256Gcm ? (kCipherAes | kCipherChaCha)
                                                       : kCipherChaCha);
  gossip_.send_neighbor(kChannel, peer, hello);
}

void DataplaneCore::set_neighbor_keys(PeerName peer, const noise::Key& send, const noise::Key& recv,
                                      const std::string& ip, int64_t now_ms) {
  Neighbor& n = neighbors_[peer];
  n.send_key = send;
  n.recv_key = recv;
  n.ip = ip;
  n.session.reset();
  maybe_start_session(peer, n, now_ms);
}

void DataplaneCore::neighbor_down(PeerName peer) {
  auto it = neighbors_.find(peer);
  if (it == neighbors_.end()) return;
  by_id_.erase(it->second.local_id);
  if (it->second.send_key) noise::wipe(*it->second.send_key);
  if (it->second.recv_key) noise::wipe(*it->second.recv_key);
  neighbors_.erase(it);
}

void DataplaneCore::on_neighbor(PeerName from, ByteView payload, int64_t now_ms) {
  ByteReader r(payload);
  if (r.u8() != kHello) throw DecodeError("unknown dataplane message");
  uint32_t id = r.u32();
  uint16_t port = r.u16();
  uint8_t ciphers = r.u8();
  r.expect_done();
  if (id == 0 || port == 0 || !(ciphers & (kCipherChaCha | kCipherNone)))
    throw DecodeError("invalid dataplane hello");
  Neighbor& n = neighbors_[from];
  // The same hello again (a peer sends one per connection, so the same id is the same hello):
  // the session stands. Rebuilding it would reset its replay window and restart its counters.
  if (n.session && n.remote_id == id) return;
  n.remote_id = id;
  n.remote_port = port;
  n.remote_ciphers = ciphers;
  n.session.reset();
  maybe_start_session(from, n, now_ms);
}

noise::Key dataplane_session_key(const noise::Key& handshake_key, uint32_t sender_id,
                                 uint32_t receiver_id) {
  uint8_t info[8];
  for (int i = 0; i < 4; ++i) {
    info[i] = static_cast<uint8_t>(sender_id >> (24 - 8 * i));
    info[4 + i] = static_cast<uint8_t>(receiver_id >> (24 - 8 * i));
  }
  noise::Hash a, b;
  noise::hkdf(handshake_key, ByteView(info, sizeof info), a, b);
  noise::Key out = a;
  noise::wipe(a);
  noise::wipe(b);
  return out;
}

void DataplaneCore::maybe_start_session(PeerName, Neighbor& n, int64_t now_ms) {
  if (n.session || !n.send_key || !n.recv_key || !n.remote_id) return;
  // Both ends run in the same mode (the control preamble refuses mixed ones); should a hello
  // still disagree, there is no session rather than a silent downgrade.
  if (!(n.remote_ciphers & (encrypted_ ? kCipherChaCha : kCipherNone))) return;
  bool aes = (n.remote_ciphers & kCipherAes) && best_local_cipher() == DataCipher::kAes256Gcm;
  DataCipher cipher = !encrypted_ ? DataCipher::kNone
                      : aes       ? DataCipher::kAes256Gcm
                                  : DataCipher::kChaCha20Poly1305;
  noise::Key send = dataplane_session_key(*n.send_key, n.local_id, *n.remote_id);
  noise::Key recv = dataplane_session_key(*n.recv_key, *n.remote_id, n.local_id);
  n.session = std::make_unique<DataSession>(cipher, send, recv, *n.remote_id, now_ms);
  noise::wipe(send);
  noise::wipe(recv);
  if (!n.endpoint) n.endpoint = parse_udp_endpoint(n.ip, n.remote_port);
}

void DataplaneCore::transmit(PeerName peer, Neighbor& n, ByteView batch, bool udp_only) {
  bool udp_ok = n.session && n.endpoint && now_ms_ - n.last_udp_rx_ms < kUdpFreshMs;
  if ((udp_ok || udp_only) && n.session && n.endpoint) {
    n.session->seal(batch, datagram_buf_, now_ms_);
    if (whole_superframes_ && max_udp_payload_ > kDataHeaderLen &&
        datagram_buf_.size() > max_udp_payload_) {
      // Experiment: fragments, all the same size but the last (one UDP GSO run).
      size_t piece = max_udp_payload_ - kDataHeaderLen;
      size_t count = (datagram_buf_.size() + piece - 1) / piece;
      if (count > 255) return;
      for (size_t i = 0; i < count; ++i) {
        size_t off = i * piece, len = std::min(piece, datagram_buf_.size() - off);
        fragment_buf_.assign(datagram_buf_.begin(), datagram_buf_.begin() + kDataHeaderLen);
        fragment_buf_[0] = kDatagramFragment;
        fragment_buf_[1] = static_cast<uint8_t>(i);
        fragment_buf_[2] = static_cast<uint8_t>(count);
        fragment_buf_[3] = 0;
        fragment_buf_.insert(fragment_buf_.end(), datagram_buf_.begin() + ptrdiff_t(off),
                             datagram_buf_.begin() + ptrdiff_t(off + len));
        io_.send_udp(*n.endpoint, fragment_buf_);
        ++counters_.udp_tx;
      }
      return;
    }
    io_.send_udp(*n.endpoint, datagram_buf_);
    ++counters_.udp_tx;
    return;
  }
  if (udp_only) return;
  ++counters_.fallback_tx;
  io_.send_fallback(peer, batch);
}

void DataplaneCore::send(PeerName neighbor, PeerName src, PeerName dst, const FrameItem& f) {
  auto it = neighbors_.find(neighbor);
  if (it == neighbors_.end()) {
    ++counters_.dropped_no_session;
    return;
  }
  batch_buf_.clear();
  begin_frame_batch(batch_buf_, kBatchFrames, src, dst);
  if (!append_frame(batch_buf_, f.vnet, f.frame)) return;
  transmit(neighbor, it->second, batch_buf_, false);
}

void DataplaneCore::deliver_local(const FrameItem& f) {
  io_.inject(f.vnet, f.frame);
}

void DataplaneCore::on_local_frame(ByteView vnet, ByteView frame, int64_t now_ms) {
  now_ms_ = now_ms;
  if (frame.size() < kEthHdrLen) return;
  ByteView v = vnet.size() == kVnetHdrLen ? vnet : ByteView(kZeroVnet, kVnetHdrLen);
  switch (too_big_.check(v, frame, now_ms)) {
    case TooBigResponder::Verdict::kForward:
      break;
    case TooBigResponder::Verdict::kDrop:
      return;
    case TooBigResponder::Verdict::kReply:
      // Back into the bridge, which delivers it to the sender like any frame from a peer.
      io_.inject(ByteView(kZeroVnet, kVnetHdrLen), too_big_.reply());
      return;
  }
  if ((v[1] & 0x7f) == VnetHdr::kGsoNone) {
    forwarder_.from_local(FrameItem{v, frame}, now_ms, *this);
    return;
  }
  // A GSO super-frame: forward it as MSS-sized segments, one datagram each (or, in the
  // experiment, as chunks that fit one datagram below UDP's 64 KB limit).
  size_t per_chunk = 1;
  if (uint16_t mss = VnetHdr::read(v).gso_size; whole_superframes_ && mss > 0)
    per_chunk = std::max<size_t>(1, (65000 - 256) / mss);
  if (!segment_frame(
          v, frame, segment_buf_,
          [&](ByteView sv, ByteView sf) {
            forwarder_.from_local(FrameItem{sv, sf}, now_ms, *this);
          },
          per_chunk))
    ++counters_.dropped_malformed;
}

void DataplaneCore::handle_batch(PeerName from, ByteView batch, int64_t now_ms) {
  try {
    decode_frame_batch(batch, decoded_);
  } catch (const DecodeError&) {
    ++counters_.dropped_malformed;
    return;
  }
  if (decoded_.kind == kBatchProbe) return;
  // Copy the views: forwarding reuses plain_buf_/batch_buf_ only for sending, and the decoded
  // views point into `batch`, which stays valid for this call.
  for (const FrameItem& f : decoded_.frames)
    forwarder_.from_peer(from, decoded_.src, decoded_.dst, f, now_ms, *this);
}

void DataplaneCore::on_fragment(const UdpEndpoint& from, ByteView d, int64_t now_ms) {
  if (d.size() <= kDataHeaderLen) {
    ++counters_.dropped_malformed;
    return;
  }
  uint32_t rid = uint32_t(d[4]) << 24 | uint32_t(d[5]) << 16 | uint32_t(d[6]) << 8 | d[7];
  auto id = by_id_.find(rid);
  if (id == by_id_.end()) {
    ++counters_.dropped_unknown_session;
    return;
  }
  Neighbor& n = neighbors_.at(id->second);
  uint64_t counter = 0;
  for (int i = 8; i < 16; ++i) counter = counter << 8 | d[i];
  uint8_t index = d[1], count = d[2];
  if (index == 0) {
    if (n.reasm.capacity() < 70000) n.reasm.reserve(70000);  // once per neighbour
    n.reasm.assign(d.begin(), d.begin() + kDataHeaderLen);
    n.reasm[0] = kDatagramData;
    n.reasm[1] = d[3];
    n.reasm[2] = n.reasm[3] = 0;
    n.reasm_counter = counter;
    n.reasm_next = 0;
    n.reasm_count = count;
  } else if (index != n.reasm_next || counter != n.reasm_counter || count != n.reasm_count) {
    n.reasm_next = 0;  // a fragment went missing: the whole is lost
    n.reasm_count = 0;
    return;
  }
  n.reasm.insert(n.reasm.end(), d.begin() + kDataHeaderLen, d.end());
  if (++n.reasm_next < n.reasm_count) return;
  n.reasm_count = 0;
  // The sealed datagram's own header is the first fragment's payload start.
  Bytes whole;
  whole.swap(n.reasm);
  on_sealed(from, ByteView(whole).subspan(kDataHeaderLen), now_ms);
  whole.swap(n.reasm);
}

void DataplaneCore::on_udp(const UdpEndpoint& from, ByteView datagram, int64_t now_ms) {
  now_ms_ = now_ms;
  // Fragments exist only in the whole-super-frame experiment; otherwise they are malformed.
  if (whole_superframes_ && !datagram.empty() && datagram[0] == kDatagramFragment)
    on_fragment(from, datagram, now_ms);
  else
    on_sealed(from, datagram, now_ms);
}

void DataplaneCore::on_sealed(const UdpEndpoint& from, ByteView datagram, int64_t now_ms) {
  auto h = parse_datagram_header(datagram);
  if (!h) {
    ++counters_.dropped_malformed;
    return;
  }
  auto id = by_id_.find(h->receiver_id);
  if (id == by_id_.end()) {
    ++counters_.dropped_unknown_session;
    return;
  }
  PeerName peer = id->second;
  Neighbor& n = neighbors_.at(peer);
  if (!n.session) {
    ++counters_.dropped_no_session;
    return;
  }
  switch (n.session->open(datagram, plain_buf_, now_ms)) {
    case DataSession::OpenResult::kOk:
      break;
    case DataSession::OpenResult::kReplay:
      ++counters_.dropped_replay;
      return;
    case DataSession::OpenResult::kAuthFailed:
    case DataSession::OpenResult::kUnknownEpoch:
      ++counters_.dropped_auth;
      return;
    case DataSession::OpenResult::kMalformed:
      ++counters_.dropped_malformed;
      return;
  }
  ++counters_.udp_rx;
  n.last_udp_rx_ms = now_ms;
  if (!n.endpoint || !(*n.endpoint == from)) {
    // Authenticated, so the peer really is there now (NAT rebinding, new address).
    n.endpoint = from;
    ++counters_.endpoint_changes;
  }
  // plain_buf_ is reused by the next open; the batch is fully handled before that.
  Bytes plain;
  plain.swap(plain_buf_);
  handle_batch(peer, plain, now_ms);
  plain.swap(plain_buf_);
}

void DataplaneCore::on_fallback(PeerName from, ByteView batch, int64_t now_ms) {
  now_ms_ = now_ms;
  ++counters_.fallback_rx;
  handle_batch(from, batch, now_ms);
}

void DataplaneCore::on_timer(int64_t now_ms) {
  now_ms_ = now_ms;
  if (now_ms < next_probe_ms_) return;
  next_probe_ms_ = now_ms + kProbeIntervalMs;
  for (auto& [peer, n] : neighbors_) {
    if (!n.session) continue;
    batch_buf_.clear();
    begin_frame_batch(batch_buf_, kBatchProbe, self_, peer);
    transmit(peer, n, batch_buf_, true);
  }
  macs_.expire(now_ms);
  ips_.expire(now_ms);
}

std::vector<NeighborPath> DataplaneCore::paths(int64_t now_ms) const {
  std::vector<NeighborPath> out;
  for (const auto& [peer, n] : neighbors_) {
    NeighborPath p;
    p.peer = peer;
    p.session = n.session != nullptr;
    p.udp = n.session && n.endpoint && now_ms - n.last_udp_rx_ms < kUdpFreshMs;
    p.endpoint = n.endpoint ? n.endpoint->to_string() : "";
    p.cipher = !n.session ? "" : cipher_name(n.session->cipher());
    out.push_back(p);
  }
  return out;
}

}  // namespace weft
