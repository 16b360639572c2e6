#include "dns/name.h"

#include <cstdio>

namespace weft::dns {

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
  return out;
}

size_t Name::wire_length() const {
  size_t n = 1;
  for (const auto& l : labels) n += l.size() + 1;
  return n;
}

std::string Name::to_string() const {
  if (labels.empty()) return ".";
  std::string out;
  for (const auto& l : labels) {
    for (char ch : l) {
      auto c = static_cast<unsigned char>(ch);
      if (c == '.' || c == '\\') {
        out += '\\';
        out += ch;
      } else if (c <= 0x20 || c >= 0x7f) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\%03u", unsigned(c));
        out += buf;
      } else {
        out += ch;
      }
    }
    out += '.';
  }
  return out;
}

Name Name::lower() const {
  Name n;
  n.labels.reserve(labels.size());
  for (const auto& l : labels) n.labels.push_back(ascii_lower(l));
  return n;
}

std::string Name::key() const {
  std::string out;
  for (const auto& l : labels) {
    if (!out.empty()) out += '.';
    out += ascii_lower(l);
  }
  return out;
}

bool Name::equals_ci(const Name& other) const {
  return labels.size() == other.labels.size() && ends_with_ci(other);
}

bool Name::ends_with_ci(const Name& suffix) const {
  if (suffix.labels.size() > labels.size()) return false;
  size_t off = labels.size() - suffix.labels.size();
  auto fold = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
  for (size_t i = 0; i < suffix.labels.size(); ++i) {
    const std::string &a = labels[off + i], &b = suffix.labels[i];
    if (a.size() != b.size()) return false;
    for (size_t j = 0; j < a.size(); ++j)
      if (fold(a[j]) != fold(b[j])) return false;
  }
  return true;
}

std::optional<Name> parse_name(std::string_view text) {
  Name n;
  if (!text.empty() && text.back() == '.') text.remove_suffix(1);
  if (text.empty()) return n;
  size_t start = 0;
  while (true) {
    size_t dot = text.find('.', start);
    std::string_view label = text.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (label.empty() || label.size() > kMaxLabelLength) return std::nullopt;
    for (char c : label) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '_' || c == '*';
      if (!ok) return std::nullopt;
    }
    n.labels.emplace_back(label);
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (n.wire_length() > kMaxNameWireLength) return std::nullopt;
  return n;
}

Name reverse_name(uint32_t addr) {
  Name n;
  for (int i = 0; i < 4; ++i) n.labels.push_back(std::to_string((addr >> (8 * i)) & 255));
  n.labels.push_back("in-addr");
  n.labels.push_back("arpa");
  return n;
}

std::optional<uint32_t> parse_reverse_name(const Name& name) {
  if (name.labels.size() != 6 || ascii_lower(name.labels[4]) != "in-addr" ||
      ascii_lower(name.labels[5]) != "arpa")
    return std::nullopt;
  uint32_t addr = 0;
  for (int i = 3; i >= 0; --i) {
    const std::string& l = name.labels[size_t(i)];
    if (l.empty() || l.size() > 3 || (l.size() > 1 && l[0] == '0')) return std::nullopt;
    unsigned v = 0;
    for (char c : l) {
      if (c < '0' || c > '9') return std::nullopt;
      v = v * 10 + unsigned(c - '0');
    }
    if (v > 255) return std::nullopt;
    addr = (addr << 8) | v;
  }
  return addr;
}

}  // namespace weft::dns
