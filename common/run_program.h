#pragma once
// Running a helper program (`ip`, `nsenter`) without a shell and capturing what it says.
#include <chrono>
#include <string>
#include <vector>

namespace weft {

struct ProgramResult {
  // The exit status; 128 + N when killed by signal N (as shells report it); 127 when the program
  // could not be executed; -1 when it ran past the timeout (it is then killed).
  int status = -1;
  std::string out;  // stdout
  std::string err;  // stderr, or why it could not run
  bool ok() const { return status == 0; }
};

// Runs argv[0] (looked up in PATH) with stdin from /dev/null, a clean signal mask and default
// signal handlers, and waits for it. Throws std::system_error only when no process can be started
// at all (pipe or fork failing).
ProgramResult run_program(const std::vector<std::string>& argv,
                          std::chrono::milliseconds timeout = std::chrono::seconds(10));

// Runs it (as run_program) and throws std::runtime_error naming the command and what it said
// ("`ip link add ...` failed: <first line of stderr>") unless it exits 0.
void run_or_throw(const std::vector<std::string>& argv);

// The first line of `text` without trailing whitespace ("" if none): what a tool like `ip` has
// to say about a failure, fit for the middle of a sentence.
std::string first_line(const std::string& text);

}  // namespace weft
