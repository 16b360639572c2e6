#pragma once
// The libpcap backend (the reference, as in Weave Net): a veth pair whose one end is a port on
// the bridge and whose other end the router captures from and injects into with libpcap.
// Offloads are switched off on the bridge end, so the kernel segments and checksums every frame
// before it reaches us: frames never exceed their sender's MTU and need no virtio-net header.
// clang-format off: the regrouping would move it after the Boost headers
#include <utility>  // Boost 1.74's asio headers need it first with GCC 12
// clang-format on

#include <boost/asio/posix/stream_descriptor.hpp>
#include <string>

#include "router/os/frame_device.h"

struct pcap;

namespace weft {

class PcapDevice : public FrameDevice {
 public:
  PcapDevice(boost::asio::io_context& io, const std::string& bridge, int mtu);
  ~PcapDevice() override;

  void start(FrameHandler handler, std::function<void()> after_batch) override;
  void write(ByteView vnet, ByteView frame) override;
  std::string describe() const override { return "libpcap on veth " + capture_dev_; }
  uint64_t write_drops() const override { return write_drops_; }

 private:
  void read();
  std::string capture_dev_, bridge_dev_;
  struct pcap* pcap_ = nullptr;
  boost::asio::posix::stream_descriptor sd_;
  FrameHandler handler_;
  std::function<void()> after_batch_;
  uint64_t write_drops_ = 0;
  Bytes out_, segment_buf_;
};

}  // namespace weft
