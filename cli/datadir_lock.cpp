#include "cli/datadir_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "cli/output.h"

namespace weft::cli {

DatadirLock::DatadirLock(const std::string& dir) {
  // flock on the directory itself: no lock file to leave behind, and O_CLOEXEC keeps it out of
  // the router we exec, so the lock ends with this command.
  fd_ = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd_ < 0) {
    throw CliError("cannot open the data dir " + dir + ": " + std::strerror(errno) + ".");
  }
  if (::flock(fd_, LOCK_EX | LOCK_NB) == 0) return;
  if (errno == EWOULDBLOCK) {
    warn("Another weft command is working on " + dir + "; waiting for it to finish...");
    int r;
    do {
      r = ::flock(fd_, LOCK_EX);
    } while (r != 0 && errno == EINTR);
    if (r == 0) return;
  }
  int err = errno;
  ::close(fd_);
  throw CliError("cannot lock the data dir " + dir + ": " + std::strerror(err) + ".");
}

DatadirLock::~DatadirLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace weft::cli
