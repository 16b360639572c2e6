#include "cni/cni_request.h"

#include <algorithm>
#include <cctype>
#include <vector>

#include "cni/cni_config.h"
#include "cni/cni_error.h"

namespace weft::cni {

namespace {

std::optional<CniCommand> command_of(std::string_view s) {
  if (s == "ADD") return CniCommand::kAdd;
  if (s == "DEL") return CniCommand::kDel;
  if (s == "CHECK") return CniCommand::kCheck;
  if (s == "VERSION") return CniCommand::kVersion;
  if (s == "GC") return CniCommand::kGc;
  if (s == "STATUS") return CniCommand::kStatus;
  return std::nullopt;
}

}  // namespace

bool valid_ifname(std::string_view s) {
  if (s.empty() || s.size() > 15 || s == "." || s == "..") return false;
  return std::none_of(s.begin(), s.end(), [](char c) {
    return c == '/' || c == ':' || std::isspace(static_cast<unsigned char>(c)) || c == '\0';
  });
}

void parse_key_values(std::string_view s, char sep, const std::string& what,
                      const std::string& example, size_t max_items,
                      std::map<std::string, std::string>& out) {
  while (!s.empty()) {
    size_t end = s.find(sep);
    std::string_view item = s.substr(0, end);
    s = end == std::string_view::npos ? std::string_view{} : s.substr(end + 1);
    if (item.empty()) continue;
    size_t eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      throw CniError(
          CniCode::kInvalidEnvironment,
          "invalid " + what + ": \"" + std::string(item.substr(0, 64)) + "\" is not KEY=VALUE",
          what + " is a list like " + example);
    }
    std::string key(item.substr(0, eq));
    if (!out.contains(key) && out.size() >= max_items) {
      throw CniError(CniCode::kInvalidEnvironment,
                     "invalid " + what + ": more than " + std::to_string(max_items) + " items");
    }
    out[key] = std::string(item.substr(eq + 1));
  }
}

std::map<std::string, std::string> parse_cni_args(std::string_view s) {
  std::map<std::string, std::string> out;
  // Bounded like everything else from the runtime; real CNI_ARGS carry about five pairs.
  parse_key_values(s, ';', "CNI_ARGS", "K8S_POD_NAME=web;K8S_POD_NAMESPACE=shop", 64, out);
  return out;
}

void check_known_args(const std::map<std::string, std::string>& args) {
  static const char* const kKnown[] = {
      "K8S_POD_NAME", "K8S_POD_NAMESPACE", "K8S_POD_INFRA_CONTAINER_ID",
      "K8S_POD_UID",  "WEFT_LABELS",       "IP",
      "IgnoreUnknown"};
  auto it = args.find("IgnoreUnknown");
  if (it != args.end() && (it->second == "1" || it->second == "true" || it->second == "True")) {
    return;
  }
  for (const auto& [k, v] : args) {
    if (std::find(std::begin(kKnown), std::end(kKnown), k) == std::end(kKnown)) {
      throw CniError(CniCode::kInvalidEnvironment, "CNI_ARGS: unknown argument " + k.substr(0, 64),
                     "weft-cni understands K8S_POD_NAME, K8S_POD_NAMESPACE, WEFT_LABELS and IP; "
                     "add IgnoreUnknown=1 to CNI_ARGS to pass others through");
    }
  }
}

CniEnv read_cni_env(const EnvLookup& env) {
  CniEnv e;
  auto command = env("CNI_COMMAND");
  if (!command || command->empty()) {
    throw CniError(CniCode::kInvalidEnvironment, "CNI_COMMAND is not set",
                   "weft-cni is a CNI plugin: a container runtime (podman, containerd, the "
                   "kubelet) runs it with CNI_COMMAND=ADD, DEL, CHECK, VERSION, GC or STATUS. "
                   "`weft setup-cni` installs it for them; `weft attach` attaches a namespace "
                   "by hand");
  }
  auto c = command_of(*command);
  if (!c) {
    throw CniError(CniCode::kInvalidEnvironment,
                   "CNI_COMMAND=" + command->substr(0, 32) + " is not a CNI command",
                   "weft-cni understands ADD, DEL, CHECK, VERSION, GC and STATUS");
  }
  e.command = *c;
  e.container_id = env("CNI_CONTAINERID").value_or("");
  e.netns = env("CNI_NETNS").value_or("");
  e.ifname = env("CNI_IFNAME").value_or("");
  e.path = env("CNI_PATH").value_or("");
  const bool attachment = e.command == CniCommand::kAdd || e.command == CniCommand::kDel ||
                          e.command == CniCommand::kCheck;
  if (!attachment) return e;

  std::vector<std::string> bad;
  if (!valid_cni_name(e.container_id)) bad.push_back("CNI_CONTAINERID");
  if (e.command != CniCommand::kDel && e.netns.empty()) bad.push_back("CNI_NETNS");
  if (!valid_ifname(e.ifname)) bad.push_back("CNI_IFNAME");
  if (!bad.empty()) {
    std::string names;
    for (const auto& b : bad) {
      if (!names.empty()) names += ", ";
      names += b;
    }
    throw CniError(CniCode::kInvalidEnvironment, "missing or invalid " + names,
                   "CNI_CONTAINERID must start with a letter or digit (then letters, digits, "
                   "'_', '.', '-'); CNI_NETNS is the container's network namespace path; "
                   "CNI_IFNAME an interface name of 1 to 15 characters without '/', ':' or "
                   "spaces");
  }
  if (auto a = env("CNI_ARGS")) e.args = parse_cni_args(*a);
  return e;
}

}  // namespace weft::cni
