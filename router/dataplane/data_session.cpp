#include "router/dataplane/data_session.h"

#include <sodium.h>

#include <cstring>

namespace weft {

namespace {
void put_u32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (24 - 8 * i));
}
void put_u64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (56 - 8 * i));
}
uint64_t get_u64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = v << 8 | p[i];
  return v;
}
}  // namespace

DataCipher best_local_cipher() {
  if (sodium_init() < 0) return DataCipher::kChaCha20Poly1305;
  return crypto_aead_aes256gcm_is_available() ? DataCipher::kAes256Gcm
                                              : DataCipher::kChaCha20Poly1305;
}

const char* cipher_name(DataCipher c) {
  switch (c) {
    case DataCipher::kAes256Gcm:
      return "AES-256-GCM";
    case DataCipher::kChaCha20Poly1305:
      return "ChaCha20-Poly1305";
    case DataCipher::kNone:
      break;
  }
  return "none (--no-encryption: frames cross in clear, unauthenticated)";
}

std::optional<DatagramHeader> parse_datagram_header(ByteView d) {
  if (d.size() < kDataOverhead) return std::nullopt;
  DatagramHeader h;
  h.type = d[0];
  h.epoch = d[1];
  if ((h.type != kDatagramData && h.type != kDatagramPlain) || d[2] != 0 || d[3] != 0)
    return std::nullopt;
  h.receiver_id = uint32_t(d[4]) << 24 | uint32_t(d[5]) << 16 | uint32_t(d[6]) << 8 | d[7];
  h.counter = get_u64(d.data() + 8);
  return h;
}

DataSession::DataSession(DataCipher cipher, const noise::Key& send_key, const noise::Key& recv_key,
                         uint32_t peer_receiver_id, int64_t now_ms, DataSessionLimits limits)
    : cipher_(cipher),
      limits_(limits),
      peer_receiver_id_(peer_receiver_id),
      send_key_(send_key),
      send_aead_(cipher, DataAead::Direction::kSeal),
      send_epoch_started_ms_(now_ms),
      current_(cipher),
      previous_(cipher),
      trial_(cipher, DataAead::Direction::kOpen) {
  send_aead_.set_key(send_key_);
  current_.key = recv_key;
  current_.aead.set_key(recv_key);
  current_.valid = true;
  if (cipher_ == DataCipher::kNone) return;
  noise::Key k = recv_key;
  for (noise::Key& a : ahead_) {
    ratchet(k);
    a = k;
    ++recv_derivations_;
  }
  noise::wipe(k);
}

DataSession::~DataSession() {
  noise::wipe(send_key_);
  noise::wipe(current_.key);
  noise::wipe(previous_.key);
  for (noise::Key& a : ahead_) noise::wipe(a);
}

void DataSession::ratchet(noise::Key& k) {
  noise::Hash a, b;
  noise::hkdf(k, as_bytes("weft dataplane rekey"), a, b);
  noise::wipe(k);
  k = a;
  noise::wipe(a);
  noise::wipe(b);
}

void DataSession::seal(ByteView plaintext, Bytes& out, int64_t now_ms) {
  if (cipher_ == DataCipher::kNone) {
    // No keys to ratchet: the counter only numbers datagrams for the replay window.
    out.resize(kDataHeaderLen + plaintext.size());
    uint8_t* h = out.data();
    h[0] = kDatagramPlain;
    h[1] = h[2] = h[3] = 0;
    put_u32(h + 4, peer_receiver_id_);
    put_u64(h + 8, send_counter_++);
    std::memcpy(h + kDataHeaderLen, plaintext.data(), plaintext.size());
    return;
  }
  if (send_counter_ >= limits_.rekey_after_packets ||
      now_ms - send_epoch_started_ms_ >= limits_.rekey_after_ms) {
    ratchet(send_key_);
    send_aead_.set_key(send_key_);
    ++send_epoch_;
    send_counter_ = 0;
    send_epoch_started_ms_ = now_ms;
  }
  out.resize(kDataHeaderLen + plaintext.size() + kDataTagLen);
  uint8_t* h = out.data();
  h[0] = kDatagramData;
  h[1] = send_epoch_;
  h[2] = h[3] = 0;
  put_u32(h + 4, peer_receiver_id_);
  put_u64(h + 8, send_counter_);
  send_aead_.seal(send_counter_, ByteView(h, kDataHeaderLen), plaintext, h + kDataHeaderLen);
  ++send_counter_;
}

void DataSession::advance(uint8_t ahead, int64_t now_ms) {
  // The current key becomes the previous one (with its window); the trial context, keyed with
  // the new epoch's key, becomes the current one.
  std::swap(previous_, current_);
  previous_.retire_at_ms = now_ms + limits_.keep_old_key_ms;
  noise::wipe(current_.key);
  current_.key = ahead_[ahead - 1];
  std::swap(current_.aead, trial_);
  trial_.wipe();
  trial_ahead_ = 0;
  current_.epoch = static_cast<uint8_t>(previous_.epoch + ahead);
  current_.window.reset();
  current_.valid = true;
  // Keys of the epochs after the new one: shift what is known, derive only the missing tail.
  for (size_t i = 0; i < ahead_.size(); ++i) {
    if (i + ahead < ahead_.size()) {
      ahead_[i] = ahead_[i + ahead];
    } else {
      ahead_[i] = i == 0 ? current_.key : ahead_[i - 1];
      ratchet(ahead_[i]);
      ++recv_derivations_;
    }
  }
}

DataSession::OpenResult DataSession::open(ByteView datagram, Bytes& plain, int64_t now_ms) {
  plain.clear();  // a refused datagram leaves nothing behind
  auto h = parse_datagram_header(datagram);
  if (!h || (h->type == kDatagramPlain) != (cipher_ == DataCipher::kNone))
    return OpenResult::kMalformed;
  if (cipher_ == DataCipher::kNone) {
    if (h->epoch != 0) return OpenResult::kUnknownEpoch;
    if (!current_.window.check(h->counter)) return OpenResult::kReplay;
    ByteView body = datagram.subspan(kDataHeaderLen);
    plain.assign(body.begin(), body.end());
    current_.window.update(h->counter);
    return OpenResult::kOk;
  }
  if (previous_.valid && now_ms >= previous_.retire_at_ms) {
    noise::wipe(previous_.key);
    previous_.aead.wipe();
    previous_.valid = false;
  }
  RecvKey* rk = nullptr;
  uint8_t ahead = 0;
  if (h->epoch == current_.epoch) {
    rk = &current_;
  } else if (previous_.valid && h->epoch == previous_.epoch) {
    rk = &previous_;
  } else if (ahead = static_cast<uint8_t>(h->epoch - current_.epoch);
             ahead >= 1 && ahead <= kMaxEpochsAhead) {
    // The sender moved on (by several epochs if an outage swallowed whole epochs): its key is
    // already derived; commit to it only if the datagram opens under it.
    if (trial_ahead_ != ahead) {
      trial_.set_key(ahead_[ahead - 1]);
      trial_ahead_ = ahead;
    }
  } else {
    return OpenResult::kUnknownEpoch;
  }
  if (rk && !rk->window.check(h->counter)) return OpenResult::kReplay;
  ByteView ad = datagram.subspan(0, kDataHeaderLen);
  ByteView ct = datagram.subspan(kDataHeaderLen);
  plain.resize(ct.size() - kDataTagLen);
  if (!(rk ? rk->aead : trial_).open(h->counter, ad, ct, plain.data())) {
    plain.clear();
    return OpenResult::kAuthFailed;
  }
  if (!rk) {
    advance(ahead, now_ms);
    rk = &current_;
  }
  if (!rk->window.update(h->counter)) {
    plain.clear();
    return OpenResult::kReplay;
  }
  return OpenResult::kOk;
}

}  // namespace weft
