#pragma once
// How the CLI talks to its user: results on stdout, problems on stderr with exit status 1. Every
// message says what happened and what to do next.
#include <stdexcept>
#include <string>

namespace weft::cli {

// Thrown by a command to stop with this message on stderr and exit status 1.
struct CliError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A line (or lines) on stdout; a newline is added.
void say(const std::string& message);
// A line on stderr, for warnings that do not stop the command.
void warn(const std::string& message);

// Joins items as "a, b, c".
std::string join(const auto& items, const std::string& sep = ", ") {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += sep;
    out += item;
  }
  return out;
}

}  // namespace weft::cli
