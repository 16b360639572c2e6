#pragma once
// The overlay network's shape on one host, shared by the CLI (which sets the host up) and the
// router (which adds its capture port to the bridge): names, MTU arithmetic and the overlay range
// (ARCHITECTURE.md §1, §4). The chosen values live in DATADIR/overlay.json.
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace weft {

// Bytes each overlay frame costs on the underlay (IPv4 underlay), as the data plane encapsulates:
// IPv4 20 + UDP 8 + weft data header 16 + AEAD tag 16 + frame batch header 17 + per-frame length
// and virtio header 12 + inner Ethernet header 14 (the overlay MTU counts from the inner IP
// header). router/os/router_daemon.h derives the same number from the wire constants.
constexpr int kOverlayOverhead = 103;

// The largest frame payload a workload may send so that, encapsulated, it still fits in one
// underlay packet.
constexpr int overlay_mtu(int underlay_mtu) {
  return underlay_mtu - kOverlayOverhead;
}

constexpr int kMinOverlayMtu = 576;  // what every IPv4 host must accept (RFC 791)
constexpr int kMaxOverlayMtu = 65000;
constexpr int kDefaultUnderlayMtu = 1500;
constexpr const char* kDefaultOverlayRange = "10.32.0.0/12";

// Interfaces weft creates. The bridge has a fixed name and the router's ports start with "weft-"
// (weft-tap, or the weft-pcap veth pair); each workload gets a veth pair: "vethwe" + 8 hex digits
// on the host, "ethweft" inside the workload.
constexpr const char* kBridgeName = "weft";
constexpr const char* kWorkloadIfName = "ethweft";
constexpr const char* kHostVethPrefix = "vethwe";

// True for "vethwe" followed by exactly 8 lowercase hex digits: only those are weft's (Weave Net
// used "vethwe-bridge", "vethwepl1234" and the like, which this does not match).
bool is_weft_veth_name(std::string_view ifname);
// The bridge, a router port ("weft-...") or a workload veth.
bool is_weft_interface(std::string_view ifname);

struct Ipv4Cidr;
// An address to show users as an example: 10.32.1.5/12 for the default range (the range's
// network + 0.0.1.5, or + 1 when that does not fit), with the range's prefix length.
std::string example_address(const Ipv4Cidr& range);

// DATADIR/overlay.json: {"mtu":1420,"range":"10.32.0.0/12"}.
struct OverlayConfig {
  int mtu = 0;
  std::string range;
  bool operator==(const OverlayConfig&) const = default;
};
std::string overlay_config_json(const OverlayConfig& c);
// Throws std::invalid_argument when the text is not such a document (or its values are invalid).
OverlayConfig parse_overlay_config(std::string_view text);

// One line of `ip -j link show`, as far as choosing the underlay MTU needs.
struct LinkMtu {
  std::string name;
  int mtu = 0;
  bool up = false;
  bool loopback = false;
};
// From the JSON of `ip -j link show`; entries without a name or MTU are skipped.
std::vector<LinkMtu> links_from_ip_json(const nlohmann::json& links);
// The `dev` of the first route in the JSON of `ip -j route show default`, if any.
std::optional<std::string> default_route_dev(const nlohmann::json& routes);

// The underlay MTU, and where it came from ("eth0, which holds the default route").
struct UnderlayMtu {
  int mtu = kDefaultUnderlayMtu;
  std::string source;
};
// The MTU of the interface holding the default route, else the largest MTU of the non-loopback
// interfaces that are up, else 1500. weft's own interfaces never count: their MTU is already the
// overlay's, and counting them would shrink the overlay on every launch.
UnderlayMtu choose_underlay_mtu(const std::vector<LinkMtu>& links,
                                const std::optional<std::string>& default_dev);

}  // namespace weft
