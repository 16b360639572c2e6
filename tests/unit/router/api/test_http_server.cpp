// The API server (router/api/http_server.h) out of descriptors (issue 10: a flood of
// connections ran the control port's accept loop into EMFILE, which it then logged 1.8 million
// times in 3 s). Here the process's descriptor limit is lowered until accept() fails with
// EMFILE while clients wait: the failures are counted, retried with a pause (not spun on),
// logged through a LogLimiter (a few lines, not one per failure), and once descriptors are
// available again the waiting clients are answered.
#include <doctest/doctest.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "router/api/http_server.h"

namespace fs = std::filesystem;

namespace {

// The descriptor number the next open would get: every number below it is in use.
int lowest_free_descriptor() {
  int fd = ::dup(0);
  ::close(fd);
  return fd;
}

}  // namespace

TEST_CASE(
    "API server out of descriptors: accept failures counted, backed off, logged a few times") {
  std::string tmpl = (fs::temp_directory_path() / "weft-http-server-XXXXXX").string();
  std::string dir = ::mkdtemp(tmpl.data());
  std::string path = dir + "/api.sock";
  boost::asio::io_context io;
  weft::HttpServer server(io, [](const weft::HttpRequest&, weft::HttpResponder respond) {
    respond({200, "text/plain", "ok"});
  });
  server.listen_unix(path);
  auto sink = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(1000);
  spdlog::default_logger()->sinks().push_back(sink);

  // The clients' sockets exist before the limit drops (connect() needs no new descriptor).
  std::vector<int> clients;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(::socket(AF_UNIX, SOCK_STREAM, 0));
    timeval t{2, 0};  // a read below never hangs the suite
    ::setsockopt(clients.back(), SOL_SOCKET, SO_RCVTIMEO, &t, sizeof t);
  }
  rlimit saved{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &saved) == 0);
  rlimit low = saved;
  low.rlim_cur = rlim_t(lowest_free_descriptor());  // accept() gets EMFILE
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &low) == 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
  for (int c : clients) {
    REQUIRE(::connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    const char req[] = "GET /x HTTP/1.1\r\nHost: weft\r\n\r\n";
    REQUIRE(::write(c, req, sizeof req - 1) == ssize_t(sizeof req - 1));
  }
  io.run_for(std::chrono::milliseconds(1500));
  uint64_t failures = server.counters().accept_failures;
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &saved) == 0);
  // Retried every 100 ms, not in a loop: about 15 in 1.5 s.
  CHECK(failures >= 5);
  CHECK(failures <= 30);
  int lines = 0;
  for (const std::string& l : sink->last_formatted())
    lines += l.find("API accept failed") != std::string::npos;
  CHECK(lines >= 1);
  CHECK(lines <= 6);  // LogLimiter's burst (5), then one per 10 s
  CHECK(server.metrics_text().find("weft_api_accept_failures_total " + std::to_string(failures)) !=
        std::string::npos);

  // Descriptors again: the waiting clients are served.
  io.run_for(std::chrono::milliseconds(500));
  for (int c : clients) {
    char buf[512];
    ssize_t n = ::read(c, buf, sizeof buf);
    REQUIRE(n > 0);
    CHECK(std::string(buf, size_t(n)).starts_with("HTTP/1.1 200"));
    ::close(c);
  }
  auto& sinks = spdlog::default_logger()->sinks();
  sinks.erase(std::find(sinks.begin(), sinks.end(), sink));
  server.stop();
  fs::remove_all(dir);
}
