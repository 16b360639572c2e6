#pragma once
// One run of the weft-cni plugin, from the runtime's input (environment + stdin) to what goes
// to stdout and the exit status, with the work itself behind a CniBackend. No I/O here:
// cni/main.cpp supplies the environment, stdin and the router backend; tests supply fakes.
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "cni/cni_backend.h"
#include "cni/cni_config.h"
#include "cni/cni_request.h"

namespace weft::cni {

struct PluginOutput {
  int exit_status = 0;  // 0 on success, 1 with an error result on stdout
  std::string out;      // for stdout: a JSON document and a newline, or nothing (DEL, CHECK, GC)
};

// Makes the backend for a configuration (the router backend reads `datadir`). Called only for
// commands that need one (not VERSION, not an invalid input).
using BackendFactory = std::function<std::unique_ptr<CniBackend>(const NetConf&)>;

// Runs the command named by CNI_COMMAND:
// - VERSION: the supported versions, in the caller's cniVersion (the newest when none is given).
// - ADD: backend attach; the result in the configuration's cniVersion.
// - DEL: backend detach; nothing on stdout.
// - CHECK: needs prevResult (and cniVersion 0.4.0 or later); backend check against it.
// - GC: detaches what the network attached outside cni.dev/valid-attachments.
// - STATUS: whether the router is there to serve ADD.
// Every failure becomes a CNI error result (code, msg, details) and exit status 1.
PluginOutput run_plugin(const EnvLookup& env, std::string_view stdin_bytes,
                        const BackendFactory& make_backend);

// The WorkloadRequest for an attachment: the runtime's parameters, the workload's name and
// namespace from CNI_ARGS (K8S_POD_NAME, K8S_POD_NAMESPACE), labels from the configuration and
// WEFT_LABELS, requested addresses from the configuration and CNI_ARGS IP. Throws CniError.
WorkloadRequest workload_request(const CniEnv& env, const NetConf& conf);

}  // namespace weft::cni
