#include "router/os/control_connection.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

namespace weft {

namespace asio = boost::asio;
using asio::ip::tcp;

ControlConnection::ControlConnection(tcp::socket socket, ConnId id, ControlChannel::Config cfg,
                                     Events& events)
    : socket_(std::move(socket)), id_(id), channel_(std::move(cfg)), events_(events) {}

std::shared_ptr<ControlConnection> ControlConnection::dial(asio::io_context& io, ConnId id,
                                                           const std::string& address,
                                                           ControlChannel::Config cfg,
                                                           Events& events) {
  auto conn = std::make_shared<ControlConnection>(tcp::socket(io), id, std::move(cfg), events);
  std::string host = address, port = "6783";
  if (!address.empty() && address[0] == '[') {
    auto e = address.find(']');
    host = address.substr(1, e - 1);
    if (e + 2 <= address.size()) port = address.substr(e + 2);
  } else if (auto c = address.rfind(':'); c != std::string::npos) {
    host = address.substr(0, c);
    port = address.substr(c + 1);
  }
  auto resolver = std::make_shared<tcp::resolver>(io);
  conn->resolver_ = resolver;
  resolver->async_resolve(
      host, port,
      [conn, resolver](const boost::system::error_code& ec, tcp::resolver::results_type r) {
        conn->resolver_.reset();
        if (conn->done_) return;
        if (ec) return conn->fail(ChannelFailure::kNone, "cannot resolve: " + ec.message());
        asio::async_connect(conn->socket_, r,
                            [conn](const boost::system::error_code& ec2, const tcp::endpoint&) {
                              if (conn->done_) return;
                              if (ec2) return conn->fail(ChannelFailure::kNone, ec2.message());
                              conn->start();
                            });
      });
  return conn;
}

void ControlConnection::start() {
  connected_ = true;
  boost::system::error_code ec;
  socket_.set_option(tcp::no_delay(true), ec);
  socket_.set_option(asio::socket_base::keep_alive(true), ec);
  events_.connection_handshaking(id_);
  if (done_) return;
  flush();
  read();
}

void ControlConnection::read() {
  auto self = shared_from_this();
  socket_.async_read_some(
      asio::buffer(buf_), [self](const boost::system::error_code& ec, size_t n) {
        if (self->done_) return;
        if (ec) {
          std::string why =
              ec == asio::error::eof ? "connection closed by the other side" : ec.message();
          if (self->channel_.failed()) why = self->channel_.failure_detail();
          return self->fail(self->channel_.failure(), why);
        }
        self->channel_.receive(ByteView(self->buf_.data(), n));
        self->after_input();
        if (!self->done_) self->read();
      });
}

void ControlConnection::after_input() {
  flush();
  if (channel_.failed()) return fail(channel_.failure(), channel_.failure_detail());
  if (channel_.established() && !established_reported_) {
    established_reported_ = true;
    buf_.resize(kEstablishedReadBytes);  // read() is not pending here: resizing is safe
    events_.connection_established(id_, *channel_.remote());
  }
  while (!done_ && !closing_) {
    auto m = channel_.pop_message();
    if (!m) break;
    events_.connection_message(id_, *m);
  }
}

void ControlConnection::send(Bytes message) {
  if (done_ || closing_) return;
  channel_.send(message);
  flush();
}

void ControlConnection::flush() {
  if (channel_.has_output()) out_.push_back(channel_.take_output());
  if (writing_ || out_.empty()) {
    if (!writing_ && closing_) {
      boost::system::error_code ec;
      socket_.shutdown(tcp::socket::shutdown_both, ec);
      socket_.close(ec);
    }
    return;
  }
  writing_ = true;
  auto self = shared_from_this();
  asio::async_write(socket_, asio::buffer(out_.front()),
                    [self](const boost::system::error_code& ec, size_t) {
                      self->writing_ = false;
                      self->out_.pop_front();
                      if (ec) {
                        if (!self->done_) self->fail(ChannelFailure::kNone, ec.message());
                        return;
                      }
                      self->flush();
                    });
}

void ControlConnection::fail(ChannelFailure f, const std::string& why) {
  if (done_) return;
  done_ = true;
  if (!closing_) events_.connection_closed(id_, f, why);
  closing_ = true;
  // Let a queued reject frame go out before closing.
  if (channel_.has_output()) out_.push_back(channel_.take_output());
  if (!writing_) {
    if (out_.empty()) {
      boost::system::error_code ec;
      socket_.shutdown(tcp::socket::shutdown_both, ec);
      socket_.close(ec);
    } else {
      flush();
    }
  }
}

void ControlConnection::close() {
  if (closing_) return;
  closing_ = true;
  done_ = true;
  if (!connected_) {
    if (resolver_) resolver_->cancel();
    boost::system::error_code ec;
    socket_.close(ec);  // the pending connect completes with operation_aborted
    return;
  }
  flush();
}

}  // namespace weft
