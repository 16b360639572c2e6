#include "npc/desired_state.h"

#include <cstdio>

namespace weft::npc {

std::string short_hash(const std::string& text) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::string Chain::hash() const {
  std::string all = name;
  for (const std::string& r : rules) all += "\n" + r;
  return short_hash(all);
}

}  // namespace weft::npc
