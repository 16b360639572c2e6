#include "router/os/pcap_device.h"

#include <pcap/pcap.h>
#include <unistd.h>

#include <stdexcept>

#include "common/run_program.h"
#include "router/dataplane/frame_batch.h"
#include "router/dataplane/gso.h"
#include "router/os/tap_device.h"

namespace weft {

namespace {
const uint8_t kZeroVnet[10] = {};
}

PcapDevice::PcapDevice(boost::asio::io_context& io, const std::string& bridge, int mtu)
    : capture_dev_("weft-pcap"), bridge_dev_("weft-pcap-br"), sd_(io) {
  ensure_bridge(bridge, mtu);
  if (!run_program({"ip", "link", "show", capture_dev_}).ok())
    run_or_throw({"ip", "link", "add", capture_dev_, "type", "veth", "peer", "name", bridge_dev_});
  for (const std::string& d : {capture_dev_, bridge_dev_}) {
    disable_ipv6_autoconf(d);
    run_or_throw({"ip", "link", "set", d, "mtu", std::to_string(kCapturePortMtu), "up"});
  }
  run_or_throw({"ip", "link", "set", bridge_dev_, "master", bridge});
  // Software segmentation and checksums before frames reach the capture end (see header).
  for (const std::string& d : {bridge_dev_, capture_dev_})
    run_or_throw({"ethtool", "-K", d, "tx", "off", "tso", "off", "gso", "off", "gro", "off"});

  char err[PCAP_ERRBUF_SIZE] = {};
  pcap_ = pcap_create(capture_dev_.c_str(), err);
  if (!pcap_) throw std::runtime_error(std::string("pcap: ") + err);
  pcap_set_snaplen(pcap_, 65535);
  pcap_set_promisc(pcap_, 1);
  pcap_set_immediate_mode(pcap_, 1);
  if (pcap_activate(pcap_) < 0)
    throw std::runtime_error(std::string("pcap: cannot capture on ") + capture_dev_ + ": " +
                             pcap_geterr(pcap_));
  // Only what the bridge sends us, not what we inject.
  pcap_setdirection(pcap_, PCAP_D_IN);
  if (pcap_setnonblock(pcap_, 1, err) != 0) throw std::runtime_error(std::string("pcap: ") + err);
  int fd = pcap_get_selectable_fd(pcap_);
  if (fd < 0) throw std::runtime_error("pcap: no selectable descriptor");
  sd_.assign(::dup(fd));
}

PcapDevice::~PcapDevice() {
  boost::system::error_code ec;
  sd_.close(ec);
  if (pcap_) pcap_close(pcap_);
}

void PcapDevice::start(FrameHandler handler, std::function<void()> after_batch) {
  handler_ = std::move(handler);
  after_batch_ = std::move(after_batch);
  read();
}

void PcapDevice::read() {
  sd_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                 [this](const boost::system::error_code& ec) {
                   if (ec) return;
                   pcap_dispatch(
                       pcap_, 64,
                       [](u_char* user, const pcap_pkthdr* h, const u_char* bytes) {
                         auto* self = reinterpret_cast<PcapDevice*>(user);
                         if (h->caplen != h->len) return;  // truncated: cannot forward it
                         self->handler_(ByteView(kZeroVnet, 10), ByteView(bytes, h->caplen));
                       },
                       reinterpret_cast<u_char*>(this));
                   if (after_batch_) after_batch_();
                   read();
                 });
}

void PcapDevice::write(ByteView vnet, ByteView frame) {
  // A GSO super-frame (only a peer in the whole-super-frame experiment sends those) is cut into
  // segments first: libpcap injects what the wire could carry.
  if (vnet.size() == kVnetHdrLen && (vnet[1] & 0x7f) != VnetHdr::kGsoNone) {
    if (!segment_frame(vnet, frame, segment_buf_,
                       [this](ByteView sv, ByteView sf) { write(sv, sf); }))
      ++write_drops_;
    return;
  }
  // Frames from a TAP peer may leave the checksum to the receiver: compute it here.
  out_.assign(frame.begin(), frame.end());
  if (!complete_checksum(vnet, out_.data(), out_.size())) {
    ++write_drops_;
    return;
  }
  if (pcap_inject(pcap_, out_.data(), out_.size()) < 0) ++write_drops_;
}

std::unique_ptr<FrameDevice> open_frame_device(CaptureBackend backend, boost::asio::io_context& io,
                                               const std::string& bridge, int mtu) {
  std::unique_ptr<FrameDevice> d;
  if (backend == CaptureBackend::kPcap) {
    d = std::make_unique<PcapDevice>(io, bridge, mtu);
  } else {
    d = std::make_unique<TapDevice>(io, "weft-tap", bridge, mtu);
  }
  // Until its MTU is changed explicitly, a bridge follows its smallest port: with an overlay MTU
  // equal to the kernel's default (setting it changed nothing), the capture port alone would
  // raise it to kCapturePortMtu. Setting it again now pins it.
  ensure_bridge(bridge, mtu);
  return d;
}

}  // namespace weft
