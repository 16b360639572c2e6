#include "cli/daemon.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>

#include "cli/output.h"
#include "common/atomic_file.h"

namespace weft::cli {

namespace fs = std::filesystem;

namespace {

std::vector<std::string> proc_cmdline(pid_t pid) {
  std::optional<std::string> raw;
  try {
    raw = read_file("/proc/" + std::to_string(pid) + "/cmdline");
  } catch (const std::exception&) {
    return {};
  }
  std::vector<std::string> args;
  if (!raw) return args;
  size_t start = 0;
  while (start < raw->size()) {
    size_t end = raw->find('\0', start);
    if (end == std::string::npos) end = raw->size();
    args.push_back(raw->substr(start, end - start));
    start = end + 1;
  }
  return args;
}

std::string normalised(const fs::path& p) {
  std::error_code ec;
  fs::path c = fs::weakly_canonical(p, ec);
  std::string s = (ec ? p.lexically_normal() : c).string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

}  // namespace

std::string find_sibling_binary(const std::string& name, const char* env_var) {
  std::string path;
  if (const char* env = std::getenv(env_var); env && *env) {
    path = env;
  } else {
    std::error_code ec;
    fs::path self = fs::read_symlink("/proc/self/exe", ec);
    if (ec)
      throw CliError("cannot find this program's location (" + ec.message() + "); set " + env_var +
                     " to the " + name + " binary.");
    path = (self.parent_path() / name).string();
  }
  std::string problem;
  if (::access(path.c_str(), X_OK) != 0) {
    problem = std::strerror(errno);
  } else if (fs::is_directory(path)) {
    problem = "it is a directory";
  }
  if (!problem.empty()) {
    throw CliError("cannot run the " + name + " binary " + path + ": " + problem + ". Install " +
                   name + " next to weft, or set " + env_var + " to its path.");
  }
  return path;
}

std::string find_router_binary() {
  return find_sibling_binary("weft-router", "WEFT_ROUTER");
}

pid_t spawn_daemon(const std::string& binary, const std::vector<std::string>& args,
                   const std::string& log_path) {
  int log = ::open(log_path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (log < 0) {
    throw CliError("cannot open the router log " + log_path + ": " + std::strerror(errno) + ".");
  }
  int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (devnull < 0) {
    ::close(log);
    throw CliError(std::string("cannot open /dev/null: ") + std::strerror(errno) + ".");
  }
  // Everything the child needs is prepared before fork(): between fork and exec only
  // async-signal-safe calls are allowed.
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(binary.c_str()));
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::time_t now = std::time(nullptr);
  char when[64];
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S%z", std::localtime(&now));
  std::string banner = std::string("==== weft launch at ") + when + ": " + binary + "\n";
  std::string exec_failed = "weft: cannot execute " + binary + ": ";

  std::fflush(stdout);
  std::fflush(stderr);
  pid_t pid = ::fork();
  if (pid < 0) {
    int err = errno;
    ::close(log);
    ::close(devnull);
    throw CliError(std::string("cannot start the weft router: fork: ") + std::strerror(err) + ".");
  }
  if (pid == 0) {
    ::setsid();  // no controlling terminal: closing the shell must not take the router down
    ::dup2(devnull, 0);
    ::dup2(log, 1);
    ::dup2(log, 2);
    if (::write(2, banner.data(), banner.size()) < 0) {
      // Nothing to do: the log is the only place to report to.
    }
    if (::chdir("/") != 0) _exit(126);
    ::umask(077);  // the router writes secrets and state; nothing of it is for other users
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    // The password must not linger in a long-lived process's /proc/PID/environ.
    ::unsetenv("WEFT_PASSWORD");
    ::execv(binary.c_str(), argv.data());
    int err = errno;
    const char* reason = std::strerror(err);
    if (::write(2, exec_failed.data(), exec_failed.size()) < 0 ||
        ::write(2, reason, std::strlen(reason)) < 0 || ::write(2, "\n", 1) < 0) {
      // As above.
    }
    _exit(127);
  }
  ::close(log);
  ::close(devnull);
  return pid;
}

std::optional<int> child_exit_status(pid_t pid) {
  int st = 0;
  pid_t r;
  do {
    r = ::waitpid(pid, &st, WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == 0) return std::nullopt;
  if (r < 0) return 255;  // not our child any more: it is gone as far as we can tell
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
  return std::nullopt;
}

std::optional<pid_t> read_pid_file(const std::string& path) {
  std::optional<std::string> s;
  try {
    s = read_file(path);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (!s) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  long v = std::strtol(s->c_str(), &end, 10);
  while (end && (*end == '\n' || *end == ' ' || *end == '\r' || *end == '\t')) ++end;
  if (errno != 0 || end == s->c_str() || *end != '\0' || v <= 0 || v > 0x3fffffff) {
    return std::nullopt;
  }
  return static_cast<pid_t>(v);
}

bool process_running(pid_t pid) {
  if (::kill(pid, 0) != 0 && errno != EPERM) return false;
  // A zombie still answers kill(0); it is gone for our purposes. Its state follows the last ')'.
  std::optional<std::string> stat;
  try {
    stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  } catch (const std::exception&) {
    return false;
  }
  if (!stat) return false;
  size_t paren = stat->rfind(')');
  if (paren == std::string::npos || paren + 2 >= stat->size()) return true;
  char state = (*stat)[paren + 2];
  return state != 'Z' && state != 'X';
}

bool is_router_for(pid_t pid, const std::string& datadir) {
  return is_daemon_for(pid, datadir, "weft-router");
}

bool is_daemon_for(pid_t pid, const std::string& datadir, const std::string& binary) {
  if (!process_running(pid)) return false;
  std::vector<std::string> args = proc_cmdline(pid);
  if (args.empty() || fs::path(args[0]).filename().string().rfind(binary, 0) != 0) return false;
  std::error_code ec;
  fs::path cwd = fs::read_symlink("/proc/" + std::to_string(pid) + "/cwd", ec);
  std::string want = normalised(datadir);
  bool has_datadir_arg = false;
  for (size_t i = 1; i < args.size(); ++i) {
    std::string value;
    if (args[i] == "--datadir" && i + 1 < args.size()) {
      value = args[i + 1];
    } else if (args[i].rfind("--datadir=", 0) == 0) {
      value = args[i].substr(10);
    } else {
      continue;
    }
    has_datadir_arg = true;
    fs::path p(value);
    if (p.is_relative() && !ec) p = cwd / p;
    if (normalised(p) == want) return true;
  }
  // A daemon started by hand without --datadir uses the default data dir.
  return !has_datadir_arg && want == "/var/lib/weft";
}

std::string log_tail(const std::string& path, off_t from, size_t n) {
  // Only the end matters, and a long-lived router's log can be large.
  constexpr off_t kMaxTail = 64 * 1024;
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  in.seekg(0, std::ios::end);
  off_t size = static_cast<off_t>(in.tellg());
  if (size <= from) return "";
  off_t start = std::max(from, size - kMaxTail);
  in.seekg(start);
  std::string content(static_cast<size_t>(size - start), '\0');
  in.read(content.data(), static_cast<std::streamsize>(content.size()));
  content.resize(static_cast<size_t>(in.gcount()));
  std::string_view text(content);
  // Starting mid-file, the first line is likely partial.
  if (start > from) text.remove_prefix(std::min(text.size(), text.find('\n') + 1));
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    lines.push_back(text.substr(0, nl));
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
  }
  std::string out;
  for (size_t i = lines.size() > n ? lines.size() - n : 0; i < lines.size(); ++i) {
    out += "  ";
    out += lines[i];
    out += "\n";
  }
  return out;
}

}  // namespace weft::cli
