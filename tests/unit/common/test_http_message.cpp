#include <doctest/doctest.h>

#include "common/http_message.h"

using weft::HttpParseError;
using weft::parse_http_response;
using weft::percent_decode;
using weft::percent_encode;
using weft::split_target;

TEST_CASE("split_target decodes the path and the query") {
  auto t = split_target("/a%20b/c?x=1&name=h%3A1+2&flag&&y=");
  CHECK(t.path == "/a b/c");
  CHECK(t.query.size() == 4);
  CHECK(t.query["x"] == "1");
  CHECK(t.query["name"] == "h:1 2");
  CHECK(t.query["flag"] == "");
  CHECK(t.query["y"] == "");
  CHECK(split_target("/status").query.empty());
  CHECK(split_target("/p+q").path == "/p+q");  // '+' is literal in a path
}

TEST_CASE("percent_decode rejects broken escapes") {
  CHECK_THROWS_AS(percent_decode("%", false), HttpParseError);
  CHECK_THROWS_AS(percent_decode("ab%2", false), HttpParseError);
  CHECK_THROWS_AS(percent_decode("%zz", false), HttpParseError);
  CHECK(percent_decode("%41%62", false) == "Ab");
}

TEST_CASE("percent_encode round-trips") {
  std::string s = "a b/c:d?e&f=g~h";
  CHECK(percent_encode("ok-._~") == "ok-._~");
  CHECK(percent_decode(percent_encode(s), false) == s);
}

TEST_CASE("parse_http_response with Content-Length waits for the whole body") {
  std::string r =
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n{\"a\":1}";
  for (size_t cut = 0; cut < r.size(); ++cut) {
    CAPTURE(cut);
    CHECK_FALSE(parse_http_response(r.substr(0, cut), false).has_value());
  }
  auto res = parse_http_response(r, false);
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->content_type == "application/json");
  CHECK(res->body == "{\"a\":1}");
  CHECK_THROWS_AS(parse_http_response(r.substr(0, r.size() - 1), true), HttpParseError);
}

TEST_CASE("parse_http_response handles chunked bodies and close-delimited bodies") {
  std::string chunked =
      "HTTP/1.1 500 Internal Server Error\r\ntransfer-encoding: chunked\r\n\r\n"
      "3\r\nabc\r\n4;ext=1\r\ndefg\r\n0\r\nX-Trailer: 1\r\n\r\n";
  auto res = parse_http_response(chunked, false);
  REQUIRE(res);
  CHECK(res->status == 500);
  CHECK(res->body == "abcdefg");
  CHECK_FALSE(parse_http_response(chunked.substr(0, chunked.size() - 2), false));

  std::string until_close = "HTTP/1.0 404 Not Found\r\n\r\nno such thing";
  CHECK_FALSE(parse_http_response(until_close, false));
  auto r2 = parse_http_response(until_close, true);
  REQUIRE(r2);
  CHECK(r2->status == 404);
  CHECK(r2->body == "no such thing");

  auto r3 = parse_http_response("HTTP/1.1 204 No Content\r\n\r\n", false);
  REQUIRE(r3);
  CHECK(r3->status == 204);
}

TEST_CASE("parse_http_response rejects malformed responses") {
  for (const char* bad :
       {"HTTP/1.1 2000 OK\r\n\r\n", "SMTP 220 hello\r\n\r\n", "HTTP/1.1 abc OK\r\n\r\n",
        "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"}) {
    CAPTURE(bad);
    CHECK_THROWS_AS(parse_http_response(bad, true), HttpParseError);
  }
  CHECK_THROWS_AS(parse_http_response("HTTP/1.1 200 OK\r\n", true), HttpParseError);
}
