#pragma once
// The adapter between the npc core and the kernel: reads weft's chains and sets
// (`iptables-save -t filter`, `ipset save`) and applies an ApplyPlan (`ipset -exist restore`,
// `iptables-restore --noflush --wait=10`, in diff.h's order). Runs those programs; needs
// CAP_NET_ADMIN in the network namespace it acts on.
#include <chrono>
#include <stdexcept>
#include <string>

#include "npc/desired_state.h"
#include "npc/diff.h"
#include "npc/kernel_state.h"

namespace weft::npc {

// A program failed; what() says which, with its first line of complaint.
struct KernelError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

KernelState read_kernel_state();

// Runs the plan's three steps in order; stops at the first failure (KernelError). Each step is
// atomic on its own (one restore transaction), and a failed step leaves the previous state of
// its table or sets in place.
void apply_plan(const ApplyPlan& plan);

struct ReconcileResult {
  ApplyPlan plan;  // what was done (empty: the kernel already matched)
  std::chrono::microseconds read_time{0}, apply_time{0};
};

// Reads the kernel, diffs against `desired`, applies the difference. Call it on every change of
// the desired state and periodically (every few seconds) to repair what others changed.
ReconcileResult reconcile(const DesiredState& desired);

// Removes every weft chain, hook and set (`weft reset`).
void remove_all();

}  // namespace weft::npc
