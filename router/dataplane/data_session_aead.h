#pragma once
// The AEAD behind one direction of a DataSession, keyed once per key rather than per datagram.
// AES-256-GCM goes through OpenSSL's EVP interface: on this machine it sealed 1,400-byte
// datagrams 1.7x as fast as libsodium's AES-256-GCM (which also redoes its key schedule and GHASH
// table on every call); see bench/RESULTS.md. ChaCha20-Poly1305 (CPUs without AES-NI) stays with
// libsodium. Both produce the standard constructions, so the wire format does not depend on the
// library.
#include <cstdint>

#include "common/bytes.h"
#include "router/crypto/noise.h"

struct evp_cipher_ctx_st;

namespace weft {

enum class DataCipher : uint8_t;

class DataAead {
 public:
  enum class Direction { kSeal, kOpen };
  DataAead(DataCipher cipher, Direction dir);
  ~DataAead();
  DataAead(DataAead&& o) noexcept;
  DataAead& operator=(DataAead&& o) noexcept;
  DataAead(const DataAead&) = delete;
  DataAead& operator=(const DataAead&) = delete;

  void set_key(const noise::Key& key);
  void wipe();  // forgets the key (the OpenSSL context is cleansed and re-initialised later)

  // 96-bit nonce = 4 zero bytes + the big-endian counter. `out` gets pt.size() + 16 bytes.
  void seal(uint64_t counter, ByteView ad, ByteView pt, uint8_t* out);
  // `ct` includes the 16-byte tag; `out` gets ct.size() - 16 bytes. False when it does not
  // authenticate.
  bool open(uint64_t counter, ByteView ad, ByteView ct, uint8_t* out);

 private:
  DataCipher cipher_;
  Direction dir_;
  evp_cipher_ctx_st* ctx_ = nullptr;  // AES-256-GCM only
  noise::Key key_{};                  // ChaCha20-Poly1305 only
};

}  // namespace weft
