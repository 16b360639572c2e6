#include "common/http_message.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace weft {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Parses a non-negative integer in `base`, rejecting anything else (signs, spaces, overflow).
std::optional<size_t> parse_size(std::string_view s, int base) {
  size_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

// Decodes a chunked body starting at `pos`. Returns nullopt while incomplete. Trailers are
// skipped.
std::optional<std::string> decode_chunked(std::string_view buf, size_t pos) {
  std::string body;
  for (;;) {
    size_t eol = buf.find("\r\n", pos);
    if (eol == std::string_view::npos) return std::nullopt;
    std::string_view size_line = buf.substr(pos, eol - pos);
    size_line = trim(size_line.substr(0, size_line.find(';')));  // drop chunk extensions
    auto size = parse_size(size_line, 16);
    if (!size) throw HttpParseError("malformed chunk size in HTTP response");
    pos = eol + 2;
    if (*size == 0) {
      // Trailer section: header lines until an empty line.
      for (;;) {
        size_t end = buf.find("\r\n", pos);
        if (end == std::string_view::npos) return std::nullopt;
        if (end == pos) return body;
        pos = end + 2;
      }
    }
    if (buf.size() - pos < *size + 2) return std::nullopt;
    body.append(buf.substr(pos, *size));
    pos += *size;
    if (buf.substr(pos, 2) != "\r\n") throw HttpParseError("malformed chunk in HTTP response");
    pos += 2;
  }
}

}  // namespace

std::string percent_decode(std::string_view s, bool plus_as_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size()) throw HttpParseError("truncated %-escape in URL");
      int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
      if (hi < 0 || lo < 0) throw HttpParseError("invalid %-escape in URL");
      out.push_back(static_cast<char>(hi << 4 | lo));
      i += 2;
    } else if (c == '+' && plus_as_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string percent_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

RequestTarget split_target(std::string_view target) {
  RequestTarget t;
  size_t q = target.find('?');
  t.path = percent_decode(target.substr(0, q), false);
  if (q == std::string_view::npos) return t;
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    size_t amp = rest.find('&');
    std::string_view item = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (item.empty()) continue;
    size_t eq = item.find('=');
    std::string key = percent_decode(item.substr(0, eq), true);
    std::string value =
        eq == std::string_view::npos ? std::string() : percent_decode(item.substr(eq + 1), true);
    t.query[std::move(key)] = std::move(value);
  }
  return t;
}

std::optional<HttpResult> parse_http_response(std::string_view buf, bool eof) {
  size_t head_end = buf.find("\r\n\r\n");
  if (head_end == std::string_view::npos) {
    if (eof) throw HttpParseError("connection closed before a complete HTTP response arrived");
    return std::nullopt;
  }
  std::string_view head = buf.substr(0, head_end);
  size_t line_end = head.find("\r\n");
  std::string_view status_line = head.substr(0, line_end);
  // "HTTP/1.1 200 OK": the reason phrase is optional and ignored.
  if (status_line.substr(0, 5) != "HTTP/" || status_line.size() < 12 || status_line[8] != ' ') {
    throw HttpParseError("malformed HTTP status line");
  }
  auto code = parse_size(status_line.substr(9, 3), 10);
  if (!code || *code < 100 || *code > 599 || (status_line.size() > 12 && status_line[12] != ' ')) {
    throw HttpParseError("malformed HTTP status code");
  }
  HttpResult r;
  r.status = static_cast<int>(*code);

  std::optional<size_t> content_length;
  bool chunked = false;
  std::string_view headers =
      line_end == std::string_view::npos ? std::string_view() : head.substr(line_end + 2);
  while (!headers.empty()) {
    size_t eol = headers.find("\r\n");
    std::string_view line = headers.substr(0, eol);
    headers = eol == std::string_view::npos ? std::string_view() : headers.substr(eol + 2);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) throw HttpParseError("malformed HTTP header line");
    std::string name = lower(trim(line.substr(0, colon)));
    std::string_view value = trim(line.substr(colon + 1));
    if (name == "content-length") {
      content_length = parse_size(value, 10);
      if (!content_length) throw HttpParseError("malformed Content-Length in HTTP response");
    } else if (name == "transfer-encoding") {
      chunked = lower(value).find("chunked") != std::string::npos;
    } else if (name == "content-type") {
      r.content_type = std::string(value);
    }
  }

  size_t body_start = head_end + 4;
  // 1xx, 204 and 304 responses never carry a body, whatever the headers say.
  if (r.status < 200 || r.status == 204 || r.status == 304) return r;
  if (chunked) {
    auto body = decode_chunked(buf, body_start);
    if (!body) {
      if (eof) throw HttpParseError("connection closed in the middle of an HTTP response body");
      return std::nullopt;
    }
    r.body = std::move(*body);
    return r;
  }
  if (content_length) {
    if (buf.size() - body_start < *content_length) {
      if (eof) throw HttpParseError("connection closed in the middle of an HTTP response body");
      return std::nullopt;
    }
    r.body = std::string(buf.substr(body_start, *content_length));
    return r;
  }
  if (!eof) return std::nullopt;
  r.body = std::string(buf.substr(body_start));
  return r;
}

}  // namespace weft
