// derive_cluster_key (router/crypto/cluster_key.h): without a cluster name the key is the one
// every earlier weft derived (fixed salt "weft-cluster-v1"), so existing clusters keep working;
// with a name the salt is BLAKE2b-256("weft-cluster-v2" || name)[0..16], computed here
// independently, and different names give different keys for the same password.
#include <doctest/doctest.h>
#include <sodium.h>

#include <cstring>
#include <string>

#include "router/crypto/cluster_key.h"

namespace {
weft::noise::Key reference(const std::string& pw, const unsigned char* salt) {
  weft::noise::Key k;
  REQUIRE(crypto_pwhash(k.data(), k.size(), pw.data(), pw.size(), salt,
                        crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE,
                        crypto_pwhash_ALG_ARGON2ID13) == 0);
  return k;
}
}  // namespace

TEST_CASE("the cluster key: the legacy salt without a name, a per-cluster salt with one") {
  REQUIRE(sodium_init() >= 0);
  const std::string pw = "correct horse battery staple";
  const unsigned char legacy[16] = {'w', 'e', 'f', 't', '-', 'c', 'l', 'u',
                                    's', 't', 'e', 'r', '-', 'v', '1', 0};
  CHECK(weft::derive_cluster_key(pw) == reference(pw, legacy));
  CHECK(weft::derive_cluster_key(pw, "") == reference(pw, legacy));

  const std::string input = std::string("weft-cluster-v2") + "edge-berlin";
  unsigned char h[32];
  crypto_generichash(h, sizeof h, reinterpret_cast<const unsigned char*>(input.data()),
                     input.size(), nullptr, 0);
  weft::noise::Key berlin = weft::derive_cluster_key(pw, "edge-berlin");
  CHECK(berlin == reference(pw, h));  // only the first 16 bytes are the salt
  CHECK(berlin != weft::derive_cluster_key(pw));
  CHECK(berlin != weft::derive_cluster_key(pw, "edge-paris"));
  CHECK(berlin == weft::derive_cluster_key(pw, "edge-berlin"));
}
