#include "state/state_messages.h"

namespace weft::state {

namespace {

enum Type : uint8_t { kSummary = 1, kBuckets = 2, kEntries = 3 };

void write_entry(ByteWriter& w, const Entry& e) {
  w.u8(static_cast<uint8_t>(e.kind));
  w.str16(e.key);
  w.u64(e.version.hlc);
  w.u64(e.version.writer);
  w.u8(e.deleted ? 1 : 0);
  w.bytes32(as_bytes(e.value));
}

Entry read_entry(ByteReader& r) {
  Entry e;
  uint8_t k = r.u8();
  if (!valid_kind(k)) throw DecodeError("state: unknown kind " + std::to_string(k));
  e.kind = static_cast<Kind>(k);
  e.key = r.str16(kMaxKeyLen);
  if (e.key.empty()) throw DecodeError("state: empty key");
  e.version.hlc = r.u64();
  e.version.writer = r.u64();
  if (e.version.writer > kPeerNameMask) throw DecodeError("state: writer is not a peer name");
  uint8_t d = r.u8();
  if (d > 1) throw DecodeError("state: bad deleted flag");
  e.deleted = d == 1;
  ByteView v = r.bytes32(kMaxValueLen);
  e.value.assign(v.begin(), v.end());
  if (e.deleted && !e.value.empty()) throw DecodeError("state: a tombstone with a value");
  if (!e.deleted && e.value.empty()) throw DecodeError("state: a live entry without a value");
  return e;
}

size_t entry_size(const Entry& e) {
  return 1 + 2 + e.key.size() + 8 + 8 + 1 + 4 + e.value.size();
}

}  // namespace

Bytes encode_state_message(const StateMessage& m) {
  Bytes out;
  ByteWriter w(out);
  if (const auto* s = std::get_if<SummaryMsg>(&m)) {
    w.u8(kSummary);
    w.u64(s->root);
  } else if (const auto* b = std::get_if<BucketsMsg>(&m)) {
    w.u8(kBuckets);
    w.u8(b->reply ? 1 : 0);
    for (uint64_t h : b->digest) w.u64(h);
  } else {
    const auto& en = std::get<EntriesMsg>(m);
    w.u8(kEntries);
    w.u32(static_cast<uint32_t>(en.entries.size()));
    for (const Entry& e : en.entries) write_entry(w, e);
  }
  return out;
}

StateMessage decode_state_message(ByteView b) {
  ByteReader r(b);
  StateMessage m;
  switch (r.u8()) {
    case kSummary:
      m = SummaryMsg{r.u64()};
      break;
    case kBuckets: {
      BucketsMsg bm;
      uint8_t reply = r.u8();
      if (reply > 1) throw DecodeError("state: bad reply flag");
      bm.reply = reply == 1;
      for (uint64_t& h : bm.digest) h = r.u64();
      m = bm;
      break;
    }
    case kEntries: {
      EntriesMsg em;
      uint32_t n = r.u32();
      // Each entry takes at least 24 bytes: a count beyond what the bytes can hold is a lie.
      if (n > kMaxEntriesPerMessage || n > r.remaining() / 24)
        throw DecodeError("state: entry count " + std::to_string(n) + " too large");
      em.entries.reserve(n);
      for (uint32_t i = 0; i < n; ++i) em.entries.push_back(read_entry(r));
      m = std::move(em);
      break;
    }
    default:
      throw DecodeError("state: unknown message type");
  }
  r.expect_done();
  return m;
}

std::vector<Bytes> encode_entries_chunked(const std::vector<const Entry*>& entries) {
  std::vector<Bytes> out;
  EntriesMsg chunk;
  size_t bytes = 0;
  for (const Entry* e : entries) {
    size_t s = entry_size(*e);
    if (!chunk.entries.empty() &&
        (bytes + s > kMaxEntriesBytes || chunk.entries.size() >= kMaxEntriesPerMessage)) {
      out.push_back(encode_state_message(chunk));
      chunk.entries.clear();
      bytes = 0;
    }
    chunk.entries.push_back(*e);
    bytes += s;
  }
  if (!chunk.entries.empty()) out.push_back(encode_state_message(chunk));
  return out;
}

}  // namespace weft::state
