#pragma once
// Turns the cluster secret (a generated random string or a user's password) into the 32-byte
// pre-shared key of the control handshake. Passwords are stretched with Argon2id so that a
// captured handshake cannot be brute-forced cheaply.
//
// The salt must be the same on every peer, which derives the key without talking first. Without
// a cluster name it is the fixed "weft-cluster-v1" (every weft cluster so far): one precomputed
// dictionary then attacks all such clusters at once. With a cluster name (`weft launch
// --cluster-name NAME` or WEFT_CLUSTER_NAME, the same on every host of the cluster) the salt is
// the first 16 bytes of BLAKE2b-256("weft-cluster-v2" || NAME), so guesses against one cluster's
// recorded handshake are useless against another's. See docs/DESIGN.md.
#include <string_view>

#include "router/crypto/noise.h"

namespace weft {

// Throws std::runtime_error if the secret is empty or the KDF cannot get its memory.
// An empty `cluster_name` keeps the fixed salt (compatible with clusters launched without one).
noise::Key derive_cluster_key(std::string_view secret, std::string_view cluster_name = {});

}  // namespace weft
