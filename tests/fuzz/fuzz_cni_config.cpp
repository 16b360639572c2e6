// libFuzzer target: weft-cni's configuration parser and the whole plugin run on it. The input is
// what a runtime writes to the plugin's stdin (untrusted: any local user able to run a runtime
// with a custom configuration). Oracles: parsing never crashes and throws only CniError; the
// plugin always prints exactly one JSON document, an error result when it exits non-zero; a
// configuration that parses survives a conflist round trip unchanged in what weft reads.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string_view>

#include "cni/cni_config.h"
#include "cni/cni_error.h"
#include "cni/cni_plugin.h"
#include "tests/fuzz/fuzz_common.h"

namespace {

using namespace weft::cni;

struct NullBackend : CniBackend {
  Attachment attach(const WorkloadRequest&) override {
    return {"aa:bb:cc:dd:ee:ff", "", {"10.32.0.5/12"}, "", {{"10.32.0.0/12", ""}}, {}};
  }
  void detach(const WorkloadRequest&) override {}
  void check(const WorkloadRequest&, const Attachment&) override {}
  void gc(const std::string&, const std::vector<AttachmentKey>&) override {}
  void status() override {}
};

void run(const char* command, std::string_view input) {
  PluginOutput out = run_plugin(
      [&](const char* n) -> std::optional<std::string> {
        std::string_view name = n;
        if (name == "CNI_COMMAND") return command;
        if (name == "CNI_CONTAINERID") return "c0ffee";
        if (name == "CNI_NETNS") return "/run/netns/x";
        if (name == "CNI_IFNAME") return "eth0";
        return std::nullopt;
      },
      input, [](const NetConf&) { return std::make_unique<NullBackend>(); });
  auto j = nlohmann::json::parse(out.out, nullptr, false);
  weft::fuzz::require(!j.is_discarded() || out.out.empty());
  if (out.exit_status != 0) weft::fuzz::require(j.is_object() && j.contains("code"));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  try {
    NetConf c = parse_net_conf(input);
    // What weft reads survives being written back as the only plugin of a list.
    NetConf again = parse_net_conf(
        execution_config(parse_conflist(render_conflist(c.name, c.datadir, c.mtu)), 0).dump());
    weft::fuzz::require(again.datadir == c.datadir && again.mtu == c.mtu && again.name == c.name);
  } catch (const CniError&) {
  }
  try {
    (void)parse_conflist(input);
  } catch (const CniError&) {
  }
  for (const char* command : {"ADD", "DEL", "CHECK", "GC", "VERSION"}) run(command, input);
  return 0;
}
