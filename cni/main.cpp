// weft-cni: the CNI plugin that puts a container on the weft overlay through the local router
// (ARCHITECTURE.md §1). The protocol lives in cni_plugin (no I/O); this file reads the
// environment and stdin, runs it with the router backend, and prints the answer.
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <iterator>
#include <string>

#include "cni/cni_plugin.h"
#include "cni/cni_result.h"
#include "cni/cni_version.h"
#include "cni/router_backend.h"

namespace {

// A configuration is a few KB; a prevResult with many interfaces a few more. Bounded so a broken
// caller cannot make the plugin read forever.
constexpr size_t kMaxStdin = 1 << 20;

void print_about() {
  std::cout << "weft-cni " WEFT_VERSION
               ": the CNI plugin of weft, an encrypted mesh overlay network.\n"
               "A container runtime (podman, containerd, the kubelet) runs it with CNI_COMMAND "
               "set and the network configuration on stdin. Supported CNI versions:";
  for (const auto& v : weft::cni::supported_versions()) std::cout << " " << v;
  std::cout << ".\n`weft setup-cni` installs it and a network named weft "
               "(`podman run --network weft ...`).\n";
}

}  // namespace

int main(int argc, char** argv) {
  using namespace weft::cni;
  if (argc > 1) {
    std::string a = argv[1];
    if (a == "--version" || a == "version") {
      std::cout << "weft-cni " WEFT_VERSION "\n";
      return 0;
    }
    print_about();
    return a == "--help" || a == "-h" ? 0 : 1;
  }
  std::string input;
  // VERSION may come without stdin; a terminal on stdin means a person ran us by hand.
  const char* command = std::getenv("CNI_COMMAND");
  bool read_stdin = !::isatty(STDIN_FILENO) || (command && std::string(command) != "VERSION");
  if (read_stdin) {
    char buf[65536];
    std::streamsize n;
    while ((n = std::cin.read(buf, sizeof buf).gcount()) > 0) {
      input.append(buf, static_cast<size_t>(n));
      if (input.size() > kMaxStdin) {
        CniError e(CniCode::kIoFailure, "the network configuration on stdin is larger than 1 MiB");
        std::cout << render_error(kNewestVersion, e).dump() << "\n";
        return 1;
      }
    }
  }
  PluginOutput out = run_plugin(
      [](const char* name) -> std::optional<std::string> {
        const char* v = std::getenv(name);
        if (!v) return std::nullopt;
        return std::string(v);
      },
      input,
      [](const NetConf& conf) -> std::unique_ptr<CniBackend> {
        return std::make_unique<RouterBackend>(conf.datadir);
      });
  // Errors go to stdout too: libcni reads a plugin's error result from there.
  std::cout << out.out << std::flush;
  return out.exit_status;
}
