#pragma once
// A DNS domain name as its labels (RFC 1035 §3.1), with the case the sender wrote: answers echo
// the question's spelling (RFC 4343 §4.1), lookups compare lower-cased (names are
// case-insensitive). Pure: no I/O.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace weft::dns {

// RFC 1035 §2.3.4: a label is 1..63 bytes, a name at most 255 bytes on the wire.
constexpr size_t kMaxLabelLength = 63;
constexpr size_t kMaxNameWireLength = 255;

struct Name {
  std::vector<std::string> labels;  // without the root; {"web", "weft", "local"}

  // Bytes on the wire without compression: each label plus its length byte, then the root byte.
  size_t wire_length() const;
  // "web.weft.local." ("." for the root); '.', '\\' and bytes outside printable ASCII escaped as
  // in zone files ("\\.", "\\\\", "\\DDD").
  std::string to_string() const;
  // ASCII letters lower-cased (RFC 4343: only A-Z fold).
  Name lower() const;
  // Lower-cased labels joined by '.', no trailing dot, no escaping: a map key. Distinct names
  // may share a key only if a label contains '.', which is why lookups go through Name.
  std::string key() const;
  bool equals_ci(const Name& other) const;
  // This name is `suffix` or below it (case-insensitive).
  bool ends_with_ci(const Name& suffix) const;
  bool operator==(const Name&) const = default;
};

std::string ascii_lower(std::string_view s);

// Text as users and configs give it: "weft.local", "weft.local.", "web.shop" (no escapes; a
// trailing dot is optional; "." or "" is the root). nullopt for an empty label, a label over 63
// bytes, a name over 255 wire bytes, or a byte that is not a letter, digit, '-', '_' or '*'.
std::optional<Name> parse_name(std::string_view text);

// "d.c.b.a.in-addr.arpa." for a.b.c.d (host byte order), and back (nullopt for any other name).
Name reverse_name(uint32_t addr);
std::optional<uint32_t> parse_reverse_name(const Name& name);

}  // namespace weft::dns
