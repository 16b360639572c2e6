#include "cli/secret.h"

#include <sodium.h>
#include <sys/stat.h>

#include <cstdlib>

#include "cli/output.h"
#include "common/atomic_file.h"
#include "common/bytes.h"

namespace weft::cli {

namespace {

struct Password {
  std::string value;
  std::string source;
};

std::optional<Password> given_password(const PasswordInput& in) {
  if (in.password) return Password{*in.password, "--password"};
  if (in.password_file) {
    std::optional<std::string> content;
    try {
      content = read_file(*in.password_file);
    } catch (const std::exception& e) {
      throw CliError(std::string("cannot read the password file: ") + e.what() + ".");
    }
    if (!content) {
      throw CliError("cannot read the password file " + *in.password_file +
                     ": no such file. Copy the secret from a host already in the mesh (its " +
                     "DATADIR/secret) and pass that file's path.");
    }
    // Files written by editors or `echo` end with a newline that is not part of the password.
    std::string& s = *content;
    if (!s.empty() && s.back() == '\n') s.pop_back();
    if (!s.empty() && s.back() == '\r') s.pop_back();
    return Password{std::move(s), "--password-file " + *in.password_file};
  }
  if (const char* env = std::getenv("WEFT_PASSWORD"); env != nullptr) {
    return Password{env, "WEFT_PASSWORD"};
  }
  return std::nullopt;
}

void write_secret(const std::string& path, std::string_view secret) {
  try {
    write_file_atomic(path, secret, 0600);
  } catch (const std::exception& e) {
    throw CliError(std::string("cannot save the cluster secret: ") + e.what() + ".");
  }
}

}  // namespace

SecretOutcome ensure_secret(const std::string& secret_path, const PasswordInput& in) {
  std::optional<std::string> existing;
  try {
    existing = read_file(secret_path);
  } catch (const std::exception& e) {
    throw CliError(std::string("cannot read the cluster secret: ") + e.what() + ".");
  }

  if (auto pw = given_password(in)) {
    if (pw->value.empty()) {
      throw CliError("the password from " + pw->source +
                     " is empty. Give a non-empty password, or omit it to generate a secret.");
    }
    if (pw->value.size() < kShortPassword) {
      warn("Warning: the password from " + pw->source + " is short (" +
           std::to_string(pw->value.size()) +
           " characters). Anyone who records a handshake can try guesses offline; prefer a long "
           "random secret (omit the password on the first host to generate one).");
    }
    bool replaced = existing && *existing != pw->value;
    write_secret(secret_path, pw->value);
    sodium_memzero(pw->value.data(), pw->value.size());
    return {
        replaced ? SecretOutcome::Kind::kReplacedByPassword : SecretOutcome::Kind::kFromPassword,
        pw->source};
  }

  if (existing) {
    if (existing->empty()) {
      throw CliError("the cluster secret " + secret_path +
                     " is empty. Delete it to generate a new one, or pass --password-file.");
    }
    struct stat st;
    if (::stat(secret_path.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
      ::chmod(secret_path.c_str(), 0600);
      warn("Warning: " + secret_path +
           " was readable by other users; its mode is now 0600. If untrusted users had access, "
           "generate a new secret and relaunch every host with it.");
    }
    return {SecretOutcome::Kind::kReused, secret_path};
  }

  if (sodium_init() < 0)
    throw CliError("libsodium failed to initialise; cannot generate a secret.");
  Bytes raw(kGeneratedSecretBytes);
  randombytes_buf(raw.data(), raw.size());
  std::string hex = to_hex(raw);
  sodium_memzero(raw.data(), raw.size());
  write_secret(secret_path, hex);
  sodium_memzero(hex.data(), hex.size());
  return {SecretOutcome::Kind::kGenerated, secret_path};
}

}  // namespace weft::cli
