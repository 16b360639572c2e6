#pragma once
// What every command shares: the data dir (ARCHITECTURE.md §6) and the names of the files the
// CLI and the router agree on inside it.
#include <cstdint>
#include <string>

namespace weft::cli {

constexpr const char* kDefaultDatadir = "/var/lib/weft";
constexpr uint16_t kDefaultPort = 6783;

struct Context {
  // As given by --datadir / WEFT_DATADIR; see datadir().
  std::string datadir_arg = kDefaultDatadir;

  // Absolute and normalised, because the router runs as a daemon from "/" and because the
  // stop/status checks compare it with the router's command line.
  std::string datadir() const;
  std::string file(const char* name) const { return datadir() + "/" + name; }
  std::string api_socket() const { return file("api.sock"); }
  std::string pid_file() const { return file("router.pid"); }
  std::string log_file() const { return file("router.log"); }
  std::string secret_file() const { return file("secret"); }
  std::string overlay_file() const { return file("overlay.json"); }
  std::string workloads_file() const { return file("workloads.json"); }
};

}  // namespace weft::cli
