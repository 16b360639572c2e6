#pragma once
// Noise protocol framework building blocks (revision 34) for Noise_NNpsk0_25519_ChaChaPoly_SHA256:
// CipherState, SymmetricState and HKDF over libsodium. The control handshake (control_handshake.h)
// drives them; nothing here touches I/O.
#include <array>
#include <cstdint>
#include <optional>

#include "common/bytes.h"

namespace weft::noise {

constexpr size_t kKeyLen = 32;
constexpr size_t kHashLen = 32;
constexpr size_t kTagLen = 16;
using Key = std::array<uint8_t, kKeyLen>;
using Hash = std::array<uint8_t, kHashLen>;

// Zeroes a key in a way the compiler may not elide.
void wipe(Key& k);

Hash sha256(ByteView a, ByteView b = {});
Hash hmac_sha256(ByteView key, ByteView data);
// HKDF as Noise defines it: returns two (or three) 32-byte outputs keyed by the chaining key.
void hkdf(const Hash& ck, ByteView ikm, Hash& out1, Hash& out2, Hash* out3 = nullptr);

// ChaCha20-Poly1305 (IETF) with Noise's 64-bit counter nonce.
class CipherState {
 public:
  CipherState() = default;
  explicit CipherState(const Key& k) { set_key(k); }
  ~CipherState() { wipe(key_); }
  CipherState(const CipherState&) = delete;
  CipherState& operator=(const CipherState&) = delete;
  CipherState(CipherState&& o) noexcept;
  CipherState& operator=(CipherState&& o) noexcept;

  void set_key(const Key& k);
  bool has_key() const { return has_key_; }
  uint64_t nonce() const { return nonce_; }
  // Appends ciphertext+tag to out. Throws if the nonce space is exhausted (never in practice).
  void encrypt(ByteView ad, ByteView plaintext, Bytes& out);
  // Returns false (and leaves the nonce unchanged) when authentication fails.
  bool decrypt(ByteView ad, ByteView ciphertext, Bytes& out);

 private:
  Key key_{};
  bool has_key_ = false;
  uint64_t nonce_ = 0;
};

class SymmetricState {
 public:
  explicit SymmetricState(std::string_view protocol_name);
  ~SymmetricState();
  void mix_hash(ByteView data);
  void mix_key(ByteView ikm);
  void mix_key_and_hash(ByteView ikm);
  void encrypt_and_hash(ByteView plaintext, Bytes& out);
  bool decrypt_and_hash(ByteView ciphertext, Bytes& out);
  // Returns (first, second): the initiator sends with first, the responder with second.
  std::pair<Key, Key> split() const;
  // A key for another purpose bound to this handshake (e.g. the data plane), labelled.
  Key export_key(std::string_view label) const;
  const Hash& handshake_hash() const { return h_; }

 private:
  Hash ck_{};
  Hash h_{};
  CipherState cipher_;
};

}  // namespace weft::noise
