#include "router/crypto/control_channel.h"

#include <sodium.h>

#include <cstring>

namespace weft {

namespace {
constexpr char kProtocolName[] = "Noise_NNpsk0_25519_ChaChaPoly_SHA256";
constexpr uint8_t kMagic[4] = {'w', 'e', 'f', 't'};
constexpr size_t kPreambleLen = 7;
constexpr uint8_t kFlagEncrypted = 1;
constexpr uint8_t kFrameNoise = 1, kFrameReject = 2, kFramePlainHello = 3;
constexpr size_t kMaxHandshakeFrame = 4096;
constexpr size_t kDhLen = crypto_scalarmult_BYTES;
}  // namespace

const char* failure_name(ChannelFailure f) {
  switch (f) {
    case ChannelFailure::kNone: return "none";
    case ChannelFailure::kNotWeft: return "not_weft";
    case ChannelFailure::kVersionMismatch: return "version_mismatch";
    case ChannelFailure::kEncryptionMismatch: return "encryption_mismatch";
    case ChannelFailure::kAuthentication: return "authentication";
    case ChannelFailure::kRejected: return "rejected";
    case ChannelFailure::kProtocol: return "protocol";
  }
  return "unknown";
}

ControlChannel::ControlChannel(Config cfg) : cfg_(std::move(cfg)) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
  start();
}

ControlChannel::~ControlChannel() {
  noise::wipe(cfg_.psk);
  noise::wipe(e_priv_);
  noise::wipe(dp_send_);
  noise::wipe(dp_recv_);
}

void ControlChannel::start() {
  local_preamble_.assign(kMagic, kMagic + 4);
  local_preamble_.push_back(cfg_.version_min);
  local_preamble_.push_back(cfg_.version_max);
  local_preamble_.push_back(cfg_.encrypted ? kFlagEncrypted : 0);
  out_.insert(out_.end(), local_preamble_.begin(), local_preamble_.end());
}

Bytes ControlChannel::take_output() {
  Bytes b;
  b.swap(out_);
  bytes_sent_ += b.size();
  return b;
}

std::optional<Bytes> ControlChannel::pop_message() {
  if (messages_.empty()) return std::nullopt;
  Bytes m = std::move(messages_.front());
  messages_.pop_front();
  return m;
}

void ControlChannel::fail(ChannelFailure f, std::string detail) {
  if (state_ == State::kFailed) return;
  state_ = State::kFailed;
  failure_ = f;
  failure_detail_ = std::move(detail);
  in_.clear();
  in_pos_ = 0;
}

void ControlChannel::reject_and_fail(ChannelFailure f, std::string detail,
                                     std::string_view reason_to_peer) {
  write_handshake_frame(kFrameReject, as_bytes(reason_to_peer));
  fail(f, std::move(detail));
}

void ControlChannel::receive(ByteView data) {
  if (state_ == State::kFailed) return;
  bytes_received_ += data.size();
  in_.insert(in_.end(), data.begin(), data.end());
  process();
  // Compact the consumed prefix so the buffer does not grow without bound.
  if (in_pos_ > 0 && (in_pos_ == in_.size() || in_pos_ > 65536)) {
    in_.erase(in_.begin(), in_.begin() + static_cast<std::ptrdiff_t>(in_pos_));
    in_pos_ = 0;
  }
}

void ControlChannel::process() {
  while (state_ != State::kFailed) {
    if (state_ == State::kPreamble) {
      if (!take_preamble()) return;
      continue;
    }
    if (state_ == State::kHandshake) {
      uint8_t kind;
      Bytes payload;
      if (!take_handshake_frame(kind, payload)) return;
      on_handshake_frame(kind, payload);
      continue;
    }
    if (!take_transport_frame()) return;
  }
}

bool ControlChannel::take_preamble() {
  if (in_.size() - in_pos_ < kPreambleLen) {
    // Fail early on a wrong magic so a stray client gets a clear error, not a hang.
    for (size_t i = 0; i < in_.size() - in_pos_ && i < 4; ++i)
      if (in_[in_pos_ + i] != kMagic[i]) fail(ChannelFailure::kNotWeft, "not a weft peer");
    return false;
  }
  const uint8_t* p = in_.data() + in_pos_;
  if (std::memcmp(p, kMagic, 4) != 0) {
    fail(ChannelFailure::kNotWeft, "not a weft peer");
    return false;
  }
  Bytes remote_preamble(p, p + kPreambleLen);
  in_pos_ += kPreambleLen;
  uint8_t rmin = remote_preamble[4], rmax = remote_preamble[5];
  bool remote_encrypted = remote_preamble[6] & kFlagEncrypted;
  uint8_t lo = std::max(rmin, cfg_.version_min), hi = std::min(rmax, cfg_.version_max);
  if (lo > hi) {
    fail(ChannelFailure::kVersionMismatch,
         "no common protocol version (ours " + std::to_string(cfg_.version_min) + "-" +
             std::to_string(cfg_.version_max) + ", theirs " + std::to_string(rmin) + "-" +
             std::to_string(rmax) + ")");
    return false;
  }
  version_ = hi;
  if (remote_encrypted != cfg_.encrypted) {
    fail(ChannelFailure::kEncryptionMismatch,
         cfg_.encrypted ? "the peer runs without encryption (--no-encryption) but this router "
                          "encrypts; launch both the same way"
                        : "the peer uses encryption but this router runs with --no-encryption; "
                          "launch both the same way");
    return false;
  }
  state_ = State::kHandshake;
  if (!cfg_.encrypted) {
    Bytes hello;
    encode_peer_hello(cfg_.local, hello);
    write_handshake_frame(kFramePlainHello, hello);
    return true;
  }
  ss_.emplace(kProtocolName);
  // Prologue: both preambles in initiator, responder order.
  Bytes prologue = {'w', 'e', 'f', 't', '-', 'c', 't', 'l'};
  const Bytes& ip = cfg_.initiator ? local_preamble_ : remote_preamble;
  const Bytes& rp = cfg_.initiator ? remote_preamble : local_preamble_;
  prologue.insert(prologue.end(), ip.begin(), ip.end());
  prologue.insert(prologue.end(), rp.begin(), rp.end());
  ss_->mix_hash(prologue);
  e_pub_.resize(kDhLen);
  // An X25519 key pair as crypto_box_keypair() makes one: 32 random bytes (clamped by the
  // scalar multiplication itself) and their product with the base point.
  RandomSource& random = cfg_.random ? *cfg_.random : system_random();
  random.fill(e_priv_.data(), e_priv_.size());
  if (crypto_scalarmult_base(e_pub_.data(), e_priv_.data()) != 0) {
    fail(ChannelFailure::kProtocol, "cannot make an ephemeral key");
    return false;
  }
  if (cfg_.initiator) {
    // -> psk, e, payload(hello)
    ss_->mix_key_and_hash(cfg_.psk);
    Bytes msg = e_pub_;
    ss_->mix_hash(e_pub_);
    ss_->mix_key(e_pub_);
    Bytes hello;
    encode_peer_hello(cfg_.local, hello);
    ss_->encrypt_and_hash(hello, msg);
    write_handshake_frame(kFrameNoise, msg);
  }
  return true;
}

bool ControlChannel::take_handshake_frame(uint8_t& kind, Bytes& payload) {
  if (in_.size() - in_pos_ < 3) return false;
  const uint8_t* p = in_.data() + in_pos_;
  size_t len = size_t(p[1]) << 8 | p[2];
  if (len > kMaxHandshakeFrame) {
    fail(ChannelFailure::kProtocol, "handshake frame too large");
    return false;
  }
  if (in_.size() - in_pos_ < 3 + len) return false;
  kind = p[0];
  payload.assign(p + 3, p + 3 + len);
  in_pos_ += 3 + len;
  return true;
}

void ControlChannel::on_handshake_frame(uint8_t kind, const Bytes& payload) {
  if (kind == kFrameReject) {
    std::string reason(payload.begin(), payload.end());
    if (reason.size() > 200) reason.resize(200);
    for (char& c : reason)
      if (c < 32 || c > 126) c = '?';
    fail(reason == "authentication failed" ? ChannelFailure::kAuthentication
                                           : ChannelFailure::kRejected,
         "the peer refused the handshake: " + reason);
    return;
  }
  if (!cfg_.encrypted) {
    if (kind != kFramePlainHello) return fail(ChannelFailure::kProtocol, "unexpected frame");
    try {
      remote_ = decode_peer_hello(payload);
    } catch (const DecodeError& e) {
      return fail(ChannelFailure::kProtocol, std::string("malformed hello: ") + e.what());
    }
    state_ = State::kConfirming;
    write_transport_frame({});
    return;
  }
  if (kind != kFrameNoise) return fail(ChannelFailure::kProtocol, "unexpected handshake frame");
  if (payload.size() < kDhLen)
    return fail(ChannelFailure::kProtocol, "handshake message too short");
  ByteView re(payload.data(), kDhLen);
  ByteView rest = ByteView(payload).subspan(kDhLen);
  Bytes hello_bytes;
  if (!cfg_.initiator) {
    // <- psk, e, payload: a wrong secret shows up here as a failed decryption.
    ss_->mix_key_and_hash(cfg_.psk);
    ss_->mix_hash(re);
    ss_->mix_key(re);
    if (!ss_->decrypt_and_hash(rest, hello_bytes))
      return reject_and_fail(ChannelFailure::kAuthentication,
                             "authentication failed (the peer's first handshake message does "
                             "not decrypt with our cluster secret)",
                             "authentication failed");
  } else {
    // <- e, ee, payload
    ss_->mix_hash(re);
    ss_->mix_key(re);
  }
  uint8_t shared[kDhLen];
  if (crypto_scalarmult(shared, e_priv_.data(), re.data()) != 0)
    return fail(ChannelFailure::kProtocol, "invalid ephemeral key");
  if (!cfg_.initiator) {
    Bytes msg = e_pub_;
    ss_->mix_hash(e_pub_);
    ss_->mix_key(e_pub_);
    ss_->mix_key(ByteView(shared, kDhLen));
    sodium_memzero(shared, sizeof shared);
    try {
      remote_ = decode_peer_hello(hello_bytes);
    } catch (const DecodeError& e) {
      return fail(ChannelFailure::kProtocol, std::string("malformed hello: ") + e.what());
    }
    Bytes hello;
    encode_peer_hello(cfg_.local, hello);
    ss_->encrypt_and_hash(hello, msg);
    write_handshake_frame(kFrameNoise, msg);
  } else {
    ss_->mix_key(ByteView(shared, kDhLen));
    sodium_memzero(shared, sizeof shared);
    if (!ss_->decrypt_and_hash(rest, hello_bytes))
      return fail(ChannelFailure::kAuthentication,
                  "authentication failed (the peer's handshake reply does not decrypt)");
    try {
      remote_ = decode_peer_hello(hello_bytes);
    } catch (const DecodeError& e) {
      return fail(ChannelFailure::kProtocol, std::string("malformed hello: ") + e.what());
    }
  }
  finish_handshake();
}

void ControlChannel::finish_handshake() {
  auto [k1, k2] = ss_->split();
  noise::Key d1 = ss_->export_key("weft dataplane initiator->responder");
  noise::Key d2 = ss_->export_key("weft dataplane responder->initiator");
  if (cfg_.initiator) {
    send_.set_key(k1);
    recv_.set_key(k2);
    dp_send_ = d1;
    dp_recv_ = d2;
  } else {
    send_.set_key(k2);
    recv_.set_key(k1);
    dp_send_ = d2;
    dp_recv_ = d1;
  }
  noise::wipe(k1);
  noise::wipe(k2);
  noise::wipe(d1);
  noise::wipe(d2);
  noise::wipe(e_priv_);
  ss_.reset();
  state_ = State::kConfirming;
  write_transport_frame({});  // key confirmation
}

bool ControlChannel::take_transport_frame() {
  if (in_.size() - in_pos_ < 4) return false;
  const uint8_t* p = in_.data() + in_pos_;
  size_t len = size_t(p[0]) << 24 | size_t(p[1]) << 16 | size_t(p[2]) << 8 | p[3];
  size_t overhead = cfg_.encrypted ? noise::kTagLen : 0;
  if (len > kMaxControlMessage + overhead || len < overhead) {
    fail(ChannelFailure::kProtocol, "transport frame length out of range");
    return false;
  }
  if (in_.size() - in_pos_ < 4 + len) return false;
  Bytes plain;
  if (!recv_.decrypt({}, ByteView(p + 4, len), plain)) {
    fail(ChannelFailure::kAuthentication, "a control message failed authentication");
    return false;
  }
  in_pos_ += 4 + len;
  if (state_ == State::kConfirming) {
    if (!plain.empty()) {
      fail(ChannelFailure::kProtocol, "expected key confirmation");
      return false;
    }
    state_ = State::kEstablished;
    return true;
  }
  messages_.push_back(std::move(plain));
  return true;
}

void ControlChannel::write_handshake_frame(uint8_t kind, ByteView payload) {
  ByteWriter w(out_);
  w.u8(kind);
  w.u16(static_cast<uint16_t>(payload.size()));
  w.raw(payload);
}

void ControlChannel::write_transport_frame(ByteView plaintext) {
  size_t overhead = cfg_.encrypted ? noise::kTagLen : 0;
  ByteWriter w(out_);
  w.u32(static_cast<uint32_t>(plaintext.size() + overhead));
  send_.encrypt({}, plaintext, out_);
}

void ControlChannel::send(ByteView message) {
  if (state_ != State::kEstablished && state_ != State::kConfirming)
    throw std::logic_error("ControlChannel::send before the handshake finished");
  if (message.size() > kMaxControlMessage) throw std::length_error("control message too large");
  write_transport_frame(message);
}

}  // namespace weft
