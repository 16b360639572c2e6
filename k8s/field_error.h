#pragma once
// One validation failure on one field of a Kubernetes object, formatted exactly as the Kubernetes
// API server formats it (k8s.io/apimachinery/pkg/util/validation/field: `<path>: <type>[:
// <value>][: <detail>]`), so a user sees the message kubectl would have shown:
//
//   spec.ingress[0].ports[1].port: Invalid value: "-http": must not begin or end with a hyphen
//   metadata.name: Required value: name or generateName is required
//   spec.ingress[0].ports[0].protocol: Unsupported value: "ICMP": supported values: "TCP", "UDP",
//   "SCTP"
//
// plus the strict decoder's `unknown field "spec.foo"` (what `kubectl apply` reports when the
// server's field validation is Strict, the default). Pure.
#include <cstdint>
#include <string>
#include <vector>

namespace weft::k8s {

struct FieldError {
  enum Type {
    kInvalid,      // "Invalid value: <value>"
    kRequired,     // "Required value"
    kUnsupported,  // "Unsupported value: <value>" (detail lists the supported ones)
    kTooLong,      // "Too long"
    kForbidden,    // "Forbidden"
    kDuplicate,    // "Duplicate value: <value>"
    kNotFound,     // "Not found: <value>"
    kUnknownField  // strict decoding: `unknown field "<field>"` (no value, no detail)
  };

  std::string field;  // "spec.ingress[0].ports[1].port"
  Type type = kInvalid;
  // The offending value as Go would print it: a string is quoted (`"-http"`), a number or bool
  // is not (`70000`); value_is_string says which. Not printed for Required/Forbidden/TooLong.
  std::string value;
  bool value_is_string = true;
  std::string detail;

  // The API server's line for this error (see the file comment).
  std::string to_string() const;
  bool operator==(const FieldError&) const = default;

  static FieldError invalid(std::string field, std::string value, std::string detail);
  static FieldError invalid_number(std::string field, int64_t value, std::string detail);
  // A value printed as is (a bool, a Go composite literal): `Invalid value: true: ...`.
  static FieldError invalid_raw(std::string field, std::string value, std::string detail);
  static FieldError required(std::string field, std::string detail = {});
  static FieldError forbidden(std::string field, std::string detail);
  // detail = `supported values: "A", "B"` in the order given.
  static FieldError unsupported(std::string field, std::string value,
                                const std::vector<std::string>& supported);
  static FieldError too_long(std::string field, int64_t max_bytes);
  static FieldError duplicate(std::string field, std::string value);
  static FieldError unknown_field(std::string field);
};

using FieldErrors = std::vector<FieldError>;

// Go's %q of a string (strconv.Quote): double quotes, backslash escapes for quotes, backslashes,
// control characters and invalid UTF-8; printable Unicode is kept as is.
std::string go_quote(const std::string& s);

// Every error's to_string(), joined with `sep`.
std::string join_errors(const FieldErrors& errors, const std::string& sep = "\n");

// Field path helpers: child("spec", "ingress") = "spec.ingress" (just "ingress" from an empty
// parent); index("spec.ingress", 0) = "spec.ingress[0]"; key("metadata.labels", "a") =
// "metadata.labels[a]".
std::string child(const std::string& parent, const std::string& name);
std::string index(const std::string& parent, size_t i);
std::string key(const std::string& parent, const std::string& k);

}  // namespace weft::k8s
