#include "router/dataplane/data_session_aead.h"

#include <openssl/evp.h>
#include <sodium.h>

#include <cstring>
#include <stdexcept>
#include <utility>

#include "router/dataplane/data_session.h"

namespace weft {

namespace {
void nonce_of(uint64_t counter, uint8_t out[12]) {
  std::memset(out, 0, 4);
  for (int i = 0; i < 8; ++i) out[4 + i] = static_cast<uint8_t>(counter >> (56 - 8 * i));
}
}  // namespace

DataAead::DataAead(DataCipher cipher, Direction dir) : cipher_(cipher), dir_(dir) {
  if (cipher_ != DataCipher::kAes256Gcm) return;
  ctx_ = EVP_CIPHER_CTX_new();
  if (!ctx_) throw std::runtime_error("OpenSSL: cannot allocate a cipher context");
}

DataAead::~DataAead() {
  if (ctx_) EVP_CIPHER_CTX_free(ctx_);  // cleanses the key schedule
  noise::wipe(key_);
}

DataAead::DataAead(DataAead&& o) noexcept
    : cipher_(o.cipher_), dir_(o.dir_), ctx_(std::exchange(o.ctx_, nullptr)), key_(o.key_) {
  noise::wipe(o.key_);
}

DataAead& DataAead::operator=(DataAead&& o) noexcept {
  if (this != &o) {
    std::swap(cipher_, o.cipher_);
    std::swap(dir_, o.dir_);
    std::swap(ctx_, o.ctx_);
    std::swap(key_, o.key_);
  }
  return *this;
}

void DataAead::set_key(const noise::Key& key) {
  if (!ctx_) {
    key_ = key;
    return;
  }
  int ok = dir_ == Direction::kSeal
               ? EVP_EncryptInit_ex(ctx_, EVP_aes_256_gcm(), nullptr, key.data(), nullptr)
               : EVP_DecryptInit_ex(ctx_, EVP_aes_256_gcm(), nullptr, key.data(), nullptr);
  if (ok != 1) throw std::runtime_error("OpenSSL: cannot key AES-256-GCM");
}

void DataAead::wipe() {
  noise::wipe(key_);
  if (ctx_) EVP_CIPHER_CTX_reset(ctx_);
}

void DataAead::seal(uint64_t counter, ByteView ad, ByteView pt, uint8_t* out) {
  uint8_t nonce[12];
  nonce_of(counter, nonce);
  if (!ctx_) {
    unsigned long long clen = 0;
    crypto_aead_chacha20poly1305_ietf_encrypt(out, &clen, pt.data(), pt.size(), ad.data(),
                                              ad.size(), nullptr, nonce, key_.data());
    return;
  }
  int n = 0, fin = 0;
  // With the key already set, only the nonce changes per datagram. These calls cannot fail for
  // a keyed context and lengths below 2^31; the result is checked all the same.
  bool ok = EVP_EncryptInit_ex(ctx_, nullptr, nullptr, nullptr, nonce) == 1 &&
            EVP_EncryptUpdate(ctx_, nullptr, &n, ad.data(), static_cast<int>(ad.size())) == 1 &&
            EVP_EncryptUpdate(ctx_, out, &n, pt.data(), static_cast<int>(pt.size())) == 1 &&
            EVP_EncryptFinal_ex(ctx_, out + n, &fin) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_GCM_GET_TAG, 16, out + pt.size()) == 1;
  if (!ok) throw std::runtime_error("OpenSSL: AES-256-GCM seal failed");
}

bool DataAead::open(uint64_t counter, ByteView ad, ByteView ct, uint8_t* out) {
  if (ct.size() < 16) return false;
  uint8_t nonce[12];
  nonce_of(counter, nonce);
  if (!ctx_) {
    unsigned long long mlen = 0;
    return crypto_aead_chacha20poly1305_ietf_decrypt(out, &mlen, nullptr, ct.data(), ct.size(),
                                                     ad.data(), ad.size(), nonce, key_.data()) == 0;
  }
  size_t len = ct.size() - 16;
  int n = 0, fin = 0;
  return EVP_DecryptInit_ex(ctx_, nullptr, nullptr, nullptr, nonce) == 1 &&
         EVP_DecryptUpdate(ctx_, nullptr, &n, ad.data(), static_cast<int>(ad.size())) == 1 &&
         EVP_DecryptUpdate(ctx_, out, &n, ct.data(), static_cast<int>(len)) == 1 &&
         EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_GCM_SET_TAG, 16,
                             const_cast<uint8_t*>(ct.data() + len)) == 1 &&
         EVP_DecryptFinal_ex(ctx_, out + n, &fin) == 1;
}

}  // namespace weft
