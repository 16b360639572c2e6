#include "common/pid_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace weft {

PidFile::PidFile(std::string path, const std::string& what) : path_(std::move(path)) {
  fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) throw std::runtime_error("cannot open " + path_ + ": " + std::strerror(errno));
  if (flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd_);
    throw std::runtime_error("another " + what + " is already running (pid file " + path_ + ")");
  }
  std::string pid = std::to_string(getpid()) + "\n";
  if (ftruncate(fd_, 0) != 0 || write(fd_, pid.data(), pid.size()) != ssize_t(pid.size())) {
    ::close(fd_);
    throw std::runtime_error("cannot write " + path_);
  }
}

PidFile::~PidFile() {
  ::unlink(path_.c_str());
  ::close(fd_);
}

}  // namespace weft
