#pragma once
// Byte buffers and a bounds-checked reader/writer for wire formats. Every decoder of untrusted
// bytes goes through ByteReader, which throws DecodeError instead of reading past the end.
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace weft {

using Bytes = std::vector<uint8_t>;
using ByteView = std::span<const uint8_t>;

struct DecodeError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class ByteWriter {
 public:
  explicit ByteWriter(Bytes& out) : out_(out) {}
  void u8(uint8_t v) { out_.push_back(v); }
  void u16(uint16_t v);
  void u32(uint32_t v);
  void u64(uint64_t v);
  void raw(ByteView b) { out_.insert(out_.end(), b.begin(), b.end()); }
  // A u16 length prefix, then the bytes. Throws std::length_error when too long.
  void str16(std::string_view s);
  void bytes32(ByteView b);
  size_t size() const { return out_.size(); }

 private:
  Bytes& out_;
};

class ByteReader {
 public:
  explicit ByteReader(ByteView in) : in_(in) {}
  uint8_t u8();
  uint16_t u16();
  uint32_t u32();
  uint64_t u64();
  ByteView raw(size_t n);
  std::string str16(size_t max_len = 0xffff);
  ByteView bytes32(size_t max_len);
  size_t remaining() const { return in_.size() - pos_; }
  bool done() const { return pos_ == in_.size(); }
  // Throws unless every byte was consumed: trailing garbage is a malformed message.
  void expect_done() const;

 private:
  void need(size_t n) const;
  ByteView in_;
  size_t pos_ = 0;
};

std::string to_hex(ByteView b);
// Returns false on odd length or a non-hex character.
bool from_hex(std::string_view s, Bytes& out);

inline ByteView as_bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

}  // namespace weft
