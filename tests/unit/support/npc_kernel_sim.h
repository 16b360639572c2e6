#pragma once
// Test-only: a small interpreter of the iptables rules and ipsets the npc planner emits, so a
// DesiredState can be asked what the kernel would do with one packet. It knows exactly the
// matches and targets the planner uses (physdev, set, addresses, conntrack, protocol/dport,
// comment, mark, limit; MARK, NFLOG, ACCEPT, DROP, RETURN, jumps) and fails the test on anything
// else, so the planner cannot start emitting something this model silently ignores.
#include <doctest/doctest.h>

#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "k8s/ip_cidr.h"
#include "npc/desired_state.h"

namespace weft::npc::test {

struct Packet {
  std::string src, dst;  // IPv4
  std::string protocol;  // "tcp", "udp", "sctp"
  int dport = 0;
  std::string physdev_in, physdev_out;  // bridge ports
  bool established = false;
};

inline std::vector<std::string> tokenize(const std::string& rule) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false, any = false;
  for (char c : rule) {
    if (c == '"') {
      quoted = !quoted;
      any = true;
    } else if (c == ' ' && !quoted) {
      if (any) out.push_back(cur);
      cur.clear();
      any = false;
    } else {
      cur += c;
      any = true;
    }
  }
  if (any) out.push_back(cur);
  return out;
}

class KernelSim {
 public:
  explicit KernelSim(const DesiredState& s) : s_(s) {}

  // True when the packet is accepted or falls through the hooks (FORWARD's policy: ACCEPT).
  bool forward(const Packet& p) {
    mark_ = 0;
    for (const std::string& hook : s_.hooks) {
      REQUIRE(hook.rfind("FORWARD ", 0) == 0);
      // The hooks match on the bridge: every packet here crosses it.
      std::vector<std::string> t = tokenize(hook.substr(8));
      std::string target = t.back();
      int v = run(target, p);
      if (v != kContinue) return v == kAccept;
      break;  // the first hook took it to WEFT-FORWARD and it returned
    }
    return true;
  }

  bool in_set(const std::string& name, const std::string& flags, const Packet& p) const {
    auto it = s_.sets.find(name);
    REQUIRE_MESSAGE(it != s_.sets.end(), "rule names a set that does not exist: " << name);
    const IpSet& set = it->second;
    std::string dir1 = flags.substr(0, flags.find(','));
    std::string dir2 =
        flags.find(',') == std::string::npos ? "" : flags.substr(flags.find(',') + 1);
    const std::string& ip = dir1 == "src" ? p.src : p.dst;
    if (set.type == "hash:ip") return set.members.count(ip) > 0;
    if (set.type == "hash:ip,port")
      return set.members.count(ip + "," + p.protocol + ":" + std::to_string(p.dport)) > 0;
    if (set.type == "hash:net,iface") {
      const std::string& dev = dir2 == "src" ? p.physdev_in : p.physdev_out;
      return set.members.count(ip + ",physdev:" + dev) > 0;
    }
    REQUIRE(set.type == "hash:net");
    // The most specific matching entry decides; a "nomatch" entry means no.
    auto a = k8s::parse_ip(ip);
    int best = -1;
    bool match = false;
    for (const std::string& m : set.members) {
      bool nomatch = m.size() > 8 && m.substr(m.size() - 8) == " nomatch";
      auto c = k8s::parse_ip_cidr(m.substr(0, m.find(' ')));
      REQUIRE(c);
      if (c->contains(*a) && c->prefix > best) {
        best = c->prefix;
        match = !nomatch;
      }
    }
    return match;
  }

 private:
  enum { kContinue, kAccept, kDrop };

  int run(const std::string& chain, const Packet& p) {
    auto it = s_.chains.find(chain);
    REQUIRE_MESSAGE(it != s_.chains.end(), "jump to a chain that does not exist: " << chain);
    REQUIRE(++depth_ < 10);
    for (const std::string& rule : it->second.rules) {
      int v = rule_verdict(rule, p);
      if (v == kReturn) break;
      if (v != kContinue) {
        --depth_;
        return v;
      }
    }
    --depth_;
    return kContinue;
  }

  static constexpr int kReturn = 3;

  int rule_verdict(const std::string& rule, const Packet& p) {
    std::vector<std::string> t = tokenize(rule);
    bool ok = true;
    size_t i = 0;
    for (; i < t.size() && t[i] != "-j"; ++i) {
      const std::string& o = t[i];
      if (o == "-m") continue;
      if (o == "physdev" || o == "set" || o == "conntrack" || o == "comment" || o == "mark" ||
          o == "limit")
        continue;
      bool neg = false;
      size_t k = i;
      if (o == "!") {
        neg = true;
        k = ++i;
      }
      const std::string& opt = t[k];
      if (opt == "--physdev-in" || opt == "--physdev-out") {
        std::string pat = t[++i];
        const std::string& dev = opt == "--physdev-in" ? p.physdev_in : p.physdev_out;
        bool m = pat.back() == '+' ? dev.rfind(pat.substr(0, pat.size() - 1), 0) == 0 : dev == pat;
        ok = ok && (m != neg);
      } else if (opt == "--match-set") {
        std::string name = t[++i], flags = t[++i];
        ok = ok && (in_set(name, flags, p) != neg);
      } else if (opt == "-s" || opt == "-d") {
        auto c = k8s::parse_ip_cidr(t[++i]);
        REQUIRE(c);
        ok = ok && (c->contains(*k8s::parse_ip(opt == "-s" ? p.src : p.dst)) != neg);
      } else if (opt == "--ctstate") {
        ++i;
        ok = ok && p.established;
      } else if (opt == "-p") {
        std::string proto = t[++i];
        ok = ok && proto == p.protocol;
      } else if (opt == "--dport") {
        std::string r = t[++i];
        int lo = std::stoi(r),
            hi = r.find(':') == std::string::npos ? lo : std::stoi(r.substr(r.find(':') + 1));
        ok = ok && p.dport >= lo && p.dport <= hi;
      } else if (opt == "--comment" || opt == "--limit" || opt == "--limit-burst") {
        ++i;
      } else if (opt == "--mark") {
        std::string vm = t[++i];
        uint32_t v = uint32_t(std::stoul(vm.substr(0, vm.find('/')), nullptr, 0));
        uint32_t m = uint32_t(std::stoul(vm.substr(vm.find('/') + 1), nullptr, 0));
        ok = ok && (mark_ & m) == v;
      } else {
        FAIL("the simulator does not know " << opt << " in: " << rule);
      }
    }
    if (!ok) return kContinue;
    REQUIRE(i + 1 < t.size());
    const std::string& target = t[i + 1];
    if (target == "ACCEPT") return kAccept;
    if (target == "DROP") return kDrop;
    if (target == "RETURN") return kReturn;
    if (target == "NFLOG") return kContinue;
    if (target == "MARK") {
      REQUIRE(t[i + 2] == "--set-xmark");
      std::string vm = t[i + 3];
      uint32_t v = uint32_t(std::stoul(vm.substr(0, vm.find('/')), nullptr, 0));
      uint32_t m = uint32_t(std::stoul(vm.substr(vm.find('/') + 1), nullptr, 0));
      mark_ = (mark_ & ~m) ^ v;
      return kContinue;
    }
    return run(target, p);
  }

  const DesiredState& s_;
  uint32_t mark_ = 0;
  int depth_ = 0;
};

}  // namespace weft::npc::test
