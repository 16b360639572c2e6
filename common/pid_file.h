#pragma once
// A daemon's pid file, locked for the process's life so a second copy on the same data dir fails
// at start instead of fighting the first. The lock goes with the process (kill -9 included);
// the file is removed on a clean exit.
#include <string>

namespace weft {

class PidFile {
 public:
  // Creates or opens `path` (0600), takes its lock and writes our pid. Throws std::runtime_error
  // ("another WHAT is already running (pid file PATH)") when another process holds it.
  PidFile(std::string path, const std::string& what);
  ~PidFile();
  PidFile(const PidFile&) = delete;
  PidFile& operator=(const PidFile&) = delete;

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace weft
