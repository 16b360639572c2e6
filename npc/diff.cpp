#include "npc/diff.h"

#include <algorithm>

namespace weft::npc {

namespace {

const char* const kHashTag = "weft-hash-";

std::string hash_comment(const Chain& c) {
  return std::string("-m comment --comment ") + kHashTag + c.hash();
}

// The hash a kernel chain carries in its first rule, or "".
std::string kernel_hash(const std::vector<std::string>& rules) {
  if (rules.empty()) return "";
  size_t at = rules[0].find(kHashTag);
  if (at == std::string::npos) return "";
  return rules[0].substr(at + std::string(kHashTag).size(), 16);
}

std::set<std::string> normalized(const std::set<std::string>& members) {
  std::set<std::string> out;
  for (const std::string& m : members) out.insert(normalize_member(m));
  return out;
}

std::string create_line(const std::string& name, const IpSet& s) {
  size_t maxelem = 65536;
  while (maxelem < 2 * s.members.size()) maxelem *= 2;
  return "create " + name + " " + s.type + " family inet maxelem " + std::to_string(maxelem) + "\n";
}

std::string fill_lines(const std::string& name, const IpSet& s) {
  std::string out = "flush " + name + "\n";
  for (const std::string& m : s.members) out += "add " + name + " " + m + "\n";
  return out;
}

std::string tmp_name(const std::string& name) {
  return "weft-tmp-" + short_hash(name);
}

bool is_tmp(const std::string& name) {
  return name.rfind("weft-tmp-", 0) == 0;
}

// One table's restore input: declarations first (a declared chain is created or flushed), then
// rules, then deletions and hook insertions; "" when nothing differs.
std::string table_script(const std::map<std::string, Chain>& desired,
                         const std::vector<std::string>& hooks,
                         const std::map<std::string, std::vector<std::string>>& chains,
                         const std::map<std::string, std::vector<std::string>>& builtin,
                         const std::string& label, ApplyPlan& plan) {
  std::string decl, rules, tail;
  for (const auto& [name, c] : desired) {
    auto k = chains.find(name);
    std::vector<std::string> want = render_chain(c);
    if (k != chains.end() && kernel_hash(k->second) == c.hash() && k->second.size() == want.size())
      continue;
    decl += ":" + name + " - [0:0]\n";
    for (const std::string& r : want) rules += "-A " + name + " " + r + "\n";
    plan.chains_written.push_back(label + name);
  }
  for (const auto& [name, r] : chains) {
    if (desired.count(name)) continue;
    decl += ":" + name + " - [0:0]\n";
    tail += "-X " + name + "\n";
    plan.chains_removed.push_back(label + name);
  }
  std::vector<std::string> missing;
  for (const std::string& hook : hooks) {
    std::string chain = hook.substr(0, hook.find(' '));
    std::string spec = hook.substr(hook.find(' ') + 1);
    auto b = builtin.find(chain);
    bool present = b != builtin.end() &&
                   std::find(b->second.begin(), b->second.end(), spec) != b->second.end();
    if (!present) missing.push_back(hook);
  }
  // Inserted at position 1 in reverse, so they end up first and in the desired order.
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    std::string chain = it->substr(0, it->find(' '));
    tail += "-I " + chain + " 1 " + it->substr(it->find(' ') + 1) + "\n";
    plan.hooks_added.push_back(label + *it);
  }
  if (decl.empty() && tail.empty()) return "";
  return "*filter\n" + decl + rules + tail + "COMMIT\n";
}

// Removes weft's hooks and chains from one table.
std::string table_teardown(const std::map<std::string, std::vector<std::string>>& chains,
                           const std::map<std::string, std::vector<std::string>>& builtin,
                           const std::string& label, ApplyPlan& plan) {
  std::string decl, tail, del;
  for (const auto& [chain, rules] : builtin)
    for (const std::string& r : rules)
      if (r.find("-j WEFT-") != std::string::npos) {
        tail += "-D " + chain + " " + r + "\n";
        plan.hooks_removed.push_back(label + chain + " " + r);
      }
  for (const auto& [name, r] : chains) {
    decl += ":" + name + " - [0:0]\n";
    del += "-X " + name + "\n";
    plan.chains_removed.push_back(label + name);
  }
  if (decl.empty() && tail.empty()) return "";
  return "*filter\n" + decl + tail + del + "COMMIT\n";
}

}  // namespace

std::vector<std::string> render_chain(const Chain& chain) {
  std::vector<std::string> out{hash_comment(chain)};
  out.insert(out.end(), chain.rules.begin(), chain.rules.end());
  return out;
}

ApplyPlan diff(const DesiredState& desired, const KernelState& kernel) {
  ApplyPlan plan;

  // 1. Sets first: every set a new rule will name exists and is full before the rule does.
  for (const auto& [name, s] : desired.sets) {
    auto k = kernel.sets.find(name);
    if (k == kernel.sets.end()) {
      plan.ipset_restore += create_line(name, s) + fill_lines(name, s);
      plan.sets_created.push_back(name);
    } else if (normalized(k->second.members) != normalized(s.members) || k->second.type != s.type) {
      std::string tmp = tmp_name(name);
      if (kernel.sets.count(tmp)) plan.ipset_restore += "destroy " + tmp + "\n";
      plan.ipset_restore += create_line(tmp, s) + fill_lines(tmp, s) + "swap " + tmp + " " + name +
                            "\n" + "destroy " + tmp + "\n";
      plan.sets_swapped.push_back(name);
    }
  }

  // 2. Chains, IPv4 then IPv6.
  plan.iptables_restore =
      table_script(desired.chains, desired.hooks, kernel.chains, kernel.builtin, "", plan);
  plan.ip6tables_restore =
      table_script(desired.chains6, desired.hooks6, kernel.chains6, kernel.builtin6, "ip6 ", plan);

  // 3. Sets nothing references any more (and leftover temporaries), once the rules are gone.
  for (const auto& [name, s] : kernel.sets) {
    if (desired.sets.count(name)) continue;
    if (is_tmp(name) && plan.ipset_restore.find("create " + name + " ") != std::string::npos)
      continue;  // rebuilt and destroyed by step 1
    plan.ipset_cleanup += "destroy " + name + "\n";
    plan.sets_removed.push_back(name);
  }
  return plan;
}

ApplyPlan teardown(const KernelState& kernel) {
  ApplyPlan plan;
  plan.iptables_restore = table_teardown(kernel.chains, kernel.builtin, "", plan);
  plan.ip6tables_restore = table_teardown(kernel.chains6, kernel.builtin6, "ip6 ", plan);
  for (const auto& [name, s] : kernel.sets) {
    plan.ipset_cleanup += "destroy " + name + "\n";
    plan.sets_removed.push_back(name);
  }
  return plan;
}

}  // namespace weft::npc
