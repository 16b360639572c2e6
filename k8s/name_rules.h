#pragma once
// The string rules of k8s.io/apimachinery/pkg/util/validation, with the API server's messages:
// each function returns the messages a value breaks (empty = valid), which callers attach to a
// field as FieldError::invalid(path, value, message). The checks are written by hand (no regex
// engine): each documents the expression Kubernetes uses and quotes it in its message. Pure.
#include <cstdint>
#include <string>
#include <vector>

namespace weft::k8s {

// Kubernetes' limits (validation.go): a DNS-1123 label, a label value and the name part of a
// qualified name are at most 63 characters; a DNS-1123 subdomain at most 253; an IANA service
// (port) name at most 15.
inline constexpr size_t kDns1123LabelMaxLength = 63;
inline constexpr size_t kDns1123SubdomainMaxLength = 253;
inline constexpr size_t kQualifiedNameMaxLength = 63;
inline constexpr size_t kLabelValueMaxLength = 63;
inline constexpr size_t kPortNameMaxLength = 15;

// IsDNS1123Label: `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, at most 63 characters (namespaces, namespace
// names of objects; "must not contain dots" for a valid subdomain that is not a label).
std::vector<std::string> dns1123_label_errors(const std::string& value);
// IsDNS1123Subdomain: dot-separated DNS-1123 labels, at most 253 characters (NetworkPolicy names,
// label key prefixes).
std::vector<std::string> dns1123_subdomain_errors(const std::string& value);
// IsQualifiedName: `[prefix/]name`, prefix a DNS-1123 subdomain, name
// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]` of at most 63 characters (label keys).
std::vector<std::string> qualified_name_errors(const std::string& value);
// IsValidLabelValue: empty, or like a qualified name's name part; at most 63 characters.
std::vector<std::string> label_value_errors(const std::string& value);
// IsValidPortName (IANA_SVC_NAME, RFC 6335): 1-15 of [-a-z0-9], at least one letter, no "--",
// no hyphen at either end.
std::vector<std::string> port_name_errors(const std::string& value);
// IsValidPortNum: 1..65535.
std::vector<std::string> port_number_errors(int64_t port);

}  // namespace weft::k8s
