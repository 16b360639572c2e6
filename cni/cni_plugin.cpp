#include "cni/cni_plugin.h"

#include "cni/cni_error.h"
#include "cni/cni_result.h"
#include "cni/cni_version.h"
#include "common/ipv4_cidr.h"

namespace weft::cni {

namespace {

constexpr const char* kDefaultNamespace = "default";
constexpr size_t kDefaultNameLength = 12;  // a short container id, as `podman ps` shows it

PluginOutput ok(const nlohmann::json& j) {
  return {0, j.dump() + "\n"};
}

void run_command(const CniEnv& env, const NetConf& conf, const BackendFactory& make_backend,
                 PluginOutput& out) {
  switch (env.command) {
    case CniCommand::kAdd: {
      WorkloadRequest req = workload_request(env, conf);
      Attachment a = make_backend(conf)->attach(req);
      out =
          ok(render_result(conf.cni_version, env.ifname, env.netns, a, conf.dns, conf.prev_result));
      return;
    }
    case CniCommand::kDel: {
      WorkloadRequest req = workload_request(env, conf);
      make_backend(conf)->detach(req);
      return;
    }
    case CniCommand::kCheck: {
      if (compare_versions(conf.cni_version, "0.4.0") < 0) {
        throw CniError(CniCode::kIncompatibleVersion,
                       "CHECK needs cniVersion 0.4.0 or later, not " + conf.cni_version);
      }
      if (!conf.prev_result) {
        throw CniError(CniCode::kInvalidNetworkConfig, "CHECK without prevResult",
                       "the runtime must pass the result of the container's ADD as prevResult");
      }
      WorkloadRequest req = workload_request(env, conf);
      Attachment expected = parse_result(*conf.prev_result, env.ifname);
      make_backend(conf)->check(req, expected);
      return;
    }
    case CniCommand::kGc: {
      if (!conf.valid_attachments) {
        throw CniError(CniCode::kInvalidNetworkConfig, "GC without cni.dev/valid-attachments",
                       "the runtime lists the attachments to keep; weft-cni removes the others");
      }
      make_backend(conf)->gc(conf.name, *conf.valid_attachments);
      return;
    }
    case CniCommand::kStatus:
      make_backend(conf)->status();
      return;
    case CniCommand::kVersion:
      return;  // answered before the configuration is parsed
  }
}

}  // namespace

WorkloadRequest workload_request(const CniEnv& env, const NetConf& conf) {
  check_known_args(env.args);
  WorkloadRequest r;
  r.container_id = env.container_id;
  r.netns_path = env.netns;
  r.ifname = env.ifname;
  r.network = conf.name;
  auto arg = [&](const char* k) {
    auto it = env.args.find(k);
    return it == env.args.end() ? std::string() : it->second;
  };
  r.name = arg("K8S_POD_NAME");
  if (r.name.empty()) r.name = env.container_id.substr(0, kDefaultNameLength);
  r.namespace_ = arg("K8S_POD_NAMESPACE");
  if (r.namespace_.empty()) r.namespace_ = kDefaultNamespace;
  r.labels = conf.labels;
  parse_key_values(arg("WEFT_LABELS"), ',', "CNI_ARGS WEFT_LABELS", "app=web,tier=front",
                   kMaxLabels, r.labels);
  r.mtu = conf.mtu;
  r.requested = conf.requested;
  if (std::string ip = arg("IP"); !ip.empty()) {
    try {
      (void)parse_ipv4_cidr(ip, 32);
    } catch (const std::invalid_argument& e) {
      throw CniError(CniCode::kInvalidEnvironment,
                     "CNI_ARGS: IP=" + ip.substr(0, 64) + ": " + e.what());
    }
    r.requested.push_back(ip);
  }
  return r;
}

PluginOutput run_plugin(const EnvLookup& env, std::string_view stdin_bytes,
                        const BackendFactory& make_backend) {
  // Errors answer in the caller's version when it named one we can read.
  std::string version = peek_cni_version(stdin_bytes).value_or(kNewestVersion);
  if (version.size() > 32) version = kNewestVersion;
  PluginOutput out;
  try {
    CniEnv e = read_cni_env(env);
    if (e.command == CniCommand::kVersion) return ok(render_version(version));
    NetConf conf = parse_net_conf(stdin_bytes);
    run_command(e, conf, make_backend, out);
  } catch (const CniError& err) {
    return {1, render_error(version, err).dump() + "\n"};
  } catch (const std::exception& err) {
    return {
        1, render_error(version, CniError(CniCode::kWeftRefused,
                                          std::string("weft-cni: unexpected error: ") + err.what()))
                   .dump() +
               "\n"};
  }
  return out;
}

}  // namespace weft::cni
