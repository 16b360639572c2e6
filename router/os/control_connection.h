#pragma once
// One control connection's socket: TCP via Asio, bytes through a ControlChannel (handshake and
// encryption), events to a ControlConnection::Events sink. Thin: every decision is the mesh
// core's; this only moves bytes and reports.
// clang-format off: the regrouping would move it after the Boost headers
#include <utility>  // Boost 1.74's asio headers need it first with GCC 12
// clang-format on

#include <boost/asio/ip/tcp.hpp>
#include <deque>
#include <memory>
#include <string>

#include "router/crypto/control_channel.h"
#include "router/mesh/mesh_core.h"

namespace weft {

class ControlConnection : public std::enable_shared_from_this<ControlConnection> {
 public:
  class Events {
   public:
    virtual ~Events() = default;
    virtual void connection_handshaking(ConnId id) = 0;
    virtual void connection_established(ConnId id, const PeerHello& remote) = 0;
    virtual void connection_message(ConnId id, ByteView message) = 0;
    virtual void connection_closed(ConnId id, ChannelFailure failure, const std::string& why) = 0;
  };

  ControlConnection(boost::asio::ip::tcp::socket socket, ConnId id, ControlChannel::Config cfg,
                    Events& events);
  // Outbound: resolve and connect first.
  static std::shared_ptr<ControlConnection> dial(boost::asio::io_context& io, ConnId id,
                                                 const std::string& address,
                                                 ControlChannel::Config cfg, Events& events);
  void start();
  void send(Bytes message);
  // Flushes what is queued, then closes; reports nothing more. A dial still resolving or
  // connecting is cancelled and its socket closed at once (not left to the kernel's SYN retries).
  void close();
  const ControlChannel& channel() const { return channel_; }

 private:
  void read();
  void flush();
  void fail(ChannelFailure f, const std::string& why);
  void after_input();

  boost::asio::ip::tcp::socket socket_;
  ConnId id_;
  ControlChannel channel_;
  Events& events_;
  std::deque<Bytes> out_;
  bool writing_ = false;
  bool closing_ = false;  // close requested: no more events
  bool done_ = false;     // reported or closed
  bool established_reported_ = false;
  bool connected_ = false;  // start() ran: the socket is connected
  std::shared_ptr<boost::asio::ip::tcp::resolver> resolver_;  // while an outbound dial resolves
  // Reads go through a small buffer until the peer has authenticated, then a 64 KiB one (issue
  // 10: 64 KiB per unauthenticated connection let idle connections cost 300 MB).
  static constexpr size_t kHandshakeReadBytes = 2048, kEstablishedReadBytes = 65536;
  Bytes buf_ = Bytes(kHandshakeReadBytes);
};

}  // namespace weft
