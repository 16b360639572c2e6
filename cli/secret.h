#pragma once
// The cluster secret (ARCHITECTURE.md §5) in DATADIR/secret, mode 0600: taken from a password the
// user gives, reused from an earlier launch, or generated. Never printed, never logged.
#include <optional>
#include <string>

namespace weft::cli {

struct PasswordInput {
  std::optional<std::string> password;       // --password
  std::optional<std::string> password_file;  // --password-file
};

struct SecretOutcome {
  enum class Kind { kFromPassword, kReplacedByPassword, kReused, kGenerated } kind;
  std::string source;  // "--password", "--password-file FILE", "WEFT_PASSWORD"
};

// Makes sure `secret_path` holds the cluster secret and says where it came from. Reads
// WEFT_PASSWORD when neither flag is given. Throws CliError for an unreadable or empty password.
SecretOutcome ensure_secret(const std::string& secret_path, const PasswordInput& in);

// Generated secrets are this many random bytes, hex-encoded.
constexpr size_t kGeneratedSecretBytes = 32;
// Shorter passwords get a warning: a recorded handshake lets an attacker test guesses offline.
constexpr size_t kShortPassword = 12;

}  // namespace weft::cli
