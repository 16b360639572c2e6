#include "router/os/control_listener.h"

#include <spdlog/spdlog.h>

#include <boost/asio/ip/v6_only.hpp>
#include <stdexcept>

namespace weft {

namespace asio = boost::asio;
using asio::ip::tcp;

ControlListener::ControlListener(asio::io_context& io, std::function<int64_t()> now_ms,
                                 OnAccepted on_accepted, ControlAdmissionLimits limits)
    : io_(io),
      acceptor_(io),
      pause_(io),
      now_ms_(std::move(now_ms)),
      on_accepted_(std::move(on_accepted)),
      admission_(limits) {}

void ControlListener::listen(uint16_t port) {
  tcp::endpoint ep(tcp::v6(), port);
  boost::system::error_code ec;
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::ip::v6_only(false), ec);
  if (ec) {  // no IPv6 in this namespace: IPv4 only
    acceptor_ = tcp::acceptor(io_);
    ep = tcp::endpoint(tcp::v4(), port);
    acceptor_.open(ep.protocol());
  }
  acceptor_.set_option(asio::socket_base::reuse_address(true));
  acceptor_.bind(ep, ec);
  if (ec)
    throw std::runtime_error("cannot listen on TCP port " + std::to_string(port) + ": " +
                             ec.message() + " (is another weft router running? use --port)");
  acceptor_.listen();
}

void ControlListener::start() {
  accept();
}

void ControlListener::finished(ConnId id) {
  auto it = handshaking_.find(id);
  if (it == handshaking_.end()) return;
  admission_.finished(it->second);
  handshaking_.erase(it);
}

void ControlListener::accept() {
  acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket sock) {
    if (ec == asio::error::operation_aborted) return;
    if (ec) {
      int e = ec.value();
      bool out_of_resources = ec.category() == boost::system::system_category() &&
                              (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM);
      int64_t pause = admission_.accept_failed(out_of_resources);
      if (auto suppressed = error_log_.admit(now_ms_()))
        spdlog::warn("control port: accept failed: {}{}{}", ec.message(),
                     pause > 0 ? ", pausing " + std::to_string(pause) + " ms" : "",
                     LogLimiter::suffix(*suppressed));
      if (pause == 0) return accept();
      pause_.expires_after(std::chrono::milliseconds(pause));
      pause_.async_wait([this](const boost::system::error_code& e2) {
        if (!e2) accept();
      });
      return;
    }
    admission_.accept_succeeded();
    boost::system::error_code e2;
    auto rep = sock.remote_endpoint(e2);
    std::string source, address;
    if (!e2) {
      auto a = rep.address();
      if (a.is_v6() && a.to_v6().is_v4_mapped())
        a = asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
      source = a.to_string();
      address = a.is_v6() ? "[" + source + "]:" + std::to_string(rep.port())
                          : source + ":" + std::to_string(rep.port());
    }
    ControlAdmission::Verdict v = admission_.admit(source);
    if (v != ControlAdmission::Verdict::kAdmit) {
      sock.close(e2);
      if (auto suppressed = refused_log_.admit(now_ms_()))
        spdlog::warn("control port: refused a connection from {}: {} handshakes in progress{}{}",
                     source.empty() ? "an unknown address" : source,
                     v == ControlAdmission::Verdict::kTooManyFromSource
                         ? std::to_string(admission_.limits().max_handshaking_per_source) +
                               " from that address"
                         : std::to_string(admission_.limits().max_handshaking),
                     " (counted in /metrics as weft_control_refused_total)",
                     LogLimiter::suffix(*suppressed));
    } else {
      ConnId id = on_accepted_(std::move(sock), address);
      handshaking_[id] = source;
    }
    accept();
  });
}

std::string ControlListener::metrics_text() const {
  const ControlAdmissionCounters& c = admission_.counters();
  std::string m;
  auto metric = [&](const char* name, const char* type, const char* help, uint64_t v) {
    m += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" +
         name + " " + std::to_string(v) + "\n";
  };
  metric("weft_control_accepted_total", "counter",
         "Inbound control connections admitted to a handshake.", c.accepted);
  m += "# HELP weft_control_refused_total Inbound control connections closed at once because too "
       "many handshakes were in progress, by limit.\n"
       "# TYPE weft_control_refused_total counter\n"
       "weft_control_refused_total{reason=\"handshakes\"} " +
       std::to_string(c.refused_total_limit) +
       "\n"
       "weft_control_refused_total{reason=\"per_source\"} " +
       std::to_string(c.refused_per_source_limit) + "\n";
  metric("weft_control_accept_errors_total", "counter",
         "Failed accepts on the control port (out of descriptors...).", c.accept_errors);
  metric("weft_control_handshaking", "gauge", "Inbound control connections in their handshake.",
         admission_.handshaking());
  metric("weft_control_log_lines_suppressed_total", "counter",
         "Control-port log lines not written because of their rate limit.",
         refused_log_.suppressed_total() + error_log_.suppressed_total());
  return m;
}

}  // namespace weft
