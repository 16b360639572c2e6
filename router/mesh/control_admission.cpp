#include "router/mesh/control_admission.h"

#include <algorithm>

namespace weft {

ControlAdmission::Verdict ControlAdmission::admit(const std::string& source) {
  if (handshaking_ >= limits_.max_handshaking) {
    ++counters_.refused_total_limit;
    return Verdict::kTooManyHandshakes;
  }
  auto it = per_source_.find(source);
  if (it != per_source_.end() && it->second >= limits_.max_handshaking_per_source) {
    ++counters_.refused_per_source_limit;
    return Verdict::kTooManyFromSource;
  }
  ++per_source_[source];
  ++handshaking_;
  ++counters_.accepted;
  return Verdict::kAdmit;
}

void ControlAdmission::finished(const std::string& source) {
  auto it = per_source_.find(source);
  if (it == per_source_.end()) return;
  if (--it->second == 0) per_source_.erase(it);
  --handshaking_;
}

int64_t ControlAdmission::accept_failed(bool out_of_resources) {
  ++counters_.accept_errors;
  if (!out_of_resources) return 0;
  backoff_ms_ = backoff_ms_ == 0 ? limits_.accept_backoff_min_ms
                                 : std::min(limits_.accept_backoff_max_ms, backoff_ms_ * 2);
  return backoff_ms_;
}

}  // namespace weft
