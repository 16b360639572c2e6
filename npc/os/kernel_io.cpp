#include "npc/os/kernel_io.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "common/run_program.h"

namespace weft::npc {

namespace {

std::string run(const std::vector<std::string>& argv) {
  ProgramResult r = run_program(argv, std::chrono::seconds(30));
  if (!r.ok())
    throw KernelError(argv[0] + " failed (status " + std::to_string(r.status) +
                      "): " + first_line(r.err.empty() ? r.out : r.err));
  return r.out;
}

// A private temporary file holding `content`, removed when the object goes.
class TempFile {
 public:
  explicit TempFile(const std::string& content) {
    const char* dir = std::getenv("TMPDIR");
    path_ = std::string(dir && *dir ? dir : "/tmp") + "/weft-npc-XXXXXX";
    int fd = mkstemp(path_.data());
    if (fd < 0) throw KernelError("cannot create a temporary file in " + path_);
    size_t done = 0;
    while (done < content.size()) {
      ssize_t n = write(fd, content.data() + done, content.size() - done);
      if (n <= 0) {
        close(fd);
        unlink(path_.c_str());
        throw KernelError("cannot write " + path_);
      }
      done += size_t(n);
    }
    close(fd);
  }
  ~TempFile() { unlink(path_.c_str()); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

void ipset_restore(const std::string& script) {
  if (script.empty()) return;
  TempFile f(script);
  run({"ipset", "-exist", "restore", "-file", f.path()});
}

}  // namespace

KernelState read_kernel_state() {
  KernelState k;
  parse_iptables_save(run({"iptables-save", "-t", "filter"}), k);
  parse_ip6tables_save(run({"ip6tables-save", "-t", "filter"}), k);
  parse_ipset_save(run({"ipset", "save"}), k);
  return k;
}

void apply_plan(const ApplyPlan& plan) {
  ipset_restore(plan.ipset_restore);
  if (!plan.iptables_restore.empty()) {
    TempFile f(plan.iptables_restore);
    run({"iptables-restore", "--noflush", "--wait=10", f.path()});
  }
  if (!plan.ip6tables_restore.empty()) {
    TempFile f(plan.ip6tables_restore);
    run({"ip6tables-restore", "--noflush", "--wait=10", f.path()});
  }
  ipset_restore(plan.ipset_cleanup);
}

ReconcileResult reconcile(const DesiredState& desired) {
  using clock = std::chrono::steady_clock;
  ReconcileResult r;
  auto t0 = clock::now();
  KernelState k = read_kernel_state();
  auto t1 = clock::now();
  r.plan = diff(desired, k);
  if (!r.plan.empty()) apply_plan(r.plan);
  auto t2 = clock::now();
  r.read_time = std::chrono::duration_cast<std::chrono::microseconds>(t1 - t0);
  r.apply_time = std::chrono::duration_cast<std::chrono::microseconds>(t2 - t1);
  return r;
}

void remove_all() {
  apply_plan(teardown(read_kernel_state()));
}

}  // namespace weft::npc
