// decode_state_message on arbitrary bytes (the cluster state's gossip, from an authenticated
// but possibly buggy or compromised peer). Anything that decodes re-encodes to the same bytes
// (one encoding per message), and a live StateCore fed it as a neighbour message and as a
// broadcast never crashes, never takes a workload entry its owner did not write, and changes
// nothing when the bytes do not decode.
#include <cstddef>
#include <cstdint>

#include "common/bytes.h"
#include "fuzz_common.h"
#include "state/state_core.h"

using namespace weft;
using namespace weft::state;
using weft::fuzz::require;

namespace {

struct Null : GossipSender, Membership, StateStore, StateEvents {
  void send_neighbor(std::string_view, PeerName, ByteView) override {}
  void send_unicast(std::string_view, PeerName, ByteView) override {}
  void broadcast(std::string_view, ByteView) override {}
  std::vector<MemberInfo> members() const override { return {}; }
  bool reachable(PeerName) const override { return true; }
  void save(const ObjectTable&, uint64_t, uint64_t) override {}
  void on_change(const Change&) override {}
  void log(LogLevel, const std::string&) override {}
};

constexpr PeerName kSelf = 0x0a0000000001;
constexpr PeerName kFrom = 0x0b0000000002;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteView in(data, size);
  Null io;
  StateConfig cfg;
  cfg.self = kSelf;
  StateCore core(cfg, io, io, io, io);
  core.write({{Kind::kWorkload, workload_key(kSelf, "w1"), "{\"a\":1}"},
              {Kind::kPolicy, "default/p", "{\"b\":2}"}},
             0);
  const uint64_t root = core.table().root();
  const uint64_t rev = core.revision();

  StateMessage m;
  bool decoded = true;
  try {
    m = decode_state_message(in);
  } catch (const DecodeError&) {
    decoded = false;
  }
  if (decoded) {
    Bytes again = encode_state_message(m);
    require(again.size() == size && std::equal(again.begin(), again.end(), data));
  }
  bool threw = false;
  try {
    core.on_neighbor(kFrom, in, 1);
  } catch (const DecodeError&) {
    threw = true;
  }
  require(threw == !decoded);
  if (!decoded) require(core.table().root() == root && core.revision() == rev);
  try {
    core.on_broadcast(kFrom, kFrom, in, 2);
  } catch (const DecodeError&) {
  }
  // Only the owner's writes are taken for workloads; this host re-asserts its own.
  for (const Entry* e : core.table().live(Kind::kWorkload))
    require(workload_owner(e->key) == e->version.writer);
  const Entry* mine = core.table().find(Kind::kWorkload, workload_key(kSelf, "w1"));
  require(mine && !mine->deleted && mine->value == "{\"a\":1}");
  return 0;
}
