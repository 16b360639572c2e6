#pragma once
// Starting weft-router as a daemon and finding, checking and signalling it afterwards.
#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace weft::cli {

// The executable `name` shipped with weft: $`env_var`, else next to this executable. Throws
// CliError if it is not an executable file.
std::string find_sibling_binary(const std::string& name, const char* env_var);
// The weft-router binary: $WEFT_ROUTER, else next to this executable.
std::string find_router_binary();

// Starts `binary args...` in its own session, stdin from /dev/null, stdout and stderr appended
// to `log_path`, cwd "/". Returns the child's pid; the child stays ours to waitpid() until this
// process exits.
pid_t spawn_daemon(const std::string& binary, const std::vector<std::string>& args,
                   const std::string& log_path);

// The exit status of our child `pid` if it has ended (reaping it), else nullopt. A death by
// signal is reported as 128 + the signal number, as shells do.
std::optional<int> child_exit_status(pid_t pid);

// The pid in a pid file, or nullopt if the file is missing or does not hold a positive number.
std::optional<pid_t> read_pid_file(const std::string& path);
// True while `pid` exists and is not a zombie.
bool process_running(pid_t pid);
// True if `pid` is a running weft router for `datadir`, judged from its command line: a reused
// pid from a stale pid file must never be signalled.
bool is_router_for(pid_t pid, const std::string& datadir);
// The same for any of weft's daemons started with --datadir ("weft-npc").
bool is_daemon_for(pid_t pid, const std::string& datadir, const std::string& binary);

// The last `n` lines of `path` from byte `from` on (earlier runs' lines are not this run's
// problem), each indented; "" if there are none.
std::string log_tail(const std::string& path, off_t from, size_t n);

}  // namespace weft::cli
