#pragma once
// The TAP port the router puts on the weft bridge: frames the bridge sends towards remote MACs
// (or floods) are read here, frames from remote peers are written here. Opened with a
// virtio-net header on every frame (IFF_VNET_HDR) so that segmentation offloads can later hand
// over GSO super-frames; with no offloads negotiated the header is all zeros.
#include <string>

namespace weft {

class TapDevice {
 public:
  // Creates (or reopens) TAP `name`, attaches it to `bridge` (created if missing, IPv6
  // autoconfiguration and router advertisements off) and sets both up with `mtu`.
  TapDevice(const std::string& name, const std::string& bridge, int mtu);
  ~TapDevice();
  TapDevice(const TapDevice&) = delete;
  TapDevice& operator=(const TapDevice&) = delete;

  int fd() const { return fd_; }
  const std::string& name() const { return name_; }

 private:
  int fd_ = -1;
  std::string name_;
};

// The MTU of the interface holding the IPv4 default route, else the largest MTU of the up,
// non-loopback interfaces, else 1500.
int underlay_mtu();

}  // namespace weft
