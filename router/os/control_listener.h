#pragma once
// The router's TCP listener for control connections (port 6783): opens the socket, accepts, and
// lets ControlAdmission (router/mesh/control_admission.h) decide which sockets may start a
// handshake; refused ones are closed at once, counted, and logged at a limited rate. After an
// accept error for lack of descriptors or memory it pauses (growing up to 1 s) instead of
// spinning. Thin: the limits are the core's.
// clang-format off: the regrouping would move it after the Boost headers
#include <utility>  // Boost 1.74's asio headers need it first with GCC 12
// clang-format on

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <map>
#include <string>

#include "common/log_limiter.h"
#include "router/mesh/control_admission.h"
#include "router/mesh/mesh_core.h"

namespace weft {

class ControlListener {
 public:
  // Called for each admitted socket with its "ip:port" ("[v6]:port"); returns the ConnId the
  // caller gave it, which the caller later passes to finished().
  using OnAccepted =
      std::function<ConnId(boost::asio::ip::tcp::socket, const std::string& address)>;

  ControlListener(boost::asio::io_context& io, std::function<int64_t()> now_ms,
                  OnAccepted on_accepted, ControlAdmissionLimits limits = {});

  // Listens on `port`, dual-stack when the namespace has IPv6, else IPv4. Throws
  // std::runtime_error saying what to do when the port is taken.
  void listen(uint16_t port);
  // Starts accepting (after listen()).
  void start();
  // The connection's handshake ended (established, failed, closed or timed out): its slot is
  // free. Idempotent, and a no-op for connections that were not admitted here (outbound ones).
  void finished(ConnId id);

  // Prometheus text for the counters (weft_control_*).
  std::string metrics_text() const;
  const ControlAdmission& admission() const { return admission_; }

 private:
  void accept();

  boost::asio::io_context& io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer pause_;
  std::function<int64_t()> now_ms_;
  OnAccepted on_accepted_;
  ControlAdmission admission_;
  std::map<ConnId, std::string> handshaking_;  // admitted and not finished: id -> source address
  LogLimiter refused_log_, error_log_;
};

}  // namespace weft
