#include "npc/os/nflog_reader.h"

#include <fcntl.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

extern "C" {
#include <libnetfilter_log/libnetfilter_log.h>
}

namespace weft::npc {

int nflog_reader_callback(nflog_g_handle*, void*, void* nfa_v, void* self_v) {
  auto* self = static_cast<NflogReader*>(self_v);
  auto* nfa = static_cast<nflog_data*>(nfa_v);
  char* payload = nullptr;
  int len = nflog_get_payload(nfa, &payload);
  const char* prefix = nflog_get_prefix(nfa);
  if (len > 0 && self->cb_)
    (*self->cb_)(prefix ? std::string_view(prefix) : std::string_view(),
                 reinterpret_cast<const uint8_t*>(payload), size_t(len));
  return 0;
}

namespace {

int trampoline(nflog_g_handle* gh, nfgenmsg*, nflog_data* nfa, void* data) {
  return nflog_reader_callback(gh, nullptr, nfa, data);
}

}  // namespace

NflogReader::NflogReader(int group, unsigned copy_bytes) {
  h_ = nflog_open();
  if (!h_) throw std::runtime_error(std::string("cannot open NFLOG: ") + std::strerror(errno));
  // Older kernels want the protocol family (re)bound; errors here are harmless on new ones.
  nflog_unbind_pf(h_, AF_INET);
  nflog_bind_pf(h_, AF_INET);
  gh_ = nflog_bind_group(h_, uint16_t(group));
  if (!gh_) {
    int e = errno;
    nflog_close(h_);
    throw std::runtime_error("cannot bind NFLOG group " + std::to_string(group) + ": " +
                             std::strerror(e) + " (is another reader bound to it?)");
  }
  nflog_set_mode(gh_, NFULNL_COPY_PACKET, copy_bytes);
  nflog_callback_register(gh_, &trampoline, this);
  int fd = nflog_fd(h_);
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

NflogReader::~NflogReader() {
  if (gh_) nflog_unbind_group(gh_);
  if (h_) nflog_close(h_);
}

int NflogReader::fd() const {
  return nflog_fd(h_);
}

size_t NflogReader::read_pending(const Callback& on_packet) {
  std::vector<char> buf(65536);
  size_t n = 0;
  cb_ = &on_packet;
  for (;;) {
    ssize_t got = recv(fd(), buf.data(), buf.size(), 0);
    if (got <= 0) break;  // EAGAIN, or ENOBUFS when the kernel dropped some: keep going next time
    nflog_handle_packet(h_, buf.data(), int(got));
    ++n;
  }
  cb_ = nullptr;
  return n;
}

}  // namespace weft::npc
