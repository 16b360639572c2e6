#include "cli/overlay_state.h"

#include <cerrno>
#include <stdexcept>
#include <system_error>

#include "cli/output.h"
#include "common/atomic_file.h"
#include "hostnet/host_net.h"

namespace weft::cli {

namespace {

std::optional<std::string> read_state_file(const std::string& path) {
  try {
    return read_file(path);
  } catch (const std::system_error& e) {
    throw CliError("cannot read " + path + ": " + e.code().message() +
                   ". Run the command as root.");
  }
}

void write_state_file(const std::string& path, const std::string& content) {
  try {
    write_file_atomic(path, content, 0600);
  } catch (const std::system_error& e) {
    throw CliError("cannot write " + path + ": " + e.code().message() +
                   ". Run the command as root.");
  }
}

}  // namespace

std::optional<OverlayConfig> read_overlay_config(const Context& ctx) {
  auto text = read_state_file(ctx.overlay_file());
  if (!text) return std::nullopt;
  try {
    return parse_overlay_config(*text);
  } catch (const std::invalid_argument& e) {
    throw CliError(ctx.overlay_file() + " is damaged (" + e.what() +
                   "). Delete it and run `weft launch` again to write it afresh.");
  }
}

void write_overlay_config(const Context& ctx, const OverlayConfig& c) {
  write_state_file(ctx.overlay_file(), overlay_config_json(c));
}

OverlayConfig require_overlay_config(const Context& ctx) {
  auto c = read_overlay_config(ctx);
  if (!c) {
    throw CliError("the overlay is not set up on this host (no " + ctx.overlay_file() +
                   "). Run `weft launch` (a router started by an older weft needs `weft stop` "
                   "first).");
  }
  return *c;
}

std::string NetnsRef::path() const {
  if (pid > 0) return "/proc/" + std::to_string(pid) + "/ns/net";
  // A container's namespace (CNI) is recorded by its path.
  return name.starts_with('/') ? name : "/run/netns/" + name;
}

std::string NetnsRef::label() const {
  return pid > 0 ? "pid:" + std::to_string(pid) : name;
}

NetnsRef netns_of(const WorkloadRecord& r) {
  return NetnsRef{r.netns, r.pid};
}

bool is_stale(const WorkloadRecord& r) {
  uint64_t ino = 0;
  if (check_netns(netns_of(r).path(), &ino) != NetnsCheck::kOk) return true;
  return r.netns_inode != 0 && ino != r.netns_inode;
}

}  // namespace weft::cli
