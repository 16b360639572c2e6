#pragma once
// The TAP backend: a TAP port on the weft bridge, opened with a virtio-net header on every frame
// (IFF_VNET_HDR) so that segmentation offloads can hand over GSO super-frames; with no offloads
// negotiated the header is all zeros.
#include <boost/asio/posix/stream_descriptor.hpp>
#include <string>
// clang-format off: the regrouping would move it after the Boost headers
#include <utility>  // Boost 1.74's asio headers need it first with GCC 12
// clang-format on
#include <vector>

#include "router/dataplane/gso.h"
#include "router/os/frame_device.h"

namespace weft {

class TapDevice : public FrameDevice, private CoalescedFrameSink {
 public:
  TapDevice(boost::asio::io_context& io, const std::string& name, const std::string& bridge,
            int mtu);
  ~TapDevice() override;

  void start(FrameHandler handler, std::function<void()> after_batch) override;
  // Consecutive TCP segments of one flow are merged into one GSO super-frame (gso.h) and
  // written by flush() or by the first frame that does not continue them.
  void write(ByteView vnet, ByteView frame) override { coalescer_.add(vnet, frame); }
  void flush() override { coalescer_.flush(); }
  std::string describe() const override { return "TAP port " + name_; }
  uint64_t write_drops() const override { return write_drops_; }

 private:
  void read();
  void write_frame(ByteView vnet, ByteView frame) override;
  int fd_ = -1;
  std::string name_;
  boost::asio::posix::stream_descriptor sd_;
  FrameHandler handler_;
  std::function<void()> after_batch_;
  std::vector<uint8_t> buf_ = std::vector<uint8_t>(65536 + 64);
  uint64_t write_drops_ = 0;
  SegmentCoalescer coalescer_{*this};
};

// Bridge setup shared by the backends.
void ensure_bridge(const std::string& bridge, int mtu);
void disable_ipv6_autoconf(const std::string& dev);

// The MTU of the interface holding the IPv4 default route, else the largest MTU of the up,
// non-loopback interfaces, else 1500.
int underlay_mtu();

}  // namespace weft
