#pragma once
// IPAM gossip messages (channel "ipam"). Every message starts with a type byte.
//
//   kRing      the sender's whole ring (broadcast on change, and to a neighbour for repair)
//   kDigest    the sender's ring digest (periodic anti-entropy with one neighbour)
//   kProposal  consensus bootstrap: the sender has no ring yet and proposes these seeds
//              (empty: it is only announcing that it takes part)
//   kRequest   unicast: please give me space (any, or the one address given; `held`: I already
//              have it in use, my space having been taken over while I was away)
//   kGrant     unicast reply: done; the donor's ring, which shows the new owner
//   kRefuse    unicast reply: no, and why (with the refuser's ring, when it helps)
#include <cstdint>
#include <optional>
#include <variant>
#include <vector>

#include "common/bytes.h"
#include "ipam/ring.h"

namespace weft::ipam {

enum class RefuseReason : uint8_t {
  kNoSpace = 0,   // the donor has no free address to give
  kInUse = 1,     // the address asked for is allocated on the donor
  kNotOwner = 2,  // the donor does not own the address asked for (its ring moved on)
  kNoRing = 3,    // the donor has not bootstrapped yet
};

struct RingMsg {
  Ring ring;
};
struct DigestMsg {
  uint64_t digest = 0;
};
struct ProposalMsg {
  uint32_t seq = 0;    // the sender's counter: newer proposals replace older ones
  uint64_t since = 0;  // when the sender started waiting (unix ms): the ring's epoch source
  uint16_t quorum = 0;
  std::vector<PeerName> seeds;  // sorted, unique
};
struct RequestMsg {
  uint32_t request_id = 0;
  std::optional<uint32_t> address;
  // A re-claim: the sender holds `address` already (its space was taken over by `weft rmpeer`
  // or by an earlier bootstrap while it was away). A refusal because the address is in use
  // here too is then a conflict both sides report. Only with an address.
  bool held = false;
};
struct GrantMsg {
  uint32_t request_id = 0;
  Ring ring;
};
struct RefuseMsg {
  uint32_t request_id = 0;
  RefuseReason reason = RefuseReason::kNoSpace;
  // The refuser's ring (for kNoSpace and kNotOwner): its exact free counts and any space it gave
  // to others meanwhile, so the requester asks the right peer next instead of concluding "full".
  std::optional<Ring> ring;
};

using Message = std::variant<RingMsg, DigestMsg, ProposalMsg, RequestMsg, GrantMsg, RefuseMsg>;

Bytes encode(const Message& m);
// Throws DecodeError on anything malformed (unknown type, bad ring, trailing bytes...).
Message decode(ByteView b);

}  // namespace weft::ipam
