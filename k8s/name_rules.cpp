#include "k8s/name_rules.h"

#include <initializer_list>

namespace weft::k8s {

namespace {

const char* const kLabelFmt = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const char* const kLabelMsg =
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character";
const char* const kSubdomainFmt =
    "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const char* const kSubdomainMsg =
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character";
const char* const kQualifiedFmt = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const char* const kQualifiedMsg =
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character";
const char* const kLabelValueFmt = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";
const char* const kLabelValueMsg =
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character";

// validation.RegexError: "<msg> (e.g. 'a',  or 'b', regex used for validation is '<fmt>')" (the
// double space is Kubernetes' own).
std::string regex_error(const char* msg, const char* fmt, std::initializer_list<const char*> eg) {
  std::string s = msg;
  s += " (e.g. ";
  bool first = true;
  for (const char* e : eg) {
    if (!first) s += " or ";
    first = false;
    s += "'";
    s += e;
    s += "', ";
  }
  return s + "regex used for validation is '" + fmt + "')";
}

std::string max_len_error(size_t n) {
  return "must be no more than " + std::to_string(n) + " characters";
}

bool lower_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
bool alnum(char c) {
  return lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

// `[a-z0-9]([-a-z0-9]*[a-z0-9])?` over s[b, e).
bool is_label(const std::string& s, size_t b, size_t e) {
  if (b >= e || !lower_alnum(s[b]) || !lower_alnum(s[e - 1])) return false;
  for (size_t i = b; i < e; ++i)
    if (!lower_alnum(s[i]) && s[i] != '-') return false;
  return true;
}

bool is_subdomain(const std::string& s) {
  size_t b = 0;
  for (;;) {
    size_t dot = s.find('.', b);
    size_t e = dot == std::string::npos ? s.size() : dot;
    if (!is_label(s, b, e)) return false;
    if (dot == std::string::npos) return true;
    b = dot + 1;
  }
}

// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`
bool is_qualified_name_part(const std::string& s) {
  if (s.empty() || !alnum(s.front()) || !alnum(s.back())) return false;
  for (char c : s)
    if (!alnum(c) && c != '-' && c != '_' && c != '.') return false;
  return true;
}

}  // namespace

std::vector<std::string> dns1123_label_errors(const std::string& value) {
  std::vector<std::string> errs;
  if (value.size() > kDns1123LabelMaxLength) errs.push_back(max_len_error(kDns1123LabelMaxLength));
  if (!is_label(value, 0, value.size())) {
    if (is_subdomain(value))
      errs.push_back("must not contain dots");
    else
      errs.push_back(regex_error(kLabelMsg, kLabelFmt, {"my-name", "123-abc"}));
  }
  return errs;
}

std::vector<std::string> dns1123_subdomain_errors(const std::string& value) {
  std::vector<std::string> errs;
  if (value.size() > kDns1123SubdomainMaxLength)
    errs.push_back(max_len_error(kDns1123SubdomainMaxLength));
  if (!is_subdomain(value))
    errs.push_back(regex_error(kSubdomainMsg, kSubdomainFmt, {"example.com"}));
  return errs;
}

std::vector<std::string> qualified_name_errors(const std::string& value) {
  std::vector<std::string> errs;
  std::string name = value;
  size_t slash = value.find('/');
  if (slash != std::string::npos) {
    if (value.find('/', slash + 1) != std::string::npos) {
      errs.push_back("a qualified name " +
                     regex_error(kQualifiedMsg, kQualifiedFmt, {"MyName", "my.name", "123-abc"}) +
                     " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')");
      return errs;
    }
    std::string prefix = value.substr(0, slash);
    name = value.substr(slash + 1);
    if (prefix.empty()) {
      errs.push_back("prefix part must be non-empty");
    } else {
      for (const std::string& m : dns1123_subdomain_errors(prefix))
        errs.push_back("prefix part " + m);
    }
  }
  if (name.empty())
    errs.push_back("name part must be non-empty");
  else if (name.size() > kQualifiedNameMaxLength)
    errs.push_back("name part " + max_len_error(kQualifiedNameMaxLength));
  if (!is_qualified_name_part(name))
    errs.push_back("name part " +
                   regex_error(kQualifiedMsg, kQualifiedFmt, {"MyName", "my.name", "123-abc"}));
  return errs;
}

std::vector<std::string> label_value_errors(const std::string& value) {
  std::vector<std::string> errs;
  if (value.size() > kLabelValueMaxLength) errs.push_back(max_len_error(kLabelValueMaxLength));
  if (!value.empty() && !is_qualified_name_part(value))
    errs.push_back(regex_error(kLabelValueMsg, kLabelValueFmt, {"MyValue", "my_value", "12345"}));
  return errs;
}

std::vector<std::string> port_name_errors(const std::string& value) {
  std::vector<std::string> errs;
  if (value.size() > kPortNameMaxLength) errs.push_back(max_len_error(kPortNameMaxLength));
  bool charset = !value.empty(), letter = false;
  for (char c : value) {
    if (!lower_alnum(c) && c != '-') charset = false;
    if (c >= 'a' && c <= 'z') letter = true;
  }
  if (!charset)
    errs.push_back("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
  if (!letter) errs.push_back("must contain at least one letter (a-z)");
  if (value.find("--") != std::string::npos) errs.push_back("must not contain consecutive hyphens");
  if (!value.empty() && (value.front() == '-' || value.back() == '-'))
    errs.push_back("must not begin or end with a hyphen");
  return errs;
}

std::vector<std::string> port_number_errors(int64_t port) {
  if (port >= 1 && port <= 65535) return {};
  return {"must be between 1 and 65535, inclusive"};
}

}  // namespace weft::k8s
