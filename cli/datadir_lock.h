#pragma once
// Serialises weft commands that change one data dir (launch, stop, reset), so two concurrent
// `weft launch` runs cannot both start a router.
#include <string>

namespace weft::cli {

class DatadirLock {
 public:
  // Blocks until no other weft command holds `dir` (saying so if it has to wait). Throws
  // CliError if the directory cannot be opened.
  explicit DatadirLock(const std::string& dir);
  ~DatadirLock();
  DatadirLock(const DatadirLock&) = delete;
  DatadirLock& operator=(const DatadirLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace weft::cli
