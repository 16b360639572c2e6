#include <doctest/doctest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>

#include "common/http_client.h"

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// A one-shot server on a unix socket: accepts one connection, reads the request head (and a
// body of `expect_body` bytes), then writes `reply` (or nothing) and closes.
struct OneShotServer {
  OneShotServer(std::string reply_text, bool answer = true) : reply(std::move(reply_text)) {
    std::string tmpl = (fs::temp_directory_path() / "weft-http-XXXXXX").string();
    dir = ::mkdtemp(tmpl.data());
    path = dir + "/api.sock";
    fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strcpy(a.sun_path, path.c_str());
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(fd, 4) == 0);
    thread = std::thread([this, answer] {
      int c = ::accept(fd, nullptr, nullptr);
      if (c < 0) return;
      char buf[4096];
      while (request.find("\r\n\r\n") == std::string::npos ||
             request.size() < request.find("\r\n\r\n") + 4 + body_len()) {
        ssize_t n = ::read(c, buf, sizeof buf);
        if (n <= 0) break;
        request.append(buf, static_cast<size_t>(n));
      }
      if (answer) {
        if (::write(c, reply.data(), reply.size()) < 0) {
        }
      } else {
        while (!done) std::this_thread::sleep_for(10ms);
      }
      ::close(c);
    });
  }
  ~OneShotServer() {
    finish();
    ::close(fd);
    fs::remove_all(dir);
  }
  // Waits for the server thread, after which `request` may be read.
  void finish() {
    done = true;
    ::shutdown(fd, SHUT_RDWR);
    if (thread.joinable()) thread.join();
  }
  size_t body_len() const {
    auto p = request.find("Content-Length: ");
    return p == std::string::npos ? 0 : std::stoul(request.substr(p + 16));
  }

  std::string reply, dir, path, request;
  int fd = -1;
  std::atomic<bool> done{false};
  std::thread thread;
};

}  // namespace

TEST_CASE("http_request sends the request and returns status and body") {
  OneShotServer s(
      "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
      "Content-Length: 11\r\n\r\n{\"ok\":true}");
  auto r = weft::http_request(s.path, "POST", "/connect", "{\"peers\":[]}");
  CHECK(r.status == 201);
  CHECK(r.body == "{\"ok\":true}");
  CHECK(r.content_type == "application/json");
  s.finish();
  CHECK(s.request.rfind("POST /connect HTTP/1.1\r\n", 0) == 0);
  CHECK(s.request.find("Content-Length: 12\r\n") != std::string::npos);
  CHECK(s.request.find("Connection: close\r\n") != std::string::npos);
  CHECK(s.request.substr(s.request.size() - 12) == "{\"peers\":[]}");
}

TEST_CASE("http_request says clearly that nothing listens at the path") {
  std::string path = (fs::temp_directory_path() / "weft-no-such-dir/api.sock").string();
  try {
    weft::http_request(path, "GET", "/status");
    FAIL("expected HttpConnectError");
  } catch (const weft::HttpConnectError& e) {
    CHECK(e.code == ENOENT);
    CHECK(std::string(e.what()).rfind("cannot reach the weft router at " + path + ": ", 0) == 0);
  }
}

TEST_CASE("http_request times out on a router that never answers") {
  OneShotServer s("", false);
  auto start = std::chrono::steady_clock::now();
  CHECK_THROWS_AS(weft::http_request(s.path, "GET", "/status", "", 200ms), weft::HttpTimeoutError);
  CHECK(std::chrono::steady_clock::now() - start < 2s);
}

TEST_CASE("http_request rejects a garbled answer") {
  OneShotServer s("SSH-2.0-OpenSSH\r\n\r\n");
  CHECK_THROWS_AS(weft::http_request(s.path, "GET", "/status"), std::runtime_error);
}
