#include "npc/kernel_state.h"

#include <sstream>

namespace weft::npc {

namespace {

bool starts_with(std::string_view s, std::string_view p) {
  return s.substr(0, p.size()) == p;
}

std::vector<std::string_view> lines(std::string_view text) {
  std::vector<std::string_view> out;
  size_t b = 0;
  while (b < text.size()) {
    size_t e = text.find('\n', b);
    if (e == std::string_view::npos) e = text.size();
    std::string_view l = text.substr(b, e - b);
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    out.push_back(l);
    b = e + 1;
  }
  return out;
}

}  // namespace

namespace {

void parse_save(std::string_view dump, std::map<std::string, std::vector<std::string>>& chains,
                std::map<std::string, std::vector<std::string>>& builtin) {
  bool filter = false;
  for (std::string_view l : lines(dump)) {
    if (starts_with(l, "*")) {
      filter = l == "*filter";
      continue;
    }
    if (!filter) continue;
    if (starts_with(l, ":")) {
      std::string name(l.substr(
          1, l.find(' ') == std::string_view::npos ? std::string_view::npos : l.find(' ') - 1));
      if (starts_with(name, "WEFT-"))
        chains[name];
      else
        builtin[name];
      continue;
    }
    if (!starts_with(l, "-A ")) continue;
    std::string_view rest = l.substr(3);
    size_t sp = rest.find(' ');
    std::string name(rest.substr(0, sp));
    std::string spec = sp == std::string_view::npos ? "" : std::string(rest.substr(sp + 1));
    (starts_with(name, "WEFT-") ? chains : builtin)[name].push_back(spec);
  }
}

}  // namespace

void parse_iptables_save(std::string_view dump, KernelState& into) {
  parse_save(dump, into.chains, into.builtin);
}

void parse_ip6tables_save(std::string_view dump, KernelState& into) {
  parse_save(dump, into.chains6, into.builtin6);
}

std::string normalize_member(const std::string& member) {
  std::string m = member;
  size_t end = m.find(' ');
  std::string addr = m.substr(0, end), opts = end == std::string::npos ? "" : m.substr(end);
  std::string ip = addr.substr(0, addr.find(','));
  if (ip.size() > 3 && ip.compare(ip.size() - 3, 3, "/32") == 0 &&
      ip.find(':') == std::string::npos)
    addr.erase(ip.size() - 3, 3);
  return addr + opts;
}

void parse_ipset_save(std::string_view dump, KernelState& into) {
  for (std::string_view l : lines(dump)) {
    std::istringstream in{std::string(l)};
    std::string verb, name;
    in >> verb >> name;
    if (!starts_with(name, "weft-")) continue;
    if (verb == "create") {
      IpSet& s = into.sets[name];
      s.name = name;
      in >> s.type;
    } else if (verb == "add") {
      std::string member;
      std::getline(in >> std::ws, member);
      into.sets[name].name = name;
      into.sets[name].members.insert(normalize_member(member));
    }
  }
}

}  // namespace weft::npc
