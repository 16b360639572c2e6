#pragma once
// The cluster state's gossip messages (channel "state"): encode/decode only.
//
//   Summary  {root}             "my digest's root is this"; sent on every gossip tick
//   Buckets  {digest, reply}    the 256 bucket hashes; `reply` asks for the sender's own back
//   Entries  {entries}          entries news (a broadcast) or a repair (to a neighbour)
//
// Anti-entropy between A and B: A -> B Summary; if B's root differs, B -> A Buckets(reply);
// A -> B Entries (A's entries in the differing buckets) and Buckets(no reply); B, having
// merged them, -> A Entries (its entries in the buckets that still differ). 1.5 round trips,
// bytes in proportion to the buckets that differ.
#include <variant>
#include <vector>

#include "common/bytes.h"
#include "state/entry.h"
#include "state/object_table.h"

namespace weft::state {

struct SummaryMsg {
  uint64_t root = 0;
  bool operator==(const SummaryMsg&) const = default;
};
struct BucketsMsg {
  ObjectTable::Digest digest{};
  bool reply = false;
  bool operator==(const BucketsMsg&) const = default;
};
struct EntriesMsg {
  std::vector<Entry> entries;
  bool operator==(const EntriesMsg&) const = default;
};
using StateMessage = std::variant<SummaryMsg, BucketsMsg, EntriesMsg>;

// An Entries message is split so that none exceeds this (the control channel carries up to
// 1 MiB per message).
constexpr size_t kMaxEntriesBytes = 256 * 1024;
constexpr size_t kMaxEntriesPerMessage = 1 << 16;

Bytes encode_state_message(const StateMessage& m);
// Throws DecodeError on anything malformed: an unknown type or kind, a key or value over the
// bounds in entry.h, a tombstone with a value, trailing bytes.
StateMessage decode_state_message(ByteView b);

// Entries split into messages of at most kMaxEntriesBytes each (one entry may fill one).
std::vector<Bytes> encode_entries_chunked(const std::vector<const Entry*>& entries);

}  // namespace weft::state
