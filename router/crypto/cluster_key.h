#pragma once
// Turns the cluster secret (a generated random string or a user's password) into the 32-byte
// pre-shared key of the control handshake. Passwords are stretched with Argon2id so that a
// captured handshake cannot be brute-forced cheaply; the salt is fixed because every peer must
// derive the same key without talking first.
#include <string_view>

#include "router/crypto/noise.h"

namespace weft {

// Throws std::runtime_error if the secret is empty or the KDF cannot get its memory.
noise::Key derive_cluster_key(std::string_view secret);

}  // namespace weft
