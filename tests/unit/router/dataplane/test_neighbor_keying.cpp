#include <doctest/doctest.h>

#include "router/dataplane/neighbor_keying.h"

using namespace weft;

TEST_CASE("neighbor keying: only the mesh's current connection keys the data plane") {
  NeighborKeying k;
  // Two connections to peer 7 race; the mesh keeps connection 2.
  CHECK_FALSE(k.on_established(1, 7, 2));
  CHECK(k.on_established(2, 7, 2));
  // The loser closing ends nothing.
  CHECK_FALSE(k.on_closed(1, 2).has_value());
  // The current one closing with no successor ends peer 7's session.
  CHECK(k.on_closed(2, std::nullopt) == std::optional<PeerName>(7));
}

TEST_CASE("neighbor keying: a reconnect that is current already keeps the session") {
  NeighborKeying k;
  CHECK(k.on_established(1, 7, 1));
  CHECK(k.on_established(3, 7, 3));  // a new connection replaced 1 as the mesh's choice
  CHECK_FALSE(k.on_closed(1, 3).has_value());
  CHECK(k.peer_of(3) == std::optional<PeerName>(7));
  CHECK_FALSE(k.on_closed(9, std::nullopt).has_value());  // never keyed
}
