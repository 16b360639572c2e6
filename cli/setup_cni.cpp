// `weft setup-cni`: installs the CNI plugin weft-cni and a network configuration list named
// `weft`, so container runtimes that use CNI (podman's CNI backend, containerd, the kubelet) can
// put containers on the overlay: `podman run --network weft ...`.
#include <CLI/CLI.hpp>
#include <filesystem>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/daemon.h"
#include "cli/output.h"
#include "cni/cni_config.h"
#include "common/atomic_file.h"

namespace weft::cli {

namespace {

namespace fs = std::filesystem;

constexpr const char* kDefaultConfDir = "/etc/cni/net.d";
constexpr const char* kDefaultBinDir = "/usr/lib/cni";
// containerd and CRI-O take the lexically first list as the default network (in Kubernetes,
// weft should be it); podman picks networks by name (`--network weft`) and keeps its own default.
constexpr const char* kConflistName = "10-weft.conflist";

struct SetupCniOptions {
  std::string conf_dir = kDefaultConfDir;
  std::string bin_dir = kDefaultBinDir;
  std::string plugin;  // the weft-cni to install; default: next to this weft
  std::string network = "weft";
};

void make_dir(const std::string& dir, const char* what) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    throw CliError("cannot create the CNI " + std::string(what) + " directory " + dir + ": " +
                   ec.message() + ". Run the command as root, or choose another with --" + what +
                   "-dir.");
  }
}

void run_setup_cni(const Context& ctx, const SetupCniOptions& o) {
  if (!cni::valid_cni_name(o.network)) {
    throw CliError("invalid --network \"" + o.network +
                   "\": use letters, digits, '_', '.' and '-', starting with a letter or digit.");
  }
  const std::string source =
      o.plugin.empty() ? find_sibling_binary(cni::kPluginType, "WEFT_CNI") : o.plugin;
  auto binary = read_file(source);
  if (!binary) throw CliError("the plugin " + source + " does not exist; give --plugin PATH.");
  make_dir(o.bin_dir, "bin");
  make_dir(o.conf_dir, "conf");
  const std::string plugin_path = o.bin_dir + "/" + cni::kPluginType;
  const std::string conf_path = o.conf_dir + "/" + kConflistName;
  try {
    write_file_atomic(plugin_path, *binary, 0755);
    write_file_atomic(conf_path, cni::render_conflist(o.network, ctx.datadir()), 0644);
  } catch (const std::system_error& e) {
    throw CliError(std::string(e.what()) + ". Run the command as root.");
  }
  say("Installed the CNI plugin " + plugin_path + " and the network " + o.network + " (" +
      conf_path + ", data dir " + ctx.datadir() + "). With weft running (`weft launch`), `podman " +
      "run --network " + o.network + " ...` puts a container on the overlay.");
}

}  // namespace

void add_setup_cni_command(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<SetupCniOptions>();
  auto* cmd = app.add_subcommand(
      "setup-cni",
      "Install the CNI plugin weft-cni and a network configuration named weft, for container "
      "runtimes (podman run --network weft, containerd, Kubernetes)");
  cmd->add_option("--conf-dir", o->conf_dir, "Where the runtime reads network configurations")
      ->capture_default_str();
  cmd->add_option("--bin-dir", o->bin_dir, "Where the runtime looks for CNI plugins")
      ->capture_default_str();
  cmd->add_option("--plugin", o->plugin,
                  "The weft-cni binary to install (default: the one next to this weft)");
  cmd->add_option("--network", o->network, "The network's name")->capture_default_str();
  cmd->callback([&ctx, o] { run_setup_cni(ctx, *o); });
}

}  // namespace weft::cli
