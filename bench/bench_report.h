#pragma once
// Helpers shared by the benchmarks: wall and CPU clocks, number formatting, a line describing the
// machine, and writing a generated block into RESULTS.md between markers.
#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace weft::bench {

using Clock = std::chrono::steady_clock;
double secs_since(Clock::time_point t0);
// CPU time of this process (all threads), in seconds.
double cpu_secs();

// "%.*f".
std::string fixed(double v, int prec);
// "812 B", "12.3 KB", "4.5 MB" (decimal units).
std::string human_bytes(double b);

// CPU model and count, RAM, compiler and build type.
std::string machine();

// Replaces the text between `begin` and `end` (markers included) in the file at `path` with
// begin + "\n" + block + end. When the markers are not there yet, appends "\n## " + heading,
// a blank line and the markers with the block to the end of the file (creating it with a title
// if it does not exist). Writes atomically (temporary file, rename); false on failure.
bool write_block(const std::string& path, const std::string& begin, const std::string& end,
                 const std::string& heading, const std::string& block);

// A command-line option `--name=VALUE`. `partial`: the run no longer reproduces the recorded
// figures (a subset, another seed...), so it writes RESULTS.md only when asked to.
struct Option {
  const char* name;
  const char* example;  // for the usage line: "--name=example"
  std::function<void(const std::string&)> set;
  bool partial = true;
};
// Applies argv's options in order. Returns false on an unknown or malformed one (the setters'
// exceptions count as malformed). `partial` is set when a partial option was given; `command`
// gets " --name=VALUE" appended for each.
bool parse_options(int argc, char** argv, const std::vector<Option>& options, bool& partial,
                   std::string& command);
// "usage: PROGRAM [--a=x] [--b=y]..." on lines of at most 100 characters.
std::string usage(const char* program, const std::vector<Option>& options);
// "200,1000" -> {200, 1000}.
std::vector<int> parse_int_list(const std::string& s);

}  // namespace weft::bench
