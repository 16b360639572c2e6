#include "k8s/field_error.h"

#include <cstdio>

namespace weft::k8s {

namespace {

const char* type_name(FieldError::Type t) {
  switch (t) {
    case FieldError::kInvalid:
      return "Invalid value";
    case FieldError::kRequired:
      return "Required value";
    case FieldError::kUnsupported:
      return "Unsupported value";
    case FieldError::kTooLong:
      return "Too long";
    case FieldError::kForbidden:
      return "Forbidden";
    case FieldError::kDuplicate:
      return "Duplicate value";
    case FieldError::kNotFound:
      return "Not found";
    case FieldError::kUnknownField:
      return "unknown field";
  }
  return "Invalid value";
}

// Length of the valid UTF-8 sequence at s[i], or 0 when the bytes there are not one.
size_t utf8_length(const std::string& s, size_t i) {
  auto b = static_cast<unsigned char>(s[i]);
  size_t n = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  uint32_t cp = n == 1 ? b : n == 2 ? (b & 0x1f) : n == 3 ? (b & 0x0f) : (b & 0x07);
  for (size_t k = 1; k < n; ++k) {
    auto c = static_cast<unsigned char>(s[i + k]);
    if ((c >> 6) != 2) return 0;
    cp = (cp << 6) | (c & 0x3f);
  }
  static const uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}

}  // namespace

std::string go_quote(const std::string& s) {
  std::string out = "\"";
  char buf[8];
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t n = utf8_length(s, i);
    if (n == 0) {
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
      ++i;
      continue;
    }
    if (n > 1) {
      // U+0080..U+009F (C1 controls) and U+00A0/U+00AD are the non-printables Go escapes
      // most often; treat C1 controls as \u escapes and keep the rest.
      if (c == 0xc2 && static_cast<unsigned char>(s[i + 1]) < 0xa0) {
        std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned char>(s[i + 1]) & 0xff);
        out += buf;
      } else {
        out.append(s, i, n);
      }
      i += n;
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\a':
        out += "\\a";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\v':
        out += "\\v";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          std::snprintf(buf, sizeof buf, "\\x%02x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  return out + "\"";
}

std::string FieldError::to_string() const {
  if (type == kUnknownField) return "unknown field " + go_quote(field);
  std::string s = field + ": " + type_name(type);
  bool show_value = type != kRequired && type != kForbidden && type != kTooLong;
  if (show_value) s += ": " + (value_is_string ? go_quote(value) : value);
  if (!detail.empty()) s += ": " + detail;
  return s;
}

FieldError FieldError::invalid(std::string field, std::string value, std::string detail) {
  return {std::move(field), kInvalid, std::move(value), true, std::move(detail)};
}
FieldError FieldError::invalid_number(std::string field, int64_t value, std::string detail) {
  return {std::move(field), kInvalid, std::to_string(value), false, std::move(detail)};
}
FieldError FieldError::invalid_raw(std::string field, std::string value, std::string detail) {
  return {std::move(field), kInvalid, std::move(value), false, std::move(detail)};
}
FieldError FieldError::required(std::string field, std::string detail) {
  return {std::move(field), kRequired, "", true, std::move(detail)};
}
FieldError FieldError::forbidden(std::string field, std::string detail) {
  return {std::move(field), kForbidden, "", true, std::move(detail)};
}
FieldError FieldError::unsupported(std::string field, std::string value,
                                   const std::vector<std::string>& supported) {
  std::string d = "supported values: ";
  for (size_t i = 0; i < supported.size(); ++i) d += (i ? ", " : "") + go_quote(supported[i]);
  return {std::move(field), kUnsupported, std::move(value), true, std::move(d)};
}
FieldError FieldError::too_long(std::string field, int64_t max_bytes) {
  return {std::move(field), kTooLong, "", true,
          "must have at most " + std::to_string(max_bytes) + " bytes"};
}
FieldError FieldError::duplicate(std::string field, std::string value) {
  return {std::move(field), kDuplicate, std::move(value), true, ""};
}
FieldError FieldError::unknown_field(std::string field) {
  return {std::move(field), kUnknownField, "", true, ""};
}

std::string join_errors(const FieldErrors& errors, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < errors.size(); ++i) out += (i ? sep : "") + errors[i].to_string();
  return out;
}

std::string child(const std::string& parent, const std::string& name) {
  return parent.empty() ? name : parent + "." + name;
}
std::string index(const std::string& parent, size_t i) {
  return parent + "[" + std::to_string(i) + "]";
}
std::string key(const std::string& parent, const std::string& k) {
  return parent + "[" + k + "]";
}

}  // namespace weft::k8s
