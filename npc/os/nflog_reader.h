#pragma once
// Blocked packets from the kernel: an NFLOG group (planner.h's WEFT-DENY-* chains log to it)
// read through libnetfilter_log. The event loop polls fd(); read_pending() hands each packet's
// prefix and IPv4 bytes to the callback (parse_blocked_packet and BlockedFlowLog take it from
// there). Needs CAP_NET_ADMIN.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string_view>

struct nflog_handle;
struct nflog_g_handle;

namespace weft::npc {

class NflogReader {
 public:
  using Callback = std::function<void(std::string_view prefix, const uint8_t* packet, size_t size)>;

  // Binds `group` (throws std::runtime_error with the reason when it cannot). Packets are copied
  // up to `copy_bytes` (headers are all that is needed).
  explicit NflogReader(int group, unsigned copy_bytes = 128);
  ~NflogReader();
  NflogReader(const NflogReader&) = delete;
  NflogReader& operator=(const NflogReader&) = delete;

  int fd() const;
  // Reads every datagram waiting on fd() without blocking; returns the packets delivered.
  size_t read_pending(const Callback& on_packet);

 private:
  nflog_handle* h_ = nullptr;
  nflog_g_handle* gh_ = nullptr;
  const Callback* cb_ = nullptr;
  friend int nflog_reader_callback(nflog_g_handle*, void*, void*, void*);
};

}  // namespace weft::npc
