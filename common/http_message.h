#pragma once
// The few pieces of HTTP/1.1 that weft's local API needs, as pure functions so both ends (the
// router's server, the CLI's client) and the unit tests share one implementation.
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace weft {

struct HttpResult {
  int status = 0;
  std::string content_type;
  std::string body;
};

struct HttpParseError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Decodes %XX escapes (and '+' as a space when `plus_as_space`, as in query strings). Throws
// HttpParseError on a truncated or non-hex escape.
std::string percent_decode(std::string_view s, bool plus_as_space);
// Escapes everything but RFC 3986 unreserved characters.
std::string percent_encode(std::string_view s);

struct RequestTarget {
  std::string path;
  std::map<std::string, std::string> query;  // a repeated key keeps its last value
};
// Splits "/a/b?x=1&y" into a decoded path and query (a key without '=' maps to "").
RequestTarget split_target(std::string_view target);

// Parses a complete response held in `buf`. Returns nullopt while more bytes are needed; `eof`
// says the peer closed, which ends a body that has neither Content-Length nor chunking. Throws
// HttpParseError on a malformed response or on `eof` before the response is complete.
std::optional<HttpResult> parse_http_response(std::string_view buf, bool eof);

}  // namespace weft
