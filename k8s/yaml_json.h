#pragma once
// YAML (and JSON, which is YAML) text to JSON values, one per document, as kubectl reads a
// manifest (sigs.k8s.io/yaml over go-yaml v2): plain scalars resolve as YAML 1.1 does (`yes`,
// `on`, `true` are booleans; `80`, `0x50`, `1_000` integers; `~`, `null` and nothing are null);
// quoted scalars are strings; an integral float becomes an integer (Go's JSON encoder writes 80.0
// as 80); keys are strings; a key repeated in one mapping is an error. Untrusted input: the text,
// the number of documents, the nesting depth and the nodes produced (aliases included: no
// "billion laughs") are bounded, and every violation is a YamlError, never a crash. Pure.
#include <cstddef>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace weft::k8s {

struct YamlLimits {
  size_t max_bytes = 4 << 20;     // a 1,000-policy file is ~1 MiB
  size_t max_documents = 10'000;  // counting empty ones
  size_t max_depth = 64;          // a NetworkPolicy nests 7 deep
  size_t max_nodes = 1'000'000;   // every scalar, sequence and mapping produced, aliases expanded
};

// what(): "line L, column C: <what is wrong>" (1-based), or a sentence for a limit.
struct YamlError : std::runtime_error {
  YamlError(int line_, int column_, const std::string& msg);
  int line = 0, column = 0;  // 0 = not tied to a position
};

struct YamlDocument {
  nlohmann::json value;  // null for an empty document
  int line = 0;          // 1-based line of the document's first node (0 when empty)
};

// Every document in `text`, in order. Throws YamlError on a syntax error or a limit.
std::vector<YamlDocument> parse_yaml_documents(std::string_view text,
                                               const YamlLimits& limits = {});

// How a plain (unquoted) scalar resolves: null, bool, integer, float or string.
nlohmann::json resolve_plain_scalar(const std::string& text);

// Block-style YAML for a JSON value, quoting every string that would read back as something
// else (so parse_yaml_documents(to_yaml(v)) gives v back).
std::string to_yaml(const nlohmann::json& value);

}  // namespace weft::k8s
