#include "router/crypto/cluster_key.h"

#include <sodium.h>

#include <cstring>
#include <stdexcept>

namespace weft {

noise::Key derive_cluster_key(std::string_view secret, std::string_view cluster_name) {
  if (secret.empty()) throw std::runtime_error("the cluster secret is empty");
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
  unsigned char salt[crypto_pwhash_SALTBYTES] = {'w', 'e', 'f', 't', '-', 'c', 'l', 'u',
                                                 's', 't', 'e', 'r', '-', 'v', '1', 0};
  if (!cluster_name.empty()) {
    static constexpr std::string_view kLabel = "weft-cluster-v2";
    unsigned char h[crypto_generichash_BYTES];
    crypto_generichash_state st;
    crypto_generichash_init(&st, nullptr, 0, sizeof h);
    crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(kLabel.data()),
                              kLabel.size());
    crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(cluster_name.data()),
                              cluster_name.size());
    crypto_generichash_final(&st, h, sizeof h);
    std::memcpy(salt, h, sizeof salt);
  }
  noise::Key key;
  if (crypto_pwhash(key.data(), key.size(), secret.data(), secret.size(), salt,
                    crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE,
                    crypto_pwhash_ALG_ARGON2ID13) != 0)
    throw std::runtime_error("deriving the cluster key failed (out of memory?)");
  return key;
}

}  // namespace weft
