// StateCore against a naive model: peers write, delete and gossip in random orders with
// losses; after anti-entropy every peer holds exactly the newest write of every key.
#include <doctest/doctest.h>

#include <deque>
#include <map>
#include <memory>
#include <random>
#include <set>

#include "state/state_core.h"
#include "state/state_file.h"

using namespace weft;
using namespace weft::state;

namespace {

struct Msg {
  int from, to;
  bool broadcast;
  Bytes payload;
};

struct Net;

struct Peer : GossipSender, Membership, StateStore, StateEvents {
  Net* net = nullptr;
  int index = 0;
  PeerName name = 0;
  std::vector<Change> changes;
  int saves = 0;
  bool fail_saves = false;
  std::string saved;
  std::unique_ptr<StateCore> core;

  void send_neighbor(std::string_view, PeerName neighbor, ByteView payload) override;
  void send_unicast(std::string_view, PeerName, ByteView) override {}
  void broadcast(std::string_view, ByteView payload) override;
  std::vector<MemberInfo> members() const override { return {}; }
  bool reachable(PeerName p) const override;
  void save(const ObjectTable& t, uint64_t hlc, uint64_t rev) override {
    if (fail_saves) throw std::runtime_error("disk full");
    ++saves;
    saved = state_file_json(t, hlc, rev);
  }
  void on_change(const Change& c) override { changes.push_back(c); }
  void log(LogLevel, const std::string&) override {}
};

struct Net {
  std::vector<std::unique_ptr<Peer>> peers;
  std::deque<Msg> queue;
  std::mt19937_64 rng;
  double loss = 0;
  std::set<int> down;
  int64_t now = 0;

  explicit Net(int n, uint64_t seed) : rng(seed) {
    for (int i = 0; i < n; ++i) {
      auto p = std::make_unique<Peer>();
      p->net = this;
      p->index = i;
      p->name = 0x100 + static_cast<PeerName>(i);
      StateConfig c;
      c.self = p->name;
      c.started_unix_ms = 1'700'000'000'000 + i * 7;  // clocks a little apart
      c.gone_grace_ms = 1000;
      p->core = std::make_unique<StateCore>(c, *p, *p, *p, *p);
      peers.push_back(std::move(p));
    }
  }
  int index_of(PeerName n) const { return static_cast<int>(n - 0x100); }
  void push(Msg m) {
    if (down.count(m.from) || down.count(m.to)) return;
    if (std::uniform_real_distribution<>(0, 1)(rng) < loss) return;
    queue.push_back(std::move(m));
  }
  // Delivers queued messages in a random order.
  void deliver_all() {
    while (!queue.empty()) {
      size_t i = std::uniform_int_distribution<size_t>(0, queue.size() - 1)(rng);
      Msg m = std::move(queue[i]);
      queue.erase(queue.begin() + static_cast<long>(i));
      if (down.count(m.to)) continue;
      Peer& p = *peers[m.to];
      if (m.broadcast)
        p.core->on_broadcast(peers[m.from]->name, peers[m.from]->name, m.payload, now);
      else
        p.core->on_neighbor(peers[m.from]->name, m.payload, now);
    }
  }
  // Anti-entropy rounds over every pair until no message is left.
  void repair() {
    double l = loss;
    loss = 0;
    for (int round = 0; round < 3; ++round)
      for (size_t a = 0; a < peers.size(); ++a)
        for (size_t b = 0; b < peers.size(); ++b) {
          if (a == b || down.count(int(a)) || down.count(int(b))) continue;
          peers[a]->core->on_gossip_tick(peers[b]->name, now);
          deliver_all();
        }
    loss = l;
  }
};

void Peer::send_neighbor(std::string_view, PeerName neighbor, ByteView payload) {
  net->push({index, net->index_of(neighbor), false, Bytes(payload.begin(), payload.end())});
}
void Peer::broadcast(std::string_view, ByteView payload) {
  for (size_t i = 0; i < net->peers.size(); ++i)
    if (static_cast<int>(i) != index)
      net->push({index, static_cast<int>(i), true, Bytes(payload.begin(), payload.end())});
}
bool Peer::reachable(PeerName p) const {
  return !net->down.count(net->index_of(p));
}

std::map<std::pair<Kind, std::string>, std::optional<std::string>> visible(const StateCore& c) {
  std::map<std::pair<Kind, std::string>, std::optional<std::string>> out;
  c.table().for_each([&](const Entry& e) {
    out[{e.kind, e.key}] = e.deleted ? std::nullopt : std::optional<std::string>(e.value);
  });
  return out;
}

}  // namespace

TEST_CASE("state: concurrent writes from random peers converge to the newest write per key") {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    CAPTURE(seed);
    Net net(5, seed);
    net.loss = 0.3;
    // The naive model: every write made, and per key the one that must win.
    std::map<std::pair<Kind, std::string>, Entry> model;
    std::mt19937_64 rng(seed * 77);
    for (int step = 0; step < 300; ++step) {
      net.now += std::uniform_int_distribution<int64_t>(0, 3)(rng);
      int i = std::uniform_int_distribution<int>(0, 4)(rng);
      Kind k = (rng() % 2) ? Kind::kPolicy : Kind::kNamespace;
      std::string key = "k" + std::to_string(rng() % 12);
      bool del = rng() % 4 == 0;
      std::optional<std::string> value;
      if (!del) value = "{\"v\":" + std::to_string(step) + "}";
      auto changes = net.peers[i]->core->write({{k, key, value}}, net.now);
      if (!changes.empty()) {
        const Entry* e = net.peers[i]->core->table().find(k, key);
        REQUIRE(e);
        model[{k, key}] = *e;
      }
      if (rng() % 3 == 0) net.deliver_all();
    }
    net.deliver_all();
    net.repair();
    auto first = visible(*net.peers[0]->core);
    for (auto& p : net.peers) {
      CHECK(visible(*p->core) == first);
      CHECK(p->core->table().root() == net.peers[0]->core->table().root());
    }
    for (const auto& [k, e] : model) {
      const Entry* got = net.peers[0]->core->table().find(k.first, k.second);
      REQUIRE(got);
      // The model's entry is the last local write of each key by some peer; the table's must be
      // the greatest of all writes, which is at least the model's.
      CHECK_FALSE(ObjectTable::newer(e, *got));
    }
  }
}

TEST_CASE("state: a deleted object never comes back from a stale peer") {
  Net net(3, 9);
  net.peers[0]->core->write({{Kind::kPolicy, "default/deny", "{\"a\":1}"}}, net.now);
  net.deliver_all();
  // Peer 2 is partitioned while peer 1 deletes, then heals with its stale copy.
  net.down.insert(2);
  net.now += 10;
  net.peers[1]->core->write({{Kind::kPolicy, "default/deny", std::nullopt}}, net.now);
  net.deliver_all();
  net.down.clear();
  net.repair();
  for (auto& p : net.peers) {
    const Entry* e = p->core->table().find(Kind::kPolicy, "default/deny");
    REQUIRE(e);
    CHECK(e->deleted);
  }
}

TEST_CASE("state: only the owner writes its workloads, and it re-asserts them") {
  Net net(2, 3);
  std::string mine = workload_key(net.peers[0]->name, "w1");
  CHECK_THROWS_AS(net.peers[1]->core->write({{Kind::kWorkload, mine, "{}"}}, 0),
                  std::invalid_argument);
  net.peers[0]->core->write({{Kind::kWorkload, mine, "{\"ip\":1}"}}, 0);
  net.deliver_all();
  REQUIRE(net.peers[1]->core->table().live(Kind::kWorkload).size() == 1);

  // A forged entry for peer 0's workload written by peer 1 is refused.
  EntriesMsg forged{{{Kind::kWorkload, mine, {UINT64_MAX / 2, net.peers[1]->name}, false, "{}"}}};
  net.peers[1]->core->on_broadcast(net.peers[1]->name, net.peers[1]->name,
                                   encode_state_message(forged), 0);
  CHECK(net.peers[1]->core->counters().entries_refused == 1);

  // Peer 1 finds peer 0 gone for good and deletes its workload; when 0 comes back, it
  // re-asserts what it holds and everyone has the workload again.
  net.down.insert(0);
  net.peers[1]->core->on_peer_gone(net.peers[0]->name, 10);
  net.peers[1]->core->on_timer(10 + 1000);
  CHECK(net.peers[1]->core->table().live(Kind::kWorkload).empty());
  net.down.clear();
  net.repair();
  CHECK(net.peers[1]->core->table().live(Kind::kWorkload).size() == 1);
  CHECK(net.peers[0]->core->counters().owner_reasserts >= 1);
}

TEST_CASE("state: a failed save changes nothing and says so") {
  Net net(1, 1);
  net.peers[0]->core->write({{Kind::kNamespace, "x", "{\"labels\":{}}"}}, 0);
  uint64_t rev = net.peers[0]->core->revision();
  net.peers[0]->fail_saves = true;
  CHECK_THROWS_AS(net.peers[0]->core->write({{Kind::kNamespace, "x", "{\"labels\":{\"a\":\"b\"}}"},
                                             {Kind::kNamespace, "y", "{\"labels\":{}}"}},
                                            1),
                  StoreError);
  CHECK(net.peers[0]->core->revision() == rev);
  CHECK(net.peers[0]->core->table().find(Kind::kNamespace, "x")->value == "{\"labels\":{}}");
  CHECK(net.peers[0]->core->table().find(Kind::kNamespace, "y") == nullptr);
}

TEST_CASE("state: the change log serves resumption and reports when it is too short") {
  Net net(1, 1);
  for (int i = 0; i < 5; ++i)
    net.peers[0]->core->write({{Kind::kNamespace, "n" + std::to_string(i), "{}"}}, i);
  auto since2 = net.peers[0]->core->changes_since(2);
  REQUIRE(since2);
  CHECK(since2->size() == 3);
  CHECK(since2->front().revision == 3);
  CHECK(net.peers[0]->core->changes_since(5)->empty());
  // An unchanged write makes no revision.
  CHECK(net.peers[0]->core->write({{Kind::kNamespace, "n1", "{}"}}, 9).empty());
}

TEST_CASE("state: the saved file reloads to the same table") {
  Net net(2, 5);
  net.peers[0]->core->write({{Kind::kPolicy, "a/b", "{\"spec\":{}}"},
                             {Kind::kDnsRecord, "web|10.0.0.1", "{\"name\":\"web\"}"}},
                            0);
  net.peers[0]->core->write({{Kind::kPolicy, "a/b", std::nullopt}}, 1);
  SavedState s = parse_state_file(net.peers[0]->saved);
  ObjectTable t;
  for (const Entry& e : s.entries) t.put(e);
  CHECK(t.root() == net.peers[0]->core->table().root());
  CHECK(s.revision == net.peers[0]->core->revision());
  CHECK_THROWS_AS(parse_state_file("{\"format\":1}"), std::invalid_argument);
  CHECK_THROWS_AS(parse_state_file("nope"), std::invalid_argument);
}

TEST_CASE("state messages: round trip and malformed input") {
  EntriesMsg m{
      {{Kind::kPolicy, "ns/p", {42, 7}, false, "{}"}, {Kind::kWorkload, "x/y", {1, 2}, true, ""}}};
  CHECK(std::get<EntriesMsg>(decode_state_message(encode_state_message(m))) == m);
  BucketsMsg b;
  b.digest[3] = 99;
  b.reply = true;
  CHECK(std::get<BucketsMsg>(decode_state_message(encode_state_message(b))) == b);
  Bytes bad = encode_state_message(m);
  bad.push_back(0);
  CHECK_THROWS_AS(decode_state_message(bad), DecodeError);
  Bytes kind = encode_state_message(m);
  kind[5] = 9;  // the first entry's kind
  CHECK_THROWS_AS(decode_state_message(kind), DecodeError);
  CHECK_THROWS_AS(decode_state_message(Bytes{3, 0xff, 0xff, 0xff, 0xff}), DecodeError);
  CHECK_THROWS_AS(decode_state_message(Bytes{}), DecodeError);
}
