#pragma once
// The per-invocation parameters a runtime passes in the environment (CNI spec 1.0.0 section 2):
// CNI_COMMAND, CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME, CNI_ARGS, CNI_PATH. Pure: the caller
// supplies a lookup function instead of the process environment.
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace weft::cni {

enum class CniCommand { kAdd, kDel, kCheck, kVersion, kGc, kStatus };

// Looks an environment variable up; nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(const char* name)>;

struct CniEnv {
  CniCommand command = CniCommand::kVersion;
  std::string container_id;
  std::string netns;
  std::string ifname;
  std::map<std::string, std::string> args;  // CNI_ARGS, "K=V;K2=V2"
  std::string path;                         // CNI_PATH (weft-cni delegates nothing)
};

// Reads and validates what `command` requires (ADD and CHECK: container id, netns, ifname; DEL:
// container id, ifname; VERSION, GC, STATUS: nothing). Throws CniError kInvalidEnvironment naming
// every missing or malformed variable, and, for an unset CNI_COMMAND, saying that weft-cni is
// run by a container runtime.
CniEnv read_cni_env(const EnvLookup& env);

// "K=V;K2=V2" into a map. Throws CniError kInvalidEnvironment for a pair without '='.
std::map<std::string, std::string> parse_cni_args(std::string_view s);

// "K=V<sep>K2=V2" into `out` (later keys win; empty items are skipped). Throws CniError
// kInvalidEnvironment naming `what` and showing `example` for an item without a key, and when
// `out` would hold more than `max_items`.
void parse_key_values(std::string_view s, char sep, const std::string& what,
                      const std::string& example, size_t max_items,
                      std::map<std::string, std::string>& out);

// The CNI_ARGS keys weft-cni understands: K8S_POD_NAME, K8S_POD_NAMESPACE (the workload's name
// and namespace), WEFT_LABELS ("k=v,k2=v2"), IP (a requested address), and the ones it ignores
// (K8S_POD_INFRA_CONTAINER_ID, K8S_POD_UID, IgnoreUnknown). Any other key is refused (code 4,
// naming it) unless IgnoreUnknown is "1" or "true", as the reference plugins do.
void check_known_args(const std::map<std::string, std::string>& args);

// An interface name Linux accepts: 1 to 15 bytes, not "." or "..", no '/', ':' or whitespace.
bool valid_ifname(std::string_view s);

}  // namespace weft::cni
