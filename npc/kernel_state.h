#pragma once
// What the kernel holds of weft's, read from `iptables-save -t filter` and `ipset save` output:
// the WEFT-* chains with their rules, the rules of the built-in chains (to find the hooks), and
// the weft-* sets with their members. Pure parsers; the adapter runs the commands.
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "npc/desired_state.h"

namespace weft::npc {

struct KernelState {
  // WEFT-* chains (declared, possibly empty): rule specs as iptables-save prints them, without
  // "-A NAME ".
  std::map<std::string, std::vector<std::string>> chains;
  // Built-in chains (FORWARD, ...) likewise: only to see whether the hooks are there.
  std::map<std::string, std::vector<std::string>> builtin;
  // The same from `ip6tables-save -t filter`.
  std::map<std::string, std::vector<std::string>> chains6, builtin6;
  // weft-* sets: type and members (as `ipset save` prints them; options such as "nomatch" kept).
  std::map<std::string, IpSet> sets;
};

// Reads the *filter table of an iptables-save dump into `into` (other tables are skipped).
void parse_iptables_save(std::string_view dump, KernelState& into);
// Reads the *filter table of an ip6tables-save dump into into.chains6 / into.builtin6.
void parse_ip6tables_save(std::string_view dump, KernelState& into);
// Reads `ipset save` output into `into` (sets not named weft-* are skipped).
void parse_ipset_save(std::string_view dump, KernelState& into);

// A set member in one spelling for comparisons: IPv4 "/32" dropped, options kept.
std::string normalize_member(const std::string& member);

}  // namespace weft::npc
