#pragma once
// Where the router meets the bridge: frames the bridge hands over for remote peers come out of
// a FrameDevice, frames from remote peers go into it. Two backends sit behind this interface:
// a TAP port (default, faster: see bench/RESULTS.md) and libpcap on a veth port (the reference,
// which works wherever libpcap does).
#include <functional>
#include <memory>
#include <string>

#include "common/bytes.h"

namespace boost::asio {
class io_context;
}

namespace weft {

class FrameDevice {
 public:
  // vnet: the 10-byte virtio-net header (zeros when the backend has none); frame: Ethernet.
  using FrameHandler = std::function<void(ByteView vnet, ByteView frame)>;
  virtual ~FrameDevice() = default;
  // Starts delivering captured frames to `handler` on the io_context's thread. `after_batch`
  // runs after each burst of frames (the caller re-arms timers there).
  virtual void start(FrameHandler handler, std::function<void()> after_batch) = 0;
  // Best effort: a frame the device cannot take now is dropped and counted.
  virtual void write(ByteView vnet, ByteView frame) = 0;
  // Writes what write() held back to merge (the TAP coalesces TCP segments); called at the end
  // of every burst of input.
  virtual void flush() {}
  virtual std::string describe() const = 0;
  virtual uint64_t write_drops() const = 0;
};

enum class CaptureBackend { kTap, kPcap };

// The MTU of the capture port itself (not the overlay's): far above it, so that the bridge hands
// over a packet too big for the overlay, from an interface on the bridge with a larger MTU,
// instead of dropping it silently; the data plane answers it with ICMP "fragmentation needed"
// (router/dataplane/icmp_too_big.h). Such frames still fit the backends' 64 KB read buffers.
constexpr int kCapturePortMtu = 65000;

// Creates the bridge (if missing, with IPv6 autoconfiguration and router advertisements off)
// (with `mtu`) and the backend's port on it (with kCapturePortMtu), both up.
std::unique_ptr<FrameDevice> open_frame_device(CaptureBackend backend, boost::asio::io_context& io,
                                               const std::string& bridge, int mtu);

}  // namespace weft
