// `weft policy apply` input on arbitrary bytes: YAML/JSON documents through
// parse_policy_documents. Oracles: nothing but PolicyInputError is thrown, nothing crashes or
// runs away (the limits of yaml_json.h), and every accepted policy round-trips: its canonical
// JSON, printed and parsed again, decodes to an equal policy, and so does its YAML rendering.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_common.h"
#include "k8s/policy_documents.h"

using namespace weft::k8s;
using weft::fuzz::require;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  PolicyDocuments docs;
  try {
    docs = parse_policy_documents(text, "default");
  } catch (const PolicyInputError&) {
    return 0;
  }
  for (const NetworkPolicy& p : docs.policies) {
    nlohmann::json j = to_json(p);
    NetworkPolicy back = network_policy_from_json(nlohmann::json::parse(j.dump()));
    require(back == p);
    require(back.ingress == p.ingress && back.egress == p.egress);
    require(back.pod_selector == p.pod_selector);
    PolicyDocuments again = parse_policy_documents(to_yaml(j));
    require(again.policies.size() == 1 && again.policies[0] == p);
  }
  return 0;
}
