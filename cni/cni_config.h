#pragma once
// weft-cni's network configuration: the JSON a runtime writes to the plugin's stdin (CNI spec
// 1.0.0 section 3, "execution configuration"), and the configuration list (.conflist) it is
// derived from. Parsing is pure and total: any bytes give a NetConf or a CniError (fuzzed by
// tests/fuzz/fuzz_cni_config.cpp).
//
// weft's own keys in the plugin entry:
//   "datadir": "/var/lib/weft"   where the router's API socket is (DATADIR/api.sock)
//   "mtu": 1400                  the container interface's MTU (default: the overlay's)
//   "ipam": {"type": "weft", "addresses": ["10.32.1.5/12"]}
//                                optional: addresses to claim from weft IPAM instead of the
//                                next free one; another IPAM type is refused (code 2)
// Per-container inputs the runtime may add: "runtimeConfig" {"ips": [..], "labels": {K: V}},
// "args" {"cni": {"ips": [..], "labels": [{"key": K, "value": V}]}} (CNI CONVENTIONS.md),
// "prevResult" (CHECK, DEL, chained ADD) and "cni.dev/valid-attachments" (GC).
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cni/attachment.h"

namespace weft::cni {

constexpr const char* kDefaultDatadir = "/var/lib/weft";
constexpr const char* kPluginType = "weft-cni";
constexpr int kMinMtu = 576;  // IPv4's minimum reassembly size: smaller breaks real traffic
constexpr int kMaxMtu = 65535;
// Bounds on what a configuration may carry, so a hostile or broken runtime input costs bounded
// work downstream.
constexpr size_t kMaxLabels = 64;
constexpr size_t kMaxAddresses = 16;

struct NetConf {
  std::string cni_version;
  std::string name;  // the network's name, e.g. "weft"
  std::string type;  // the plugin binary, "weft-cni"
  std::string datadir = kDefaultDatadir;
  int mtu = 0;  // 0: the router's overlay MTU
  // Addresses asked for, in this order of precedence: runtimeConfig.ips, args.cni.ips,
  // ipam.addresses (CNI_ARGS IP= is added by the plugin).
  std::vector<std::string> requested;
  std::map<std::string, std::string> labels;  // args.cni.labels, then runtimeConfig.labels
  Dns dns;                                    // the configuration's "dns", added to results
  std::optional<nlohmann::json> prev_result;  // as given, for chaining and CHECK
  std::optional<std::vector<AttachmentKey>> valid_attachments;  // GC
};

// Parses an execution configuration. Throws CniError: kDecodeFailure (not a JSON object),
// kIncompatibleVersion (cniVersion missing or not supported), kInvalidNetworkConfig (a key
// with the wrong type or value: the message names it), kUnsupportedField (an IPAM plugin
// other than weft's).
NetConf parse_net_conf(std::string_view bytes);

// The cniVersion of whatever was given, when it is a JSON object with a string cniVersion; for
// answering in the caller's version even when the rest is broken.
std::optional<std::string> peek_cni_version(std::string_view bytes);

// A network configuration list (.conflist), as a runtime reads it from its config directory.
struct NetConfList {
  std::string cni_version;
  std::string name;
  bool disable_check = false;
  std::vector<nlohmann::json> plugins;  // each an object with a string "type"
};

// Throws CniError like parse_net_conf (kInvalidNetworkConfig for a list without plugins).
NetConfList parse_conflist(std::string_view bytes);

// The execution configuration a runtime derives from plugin entry `index` (spec section 3):
// cniVersion and name inserted, capabilities removed, `runtime_config` (may be null) as
// "runtimeConfig" when not null.
nlohmann::json execution_config(const NetConfList& list, size_t index,
                                const nlohmann::json& runtime_config = nullptr);

// What `weft setup-cni` installs: a list named `network` with one weft-cni plugin entry
// pointing at `datadir` (and "mtu" when mtu > 0), in cniVersion 1.0.0.
std::string render_conflist(const std::string& network, const std::string& datadir, int mtu = 0);

// A network or container id as the spec allows: an alphanumeric first character, then
// alphanumerics, '_', '.' or '-'.
bool valid_cni_name(std::string_view s);

}  // namespace weft::cni
