#include "common/bytes.h"

namespace weft {

void ByteWriter::u16(uint16_t v) {
  u8(static_cast<uint8_t>(v >> 8));
  u8(static_cast<uint8_t>(v));
}
void ByteWriter::u32(uint32_t v) {
  u16(static_cast<uint16_t>(v >> 16));
  u16(static_cast<uint16_t>(v));
}
void ByteWriter::u64(uint64_t v) {
  u32(static_cast<uint32_t>(v >> 32));
  u32(static_cast<uint32_t>(v));
}
void ByteWriter::str16(std::string_view s) {
  if (s.size() > 0xffff) throw std::length_error("string too long for the wire");
  u16(static_cast<uint16_t>(s.size()));
  raw(as_bytes(s));
}
void ByteWriter::bytes32(ByteView b) {
  if (b.size() > 0xffffffffu) throw std::length_error("blob too long for the wire");
  u32(static_cast<uint32_t>(b.size()));
  raw(b);
}

void ByteReader::need(size_t n) const {
  if (remaining() < n) throw DecodeError("truncated message");
}
uint8_t ByteReader::u8() {
  need(1);
  return in_[pos_++];
}
uint16_t ByteReader::u16() {
  uint16_t hi = u8();
  return static_cast<uint16_t>(hi << 8 | u8());
}
uint32_t ByteReader::u32() {
  uint32_t hi = u16();
  return hi << 16 | u16();
}
uint64_t ByteReader::u64() {
  uint64_t hi = u32();
  return hi << 32 | u32();
}
ByteView ByteReader::raw(size_t n) {
  need(n);
  ByteView v = in_.subspan(pos_, n);
  pos_ += n;
  return v;
}
std::string ByteReader::str16(size_t max_len) {
  size_t n = u16();
  if (n > max_len) throw DecodeError("string longer than allowed");
  ByteView v = raw(n);
  return std::string(v.begin(), v.end());
}
ByteView ByteReader::bytes32(size_t max_len) {
  size_t n = u32();
  if (n > max_len) throw DecodeError("blob longer than allowed");
  return raw(n);
}
void ByteReader::expect_done() const {
  if (!done()) throw DecodeError("trailing bytes after message");
}

std::string to_hex(ByteView b) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  s.reserve(b.size() * 2);
  for (uint8_t c : b) {
    s.push_back(digits[c >> 4]);
    s.push_back(digits[c & 15]);
  }
  return s;
}

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool from_hex(std::string_view s, Bytes& out) {
  if (s.size() % 2) return false;
  Bytes r;
  r.reserve(s.size() / 2);
  for (size_t i = 0; i < s.size(); i += 2) {
    int hi = hex_value(s[i]), lo = hex_value(s[i + 1]);
    if (hi < 0 || lo < 0) return false;
    r.push_back(static_cast<uint8_t>(hi << 4 | lo));
  }
  out = std::move(r);
  return true;
}

}  // namespace weft
