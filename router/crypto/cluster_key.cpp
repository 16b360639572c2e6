#include "router/crypto/cluster_key.h"

#include <sodium.h>

#include <stdexcept>

namespace weft {

noise::Key derive_cluster_key(std::string_view secret) {
  if (secret.empty()) throw std::runtime_error("the cluster secret is empty");
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
  static const unsigned char kSalt[crypto_pwhash_SALTBYTES] = {'w', 'e', 'f', 't', '-', 'c',
                                                               'l', 'u', 's', 't', 'e', 'r',
                                                               '-', 'v', '1', 0};
  noise::Key key;
  if (crypto_pwhash(key.data(), key.size(), secret.data(), secret.size(), kSalt,
                    crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE,
                    crypto_pwhash_ALG_ARGON2ID13) != 0)
    throw std::runtime_error("deriving the cluster key failed (out of memory?)");
  return key;
}

}  // namespace weft
