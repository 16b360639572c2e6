#include "npc/watch_stream.h"

#include <algorithm>
#include <cctype>

namespace weft::npc {

namespace {

constexpr size_t kMaxHead = 64 << 10;

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

void WatchStreamDecoder::on_head(std::string_view head) {
  // "HTTP/1.1 200 OK\r\n" then headers.
  if (head.substr(0, 5) != "HTTP/" || head.find(' ') == std::string_view::npos)
    throw WatchStreamError("the router's answer is not HTTP");
  std::string_view rest = head.substr(head.find(' ') + 1);
  status_ = 0;
  for (size_t i = 0; i < 3 && i < rest.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(rest[i])))
      throw WatchStreamError("the router's answer has no status code");
    status_ = status_ * 10 + (rest[i] - '0');
  }
  bool chunked = lower(head).find("\r\ntransfer-encoding: chunked") != std::string::npos;
  phase_ = chunked ? Phase::kChunkSize : Phase::kIdentity;
}

void WatchStreamDecoder::body_bytes(std::string_view data, std::vector<std::string>& lines) {
  while (!data.empty()) {
    size_t nl = data.find('\n');
    size_t take = nl == std::string_view::npos ? data.size() : nl;
    if (line_.size() + take > max_line_)
      throw WatchStreamError("a line of the watch stream is over " + std::to_string(max_line_) +
                             " bytes");
    line_.append(data.substr(0, take));
    if (nl == std::string_view::npos) return;
    if (!line_.empty() && line_.back() == '\r') line_.pop_back();
    if (!line_.empty()) lines.push_back(std::move(line_));
    line_.clear();
    data.remove_prefix(nl + 1);
  }
}

void WatchStreamDecoder::feed(std::string_view bytes, std::vector<std::string>& lines) {
  pending_.append(bytes);
  size_t pos = 0;
  auto finish = [&] { pending_.erase(0, pos); };
  for (;;) {
    std::string_view buf = std::string_view(pending_).substr(pos);
    switch (phase_) {
      case Phase::kHead: {
        size_t end = buf.find("\r\n\r\n");
        if (end == std::string_view::npos) {
          if (buf.size() > kMaxHead) throw WatchStreamError("the router's answer head is too long");
          return finish();
        }
        on_head(buf.substr(0, end + 2));
        pos += end + 4;
        if (status_ != 200) {
          std::string body(std::string_view(pending_).substr(pos, 512));
          throw WatchStreamError("the router answered " + std::to_string(status_) +
                                 (body.empty() ? "" : ": " + body));
        }
        break;
      }
      case Phase::kChunkSize: {
        size_t end = buf.find("\r\n");
        if (end == std::string_view::npos) {
          if (buf.size() > 64) throw WatchStreamError("malformed chunk size in the watch stream");
          return finish();
        }
        size_t size = 0, digits = 0;
        for (char c : buf.substr(0, end)) {
          if (c == ';') break;  // a chunk extension
          int v = std::isdigit(static_cast<unsigned char>(c)) ? c - '0'
                  : (c >= 'a' && c <= 'f')                    ? c - 'a' + 10
                  : (c >= 'A' && c <= 'F')                    ? c - 'A' + 10
                                                              : -1;
          if (v < 0 || ++digits > 15)
            throw WatchStreamError("malformed chunk size in the watch stream");
          size = size * 16 + static_cast<size_t>(v);
        }
        if (digits == 0) throw WatchStreamError("malformed chunk size in the watch stream");
        pos += end + 2;
        if (size == 0) {
          phase_ = Phase::kEnded;
          ended_ = true;
          pending_.clear();
          return;
        }
        chunk_left_ = size;
        phase_ = Phase::kChunkData;
        break;
      }
      case Phase::kChunkData: {
        if (buf.empty()) return finish();
        size_t take = std::min(buf.size(), chunk_left_);
        body_bytes(buf.substr(0, take), lines);
        pos += take;
        chunk_left_ -= take;
        if (chunk_left_ == 0) phase_ = Phase::kChunkDataEnd;
        break;
      }
      case Phase::kChunkDataEnd:
        if (buf.size() < 2) return finish();
        if (buf.substr(0, 2) != "\r\n")
          throw WatchStreamError("malformed chunk in the watch stream");
        pos += 2;
        phase_ = Phase::kChunkSize;
        break;
      case Phase::kIdentity:
        body_bytes(buf, lines);
        pending_.clear();
        return;
      case Phase::kEnded:
        pending_.clear();
        return;
    }
  }
}

}  // namespace weft::npc
