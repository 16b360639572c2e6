#include "router/os/dataplane_io.h"

#include <spdlog/spdlog.h>

#include <cstdlib>

#include "common/overlay.h"
#include "router/os/tap_device.h"

namespace weft {

namespace asio = boost::asio;

DataplaneIoAdapter::DataplaneIoAdapter(asio::io_context& io, DataplaneIoConfig cfg,
                                       Fallback fallback, std::function<int64_t()> now_ms,
                                       std::function<void()> after_burst)
    : io_(io),
      cfg_(std::move(cfg)),
      fallback_(std::move(fallback)),
      now_(std::move(now_ms)),
      after_burst_(std::move(after_burst)),
      udp_(io) {}

void DataplaneIoAdapter::start(DataplaneCore& core) {
  core_ = &core;
  mtu_ = cfg_.mtu > 0 ? cfg_.mtu : underlay_mtu() - kOverlayOverhead;
  device_ = open_frame_device(cfg_.capture, io_, cfg_.bridge, mtu_);
  core.set_overlay_mtu(static_cast<size_t>(mtu_));
  boost::system::error_code ec;
  udp_.open(asio::ip::udp::v4());
  udp_.bind(asio::ip::udp::endpoint(asio::ip::udp::v4(), cfg_.port), ec);
  if (ec)
    throw std::runtime_error("cannot listen on UDP port " + std::to_string(cfg_.port) + ": " +
                             ec.message());
  udp_.non_blocking(true);
  // Bursts of segments from one super-frame arrive back to back: room for several of them.
  udp_.set_option(asio::socket_base::receive_buffer_size(4 << 20), ec);
  udp_.set_option(asio::socket_base::send_buffer_size(4 << 20), ec);
  udp_out_ = std::make_unique<UdpGsoSender>(udp_.native_handle());
  udp_in_ = std::make_unique<UdpGroReceiver>(udp_.native_handle());
  spdlog::info("data plane: bridge {} with {}, overlay MTU {}, UDP port {}, {}", cfg_.bridge,
               device_->describe(), mtu_, cfg_.port, cfg_.cipher);
  // Experiment (bench/RESULTS.md): 1 = whole super-frames in fragments sent with UDP GSO,
  // 2 = whole super-frames IP-fragmented by the kernel.
  if (const char* e = std::getenv("WEFT_EXPERIMENT_WHOLE_SUPERFRAMES"); e && *e >= '1') {
    spdlog::warn("experiment: super-frames cross whole, one AEAD each, {}",
                 *e == '1' ? "in UDP GSO fragments" : "IP-fragmented");
    core.set_whole_superframes(true, *e == '1' ? size_t(mtu_ + kOverlayOverhead - 28) : 0);
  }
  device_->start(
      [this](ByteView vnet, ByteView frame) {
        batching_ = true;
        core_->on_local_frame(vnet, frame, now_());
      },
      [this] {
        batching_ = false;
        udp_out_->flush();
        device_->flush();
        after_burst_();
      });
  read_udp();
}

void DataplaneIoAdapter::read_udp() {
  udp_.async_wait(asio::ip::udp::socket::wait_read, [this](const boost::system::error_code& ec) {
    if (ec) return;
    int64_t now = now_();
    // Several recvmmsg calls per wakeup: each returns up to UdpGroReceiver::kMessages bundles.
    // Datagrams relayed meanwhile are queued (batching_) and leave in GSO sends at the end.
    batching_ = true;
    for (int i = 0; i < 8; ++i) {
      const auto& batch = udp_in_->receive();
      if (batch.empty()) break;
      for (const UdpGroReceiver::Datagram& d : batch) core_->on_udp(d.from, d.data, now);
    }
    batching_ = false;
    // Whole super-frames go to the bridge (and datagrams relayed or answered leave) per burst.
    device_->flush();
    udp_out_->flush();
    after_burst_();
    read_udp();
  });
}

std::string DataplaneIoAdapter::describe_device() const {
  return device_ ? device_->describe() : "";
}

uint64_t DataplaneIoAdapter::device_write_drops() const {
  return device_ ? device_->write_drops() : 0;
}

void DataplaneIoAdapter::flush_device() {
  if (device_) device_->flush();
}

void DataplaneIoAdapter::send_udp(const UdpEndpoint& to, ByteView datagram) {
  // The segments of one super-frame leave in one UDP GSO send: send_udp queues them, and the
  // end of a burst (or a datagram that cannot join the run) sends them.
  udp_out_->send(to, datagram);
  if (!batching_) udp_out_->flush();
}

void DataplaneIoAdapter::send_fallback(PeerName neighbor, ByteView batch) {
  fallback_(neighbor, batch);
}

void DataplaneIoAdapter::inject(ByteView vnet, ByteView frame) {
  device_->write(vnet, frame);
}

}  // namespace weft
