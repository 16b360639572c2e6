#pragma once
// The router's watch stream (GET /state/watch: an HTTP/1.1 response whose chunked body is
// newline-delimited JSON) as complete lines, from the bytes read off the socket in whatever
// pieces they come. Pure: the adapter reads, this decodes. The router is trusted, but its answer
// still costs bounded memory: a line longer than `max_line` is an error, not an allocation.
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace weft::npc {

struct WatchStreamError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class WatchStreamDecoder {
 public:
  // A snapshot of 5,000 workloads and 1,000 policies is a few MiB; 256 MiB is far beyond any
  // cluster weft is for.
  explicit WatchStreamDecoder(size_t max_line = size_t{256} << 20) : max_line_(max_line) {}

  // Appends the complete lines in `bytes` (after what came before) to `lines`, without their
  // newline; empty lines are skipped. Throws WatchStreamError for an answer other than 200 (with
  // the status and what the body says), malformed chunking, or a line over the limit.
  void feed(std::string_view bytes, std::vector<std::string>& lines);

  // The response ended (its last chunk arrived): the router closed the watch.
  bool ended() const { return ended_; }

 private:
  enum class Phase { kHead, kChunkSize, kChunkData, kChunkDataEnd, kIdentity, kEnded };
  void on_head(std::string_view head);
  void body_bytes(std::string_view data, std::vector<std::string>& lines);

  size_t max_line_;
  Phase phase_ = Phase::kHead;
  std::string pending_;  // bytes not yet consumed by the current phase
  std::string line_;     // the body's current, unfinished line
  size_t chunk_left_ = 0;
  int status_ = 0;
  bool ended_ = false;
};

}  // namespace weft::npc
