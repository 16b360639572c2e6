#pragma once
// The JSON weft-cni prints (CNI spec 1.0.0 section 5): the Success result of ADD, the Error
// result, the Version result; and reading a prevResult back for CHECK. Pure.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "cni/attachment.h"
#include "cni/cni_error.h"

namespace weft::cni {

// ADD's result in `version`'s shape: the host end of the veth (when known, without sandbox) and
// the container interface `ifname` in `netns` (its MAC, sandbox = netns), every IP on the
// container interface (0.3.x/0.4.0 add "version": "4"), its gateway when there is one, the
// routes, and DNS when any is set (`extra_dns` from the configuration is merged after the
// router's). With a `prev` result (weft-cni chained after another plugin), its interfaces, IPs,
// routes and DNS are kept (their interface indexes stay valid) and ours are appended.
nlohmann::json render_result(const std::string& version, const std::string& ifname,
                             const std::string& netns, const Attachment& a,
                             const Dns& extra_dns = {},
                             const std::optional<nlohmann::json>& prev = std::nullopt);

// The attachment a prevResult says the container interface `ifname` has: its MAC, the IPs
// assigned to it (by index, or all IPs when no IP names an interface), the routes. Throws
// CniError kInvalidNetworkConfig when prevResult is not a result or has no such interface.
Attachment parse_result(const nlohmann::json& result, const std::string& ifname);

// {"cniVersion", "code", "msg", "details"}.
nlohmann::json render_error(const std::string& version, const CniError& e);

// {"cniVersion": version, "supportedVersions": [...]}.
nlohmann::json render_version(const std::string& version);

}  // namespace weft::cni
