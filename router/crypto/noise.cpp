#include "router/crypto/noise.h"

#include <sodium.h>

#include <cstring>
#include <stdexcept>

namespace weft::noise {

void wipe(Key& k) { sodium_memzero(k.data(), k.size()); }

Hash sha256(ByteView a, ByteView b) {
  crypto_hash_sha256_state st;
  crypto_hash_sha256_init(&st);
  crypto_hash_sha256_update(&st, a.data(), a.size());
  crypto_hash_sha256_update(&st, b.data(), b.size());
  Hash out;
  crypto_hash_sha256_final(&st, out.data());
  return out;
}

Hash hmac_sha256(ByteView key, ByteView data) {
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, key.data(), key.size());
  crypto_auth_hmacsha256_update(&st, data.data(), data.size());
  Hash out;
  crypto_auth_hmacsha256_final(&st, out.data());
  sodium_memzero(&st, sizeof st);
  return out;
}

void hkdf(const Hash& ck, ByteView ikm, Hash& out1, Hash& out2, Hash* out3) {
  Hash temp = hmac_sha256(ck, ikm);
  const uint8_t one = 1;
  out1 = hmac_sha256(temp, ByteView(&one, 1));
  uint8_t buf[kHashLen + 1];
  std::memcpy(buf, out1.data(), kHashLen);
  buf[kHashLen] = 2;
  out2 = hmac_sha256(temp, ByteView(buf, sizeof buf));
  if (out3) {
    std::memcpy(buf, out2.data(), kHashLen);
    buf[kHashLen] = 3;
    *out3 = hmac_sha256(temp, ByteView(buf, sizeof buf));
  }
  sodium_memzero(temp.data(), temp.size());
  sodium_memzero(buf, sizeof buf);
}

CipherState::CipherState(CipherState&& o) noexcept { *this = std::move(o); }

CipherState& CipherState::operator=(CipherState&& o) noexcept {
  key_ = o.key_;
  has_key_ = o.has_key_;
  nonce_ = o.nonce_;
  wipe(o.key_);
  o.has_key_ = false;
  return *this;
}

void CipherState::set_key(const Key& k) {
  key_ = k;
  has_key_ = true;
  nonce_ = 0;
}

static void make_nonce(uint64_t n, uint8_t out[crypto_aead_chacha20poly1305_ietf_NPUBBYTES]) {
  std::memset(out, 0, 4);
  for (int i = 0; i < 8; ++i) out[4 + i] = static_cast<uint8_t>(n >> (8 * i));
}

void CipherState::encrypt(ByteView ad, ByteView plaintext, Bytes& out) {
  if (!has_key_) {
    out.insert(out.end(), plaintext.begin(), plaintext.end());
    return;
  }
  if (nonce_ == UINT64_MAX) throw std::runtime_error("noise: nonce space exhausted");
  uint8_t npub[crypto_aead_chacha20poly1305_ietf_NPUBBYTES];
  make_nonce(nonce_, npub);
  size_t start = out.size();
  out.resize(start + plaintext.size() + kTagLen);
  unsigned long long clen = 0;
  crypto_aead_chacha20poly1305_ietf_encrypt(out.data() + start, &clen, plaintext.data(),
                                            plaintext.size(), ad.data(), ad.size(), nullptr, npub,
                                            key_.data());
  ++nonce_;
}

bool CipherState::decrypt(ByteView ad, ByteView ciphertext, Bytes& out) {
  if (!has_key_) {
    out.insert(out.end(), ciphertext.begin(), ciphertext.end());
    return true;
  }
  if (ciphertext.size() < kTagLen || nonce_ == UINT64_MAX) return false;
  uint8_t npub[crypto_aead_chacha20poly1305_ietf_NPUBBYTES];
  make_nonce(nonce_, npub);
  size_t start = out.size();
  out.resize(start + ciphertext.size() - kTagLen);
  unsigned long long mlen = 0;
  if (crypto_aead_chacha20poly1305_ietf_decrypt(out.data() + start, &mlen, nullptr,
                                                ciphertext.data(), ciphertext.size(), ad.data(),
                                                ad.size(), npub, key_.data()) != 0) {
    out.resize(start);
    return false;
  }
  ++nonce_;
  return true;
}

SymmetricState::SymmetricState(std::string_view protocol_name) {
  if (protocol_name.size() <= kHashLen) {
    h_.fill(0);
    std::memcpy(h_.data(), protocol_name.data(), protocol_name.size());
  } else {
    h_ = sha256(as_bytes(protocol_name));
  }
  ck_ = h_;
}

SymmetricState::~SymmetricState() { sodium_memzero(ck_.data(), ck_.size()); }

void SymmetricState::mix_hash(ByteView data) { h_ = sha256(h_, data); }

void SymmetricState::mix_key(ByteView ikm) {
  Hash k;
  hkdf(ck_, ikm, ck_, k);
  cipher_.set_key(k);
  wipe(k);
}

void SymmetricState::mix_key_and_hash(ByteView ikm) {
  Hash th, tk;
  hkdf(ck_, ikm, ck_, th, &tk);
  mix_hash(th);
  cipher_.set_key(tk);
  wipe(tk);
}

void SymmetricState::encrypt_and_hash(ByteView plaintext, Bytes& out) {
  size_t start = out.size();
  cipher_.encrypt(h_, plaintext, out);
  mix_hash(ByteView(out).subspan(start));
}

bool SymmetricState::decrypt_and_hash(ByteView ciphertext, Bytes& out) {
  if (!cipher_.decrypt(h_, ciphertext, out)) return false;
  mix_hash(ciphertext);
  return true;
}

std::pair<Key, Key> SymmetricState::split() const {
  Hash a, b;
  hkdf(ck_, {}, a, b);
  return {a, b};
}

Key SymmetricState::export_key(std::string_view label) const {
  Hash a, b;
  hkdf(ck_, as_bytes(label), a, b);
  wipe(b);
  return a;
}

}  // namespace weft::noise
