#pragma once
// The data plane's I/O: the capture device on the bridge (TAP or pcap) and the UDP tunnel
// socket, with batched syscalls (UDP GSO on send, GRO + recvmmsg on receive), feeding a
// DataplaneCore and carrying out what it decides. The control connection fallback goes
// through the mesh (MeshCore::send_frames), which the owner passes in.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <functional>
#include <memory>
#include <string>
// clang-format off: the regrouping would move it after the Boost headers
#include <utility>  // Boost 1.74's asio headers need it first with GCC 12
// clang-format on

#include "router/dataplane/dataplane_core.h"
#include "router/os/frame_device.h"
#include "router/os/udp_batch.h"

namespace weft {

struct DataplaneIoConfig {
  std::string bridge = "weft";
  CaptureBackend capture = CaptureBackend::kTap;
  uint16_t port = 6783;
  int mtu = 0;         // overlay MTU; 0: the underlay's minus the encapsulation overhead
  std::string cipher;  // for the start-up log line
};

class DataplaneIoAdapter : public DataplaneIo {
 public:
  using Fallback = std::function<void(PeerName neighbor, ByteView batch)>;
  DataplaneIoAdapter(boost::asio::io_context& io, DataplaneIoConfig cfg, Fallback fallback,
                     std::function<int64_t()> now_ms, std::function<void()> after_burst);

  // Opens the device and the socket and starts reading. Throws std::runtime_error on failure
  // (the UDP port in use, no bridge...).
  void start(DataplaneCore& core);
  int mtu() const { return mtu_; }
  std::string describe_device() const;
  uint64_t device_write_drops() const;
  // Flushes frames queued for the device (after the fallback path delivered some).
  void flush_device();

  // DataplaneIo
  void send_udp(const UdpEndpoint& to, ByteView datagram) override;
  void send_fallback(PeerName neighbor, ByteView batch) override;
  void inject(ByteView vnet, ByteView frame) override;

 private:
  void read_udp();

  boost::asio::io_context& io_;
  DataplaneIoConfig cfg_;
  Fallback fallback_;
  std::function<int64_t()> now_;
  std::function<void()> after_burst_;
  DataplaneCore* core_ = nullptr;
  std::unique_ptr<FrameDevice> device_;
  boost::asio::ip::udp::socket udp_;
  std::unique_ptr<UdpGsoSender> udp_out_;
  std::unique_ptr<UdpGroReceiver> udp_in_;
  int mtu_ = 0;
  bool batching_ = false;  // inside a burst: send_udp only queues
};

}  // namespace weft
