#pragma once
// Desired vs. kernel state to the commands that reconcile them without a moment in which a
// needed rule or set member is missing (what weave-npc and kube-router got wrong):
//
// 1. ipset_restore (run with `ipset -exist restore`): sets that do not exist yet are created and
//    filled; a set whose members differ is rebuilt beside the live one ("weft-tmp-<hash>": create,
//    flush, fill) and swapped in atomically, then the temporary is destroyed. `-exist` makes a
//    leftover temporary or an existing set harmless (no "set already exists" loop).
// 2. iptables_restore (run with `iptables-restore --noflush`, one atomic commit): only chains
//    whose content changed are rewritten (declaring a chain flushes just that chain), stale WEFT-*
//    chains are flushed and deleted, missing hooks are inserted at the top of their built-in
//    chain. Nothing else in the table is touched.
// 3. ipset_cleanup (run last, `ipset -exist restore`): sets nothing references any more.
//
// A chain counts as unchanged when its first rule carries the desired content hash
// (`-m comment --comment weft-hash-<16 hex>`) and it has the desired number of rules: a rule
// deleted or added by hand is repaired on the next reconcile; a rule edited in place is not
// noticed (Calico's trade-off too). Sets are compared member by member. Pure.
#include <string>
#include <vector>

#include "npc/desired_state.h"
#include "npc/kernel_state.h"

namespace weft::npc {

struct ApplyPlan {
  std::string ipset_restore;
  std::string iptables_restore;
  std::string ip6tables_restore;  // the same for IPv6 (`ip6tables-restore --noflush`)
  std::string ipset_cleanup;
  // For logs and metrics (IPv6 chains and hooks are listed with an "ip6 " prefix).
  std::vector<std::string> chains_written, chains_removed, hooks_added, hooks_removed;
  std::vector<std::string> sets_created, sets_swapped, sets_removed;
  bool empty() const {
    return ipset_restore.empty() && iptables_restore.empty() && ip6tables_restore.empty() &&
           ipset_cleanup.empty();
  }
};

// The rules a chain is written with: the hash comment first, then Chain::rules.
std::vector<std::string> render_chain(const Chain& chain);

ApplyPlan diff(const DesiredState& desired, const KernelState& kernel);

// Everything weft has in the kernel removed (`weft reset`): hooks deleted, WEFT-* chains flushed
// and deleted, weft-* sets destroyed.
ApplyPlan teardown(const KernelState& kernel);

}  // namespace weft::npc
