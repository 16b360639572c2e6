#pragma once
// Strict decoding of a Kubernetes object from JSON, the way the API server's strict field
// validation decodes it: unknown fields are errors (`unknown field "spec.foo"`), a JSON null is
// the same as an absent field (Go's json leaves a nil pointer, an empty list, an empty string),
// and a value of the wrong JSON type is an error on its field path. Used by the model decoders in
// this directory; pure.
#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "k8s/field_error.h"
#include "k8s/labels.h"

namespace weft::k8s {

// A JSON value as Go's %v would print it in an error (strings unquoted by the caller's choice).
FieldError type_error(const std::string& path, const nlohmann::json& value, const char* expected);

// Reads the fields of one JSON object at `path`. Construction reports every member not in
// `known` as an unknown field; a value that is not an object is a type error and reads as empty.
class ObjectFields {
 public:
  ObjectFields(const nlohmann::json& value, std::string path, FieldErrors& errors,
               std::initializer_list<const char*> known);

  bool is_object() const { return obj_ != nullptr; }
  const std::string& path() const { return path_; }
  // The member's path: path() + "." + name.
  std::string at(const char* name) const { return child(path_, name); }
  // The member, or nullptr when absent or null.
  const nlohmann::json* get(const char* name) const;

  // Typed readers: nullopt when absent or null, or (with an error) when of the wrong type.
  std::optional<std::string> string(const char* name) const;
  std::optional<int64_t> integer(
      const char* name) const;  // any JSON integer; range is the caller's
  // A JSON object's members (absent: nullopt); the member of a wrong type is an error.
  const nlohmann::json* object(const char* name) const;
  // A JSON array's elements (absent or null: empty).
  std::vector<const nlohmann::json*> list(const char* name) const;
  // map[string]string (labels, annotations, matchLabels): nullopt when absent.
  std::optional<Labels> string_map(const char* name) const;
  std::vector<std::string> string_list(const char* name) const;

 private:
  const nlohmann::json* obj_ = nullptr;
  std::string path_;
  FieldErrors& errors_;
};

// A 32-bit integer (Go int32) from a JSON value; a float, a bool or an out-of-range number is a
// type error.
std::optional<int32_t> as_int32(const nlohmann::json& v, const std::string& path,
                                FieldErrors& errors);

}  // namespace weft::k8s
