#pragma once
// `weft policy why SRC DST PORT/PROTO`: would this flow be allowed, and why. Evaluated with the
// planner's own predicates (policy_eval.h), so the answer is what the kernel rules enforce.
// Pure.
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "npc/cluster_view.h"
#include "npc/policy_eval.h"

namespace weft::npc {

// One direction's story: egress judged at the source, ingress at the destination.
struct DirectionVerdict {
  bool applies = false;   // the end is a workload (a non-workload end is never isolated by weft)
  bool isolated = false;  // some policy selecting the end has this policyType
  std::vector<std::string> policies;  // those policies ("ns/name"), sorted
  // The policy and rule that admit the flow (the first in name order), when one does.
  std::optional<std::string> admitted_by;
  std::optional<RuleMatch> rule;
  bool allowed() const { return !isolated || admitted_by.has_value(); }
};

struct Explanation {
  bool allowed = false;
  std::string src, dst;  // as resolved: "ns/name (10.32.0.5)" or "192.168.1.1"
  DirectionVerdict egress, ingress;
  std::string text;  // several lines for people (see why.cpp for the form)
};

// SRC and DST are "NS/NAME" (a workload) or an IPv4/IPv6 address (the workload that has it, or a
// non-workload end); protocol "TCP", "UDP" or "SCTP". Throws std::invalid_argument for an
// unknown workload, a workload without an address, or a malformed argument.
Explanation explain(const ClusterView& view, const std::string& src, const std::string& dst,
                    int port, const std::string& protocol);

}  // namespace weft::npc
