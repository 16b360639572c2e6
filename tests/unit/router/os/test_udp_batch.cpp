// UdpGsoSender and UdpGroReceiver on loopback sockets: a run of equal-size datagrams (plus a
// shorter last one) sent in one GSO send, and a datagram of another size, all arrive whole, in
// order, from the sender's address, however the kernel bundles them; and the run really left in a
// GSO send and arrived as a GRO bundle (the kernels weft supports have both).
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "router/os/udp_batch.h"

using namespace weft;

namespace {

struct LoopbackSocket {
  int fd = -1;
  uint16_t port = 0;
  LoopbackSocket() {
    fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    port = ntohs(a.sin_port);
  }
  ~LoopbackSocket() { ::close(fd); }
  UdpEndpoint endpoint() const { return *parse_udp_endpoint("127.0.0.1", port); }
};

Bytes datagram(size_t n, uint8_t tag) {
  Bytes d(n);
  for (size_t i = 0; i < n; ++i) d[i] = uint8_t(tag + i * 3);
  return d;
}

}  // namespace

TEST_CASE("UDP GSO runs and GRO bundles round-trip whole and in order on loopback") {
  LoopbackSocket a, b;
  UdpGsoSender tx(a.fd);
  UdpGroReceiver rx(b.fd);
  std::vector<Bytes> sent;
  for (uint8_t i = 0; i < 10; ++i) sent.push_back(datagram(1000, i));
  sent.push_back(datagram(500, 10));   // the shorter last one of the run
  sent.push_back(datagram(1200, 11));  // larger: starts a new run
  for (const Bytes& d : sent) tx.send(b.endpoint(), d);
  tx.flush();
  CHECK(tx.send_errors() == 0);
  CHECK(tx.gso_sends() >= 1);  // the run of 11 went out in one GSO send, not one by one

  std::vector<Bytes> got;
  for (int tries = 0; tries < 50 && got.size() < sent.size(); ++tries) {
    pollfd p{b.fd, POLLIN, 0};
    ::poll(&p, 1, 200);  // a bound on waiting, not a timing assertion
    for (const UdpGroReceiver::Datagram& d : rx.receive()) {
      CHECK(d.from == a.endpoint());
      got.emplace_back(d.data.begin(), d.data.end());
    }
  }
  CHECK(got == sent);
  CHECK(rx.gro());
  CHECK(rx.gro_bundles() >= 1);  // loopback keeps the GSO run whole for a UDP_GRO socket
}
