// Test helper for the NetworkPolicy tests (not part of weft): a server and a prober that try
// many connections at once, so a matrix of hundreds of probes takes one timeout, not hundreds.
//
//   weft_npc_probe serve PORT...               TCP (accept, then close) and UDP (echo) on each
//   weft_npc_probe probe TIMEOUT_MS TARGET...  TARGET = IP:PORT/TCP|UDP; prints "TARGET ok" or
//                                              "TARGET blocked" for each, in the order given
//   weft_npc_probe flood RATE SECONDS IP:PORT  TCP connection attempts at RATE per second for
//                                              SECONDS or until SIGTERM; prints
//                                              "attempts N connected M"
//
// A TCP probe succeeds when the connection is established; a UDP probe when the echo returns.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Target {
  std::string text;
  sockaddr_in addr{};
  bool udp = false;
  int fd = -1;
  bool ok = false, done = false;
};

bool parse_target(const std::string& s, Target& t) {
  size_t colon = s.rfind(':'), slash = s.rfind('/');
  if (colon == std::string::npos || slash == std::string::npos || slash < colon) return false;
  t.text = s;
  t.addr.sin_family = AF_INET;
  t.addr.sin_port = htons(static_cast<uint16_t>(std::stoi(s.substr(colon + 1, slash - colon - 1))));
  std::string proto = s.substr(slash + 1);
  if (proto != "TCP" && proto != "UDP") return false;
  t.udp = proto == "UDP";
  return inet_pton(AF_INET, s.substr(0, colon).c_str(), &t.addr.sin_addr) == 1;
}

int serve(const std::vector<std::string>& ports) {
  std::vector<pollfd> fds;
  std::vector<bool> is_udp;
  for (const std::string& p : ports) {
    for (int type : {SOCK_STREAM, SOCK_DGRAM}) {
      int fd = socket(AF_INET, type, 0);
      int one = 1;
      setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_port = htons(static_cast<uint16_t>(std::stoi(p)));
      if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
          (type == SOCK_STREAM && listen(fd, 512) != 0)) {
        std::perror(("bind " + p).c_str());
        return 1;
      }
      fds.push_back({fd, POLLIN, 0});
      is_udp.push_back(type == SOCK_DGRAM);
    }
  }
  for (;;) {
    if (poll(fds.data(), fds.size(), -1) < 0) continue;
    for (size_t i = 0; i < fds.size(); ++i) {
      if (!(fds[i].revents & POLLIN)) continue;
      if (is_udp[i]) {
        char buf[512];
        sockaddr_in from{};
        socklen_t len = sizeof from;
        ssize_t n =
            recvfrom(fds[i].fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
        if (n > 0) sendto(fds[i].fd, buf, size_t(n), 0, reinterpret_cast<sockaddr*>(&from), len);
      } else {
        int c = accept(fds[i].fd, nullptr, nullptr);
        if (c >= 0) close(c);
      }
    }
  }
}

int probe(int timeout_ms, const std::vector<std::string>& args) {
  std::vector<Target> targets(args.size());
  for (size_t i = 0; i < args.size(); ++i) {
    if (!parse_target(args[i], targets[i])) {
      std::fprintf(stderr, "bad target %s (IP:PORT/TCP|UDP)\n", args[i].c_str());
      return 2;
    }
    Target& t = targets[i];
    t.fd = socket(AF_INET, (t.udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK, 0);
    int r = connect(t.fd, reinterpret_cast<sockaddr*>(&t.addr), sizeof t.addr);
    if (t.udp) {
      if (r != 0 || send(t.fd, "probe", 5, 0) != 5) t.done = true;
    } else if (r == 0) {
      t.ok = t.done = true;
    } else if (errno != EINPROGRESS) {
      t.done = true;
    }
  }
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    std::vector<pollfd> fds;
    std::vector<size_t> which;
    for (size_t i = 0; i < targets.size(); ++i) {
      if (targets[i].done) continue;
      fds.push_back({targets[i].fd, static_cast<short>(targets[i].udp ? POLLIN : POLLOUT), 0});
      which.push_back(i);
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (fds.empty() || left.count() <= 0) break;
    poll(fds.data(), fds.size(), static_cast<int>(left.count()));
    for (size_t k = 0; k < fds.size(); ++k) {
      if (!fds[k].revents) continue;
      Target& t = targets[which[k]];
      t.done = true;
      if (t.udp) {
        char buf[16];
        t.ok = recv(t.fd, buf, sizeof buf, 0) > 0;
      } else {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(t.fd, SOL_SOCKET, SO_ERROR, &err, &len);
        t.ok = err == 0;
      }
    }
  }
  for (Target& t : targets) {
    std::printf("%s %s\n", t.text.c_str(), t.ok ? "ok" : "blocked");
    close(t.fd);
  }
  return 0;
}

volatile std::sig_atomic_t stop_flood = 0;

int flood(int rate, int seconds, const std::string& target) {
  std::signal(SIGTERM, [](int) { stop_flood = 1; });
  Target t;
  if (!parse_target(target + "/TCP", t)) return 2;
  long attempts = 0, connected = 0;
  std::vector<int> open_fds;
  // Counts what connected among the attempts still pending (giving the newest 100 ms), then
  // lets them go.
  auto settle = [&] {
    std::vector<pollfd> p;
    for (int f : open_fds) p.push_back({f, POLLOUT, 0});
    poll(p.data(), p.size(), 100);
    for (const pollfd& x : p) {
      int err = 1;
      socklen_t len = sizeof err;
      if ((x.revents & POLLOUT) && getsockopt(x.fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 &&
          err == 0)
        ++connected;
      close(x.fd);
    }
    open_fds.clear();
  };
  auto start = Clock::now(), end = start + std::chrono::seconds(seconds);
  for (auto next = start; next < end && !stop_flood;
       next += std::chrono::microseconds(1'000'000 / rate)) {
    std::this_thread::sleep_until(next);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    ++attempts;
    if (connect(fd, reinterpret_cast<sockaddr*>(&t.addr), sizeof t.addr) == 0) ++connected;
    open_fds.push_back(fd);
    if (open_fds.size() >= 64) settle();
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  settle();
  std::printf("attempts %ld connected %ld\n", attempts, connected);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> a(argv + 1, argv + argc);
  if (a.size() >= 2 && a[0] == "serve") return serve({a.begin() + 1, a.end()});
  if (a.size() >= 2 && a[0] == "probe") return probe(std::stoi(a[1]), {a.begin() + 2, a.end()});
  if (a.size() == 4 && a[0] == "flood") return flood(std::stoi(a[1]), std::stoi(a[2]), a[3]);
  std::fprintf(stderr,
               "usage: weft_npc_probe serve PORT... | probe TIMEOUT_MS IP:PORT/PROTO... | "
               "flood RATE SECONDS IP:PORT\n");
  return 2;
}
