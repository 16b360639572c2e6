#pragma once
// Which inbound control connections a router takes on before they authenticate, without I/O
// (issue 10: 5,000 idle TCP connections to port 6783 cost 300 MB that never came back, and at
// 20,000 the accept loop spun on EMFILE). The listener (router/os/control_listener.h) asks
// admit() for each accepted socket and closes it at once when refused; it reports the end of
// the handshake (established, failed or timed out: MeshCore closes those after
// MeshConfig::handshake_timeout_ms) with finished(). Established connections are not limited
// here: they proved the cluster secret.
//
// It also paces the accept loop: after an accept error that says the process or system is out
// of descriptors or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM), accepting again at once would
// fail again at once, so accept_failed() returns a growing pause.
#include <cstdint>
#include <map>
#include <string>

namespace weft {

struct ControlAdmissionLimits {
  // Handshakes in progress at once, from anywhere: a mesh of a few hundred peers restarting
  // together still fits; with the 8 s handshake timeout an attacker holds the door for at most
  // that long per slot.
  size_t max_handshaking = 256;
  // From one source address: a peer has one connection to us (two while simultaneous dials
  // collapse), so 8 leaves room for NAT'd hosts sharing an address and stops one host filling
  // the global limit.
  size_t max_handshaking_per_source = 8;
  int64_t accept_backoff_min_ms = 10;
  int64_t accept_backoff_max_ms = 1000;
};

struct ControlAdmissionCounters {
  uint64_t accepted = 0;
  uint64_t refused_total_limit = 0;       // max_handshaking reached
  uint64_t refused_per_source_limit = 0;  // max_handshaking_per_source reached
  uint64_t accept_errors = 0;             // accept() failed (EMFILE...)
};

class ControlAdmission {
 public:
  explicit ControlAdmission(ControlAdmissionLimits limits = {}) : limits_(limits) {}

  enum class Verdict { kAdmit, kTooManyHandshakes, kTooManyFromSource };
  // An accepted connection from `source` (an address without port): kAdmit counts it as
  // handshaking until finished(source); any other verdict changes nothing but the counters.
  Verdict admit(const std::string& source);
  // A connection admitted from `source` finished its handshake (either way). Calls for a
  // source with nothing handshaking are ignored.
  void finished(const std::string& source);

  // accept() failed; `out_of_resources` for EMFILE/ENFILE/ENOBUFS/ENOMEM. Returns how long to
  // wait before accepting again: 0 for other errors, else a pause that doubles with each
  // consecutive failure, from accept_backoff_min_ms to accept_backoff_max_ms.
  int64_t accept_failed(bool out_of_resources);
  // accept() succeeded: the next resource failure starts the pause from the minimum again.
  void accept_succeeded() { backoff_ms_ = 0; }

  size_t handshaking() const { return handshaking_; }
  size_t sources() const { return per_source_.size(); }  // bounded by max_handshaking
  const ControlAdmissionCounters& counters() const { return counters_; }
  const ControlAdmissionLimits& limits() const { return limits_; }

 private:
  ControlAdmissionLimits limits_;
  size_t handshaking_ = 0;
  std::map<std::string, size_t> per_source_;  // only sources with handshakes in progress
  int64_t backoff_ms_ = 0;
  ControlAdmissionCounters counters_;
};

}  // namespace weft
