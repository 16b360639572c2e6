#include "common/run_program.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>

namespace weft {

namespace {

using Clock = std::chrono::steady_clock;

struct Pipe {
  int fd[2] = {-1, -1};
  Pipe() {
    if (::pipe2(fd, O_CLOEXEC) != 0)
      throw std::system_error(errno, std::generic_category(), "pipe");
  }
  ~Pipe() {
    for (int f : fd) {
      if (f >= 0) ::close(f);
    }
  }
  void close_end(int i) {
    if (fd[i] >= 0) ::close(fd[i]);
    fd[i] = -1;
  }
};

int wait_status(pid_t pid) {
  int st = 0;
  while (::waitpid(pid, &st, 0) < 0) {
    if (errno != EINTR) return 255;
  }
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
  return 255;
}

}  // namespace

ProgramResult run_program(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
  ProgramResult r;
  if (argv.empty()) {
    r.status = 127;
    r.err = "no command given";
    return r;
  }
  // Everything the child needs is prepared before fork(): between fork and exec only
  // async-signal-safe calls are allowed.
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::string exec_failed = "cannot execute " + argv[0] + ": ";
  Pipe out, err;
  int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (devnull < 0) throw std::system_error(errno, std::generic_category(), "open /dev/null");

  pid_t pid = ::fork();
  if (pid < 0) {
    int e = errno;
    ::close(devnull);
    throw std::system_error(e, std::generic_category(), "fork");
  }
  if (pid == 0) {
    ::dup2(devnull, 0);
    ::dup2(out.fd[1], 1);
    ::dup2(err.fd[1], 2);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE}) ::signal(sig, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execvp(args[0], args.data());
    const char* reason = std::strerror(errno);
    if (::write(2, exec_failed.data(), exec_failed.size()) < 0 ||
        ::write(2, reason, std::strlen(reason)) < 0) {
      // Nothing else to report to.
    }
    _exit(127);
  }
  ::close(devnull);
  out.close_end(1);
  err.close_end(1);

  const auto deadline = Clock::now() + timeout;
  bool timed_out = false;
  std::string* sinks[2] = {&r.out, &r.err};
  while (out.fd[0] >= 0 || err.fd[0] >= 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd fds[2] = {{out.fd[0], POLLIN, 0}, {err.fd[0], POLLIN, 0}};
    int n = ::poll(fds, 2, static_cast<int>(left.count()));
    if (n < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buf[4096];
      ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
      if (got > 0) {
        sinks[i]->append(buf, static_cast<size_t>(got));
      } else if (got == 0 || errno != EINTR) {
        (i == 0 ? out : err).close_end(0);
      }
    }
  }
  if (timed_out) {
    ::kill(pid, SIGKILL);
    wait_status(pid);
    r.status = -1;
    r.err += (r.err.empty() ? "" : "\n") + std::string("timed out after ") +
             std::to_string(timeout.count()) + " ms";
    return r;
  }
  r.status = wait_status(pid);
  return r;
}

std::string first_line(const std::string& text) {
  size_t start = text.find_first_not_of(" \t\r\n");
  if (start == std::string::npos) return "";
  std::string line = text.substr(start, text.find('\n', start) - start);
  while (!line.empty() && (line.back() == ' ' || line.back() == '\r' || line.back() == '\t')) {
    line.pop_back();
  }
  return line;
}

void run_or_throw(const std::vector<std::string>& argv) {
  ProgramResult r = run_program(argv);
  if (r.ok()) return;
  std::string cmd;
  for (const auto& a : argv) cmd += (cmd.empty() ? "" : " ") + a;
  std::string why = first_line(r.err.empty() ? r.out : r.err);
  if (why.empty()) why = "exit status " + std::to_string(r.status);
  throw std::runtime_error("`" + cmd + "` failed: " + why);
}

}  // namespace weft
