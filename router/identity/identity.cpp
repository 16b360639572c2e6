#include "router/identity/identity.h"

#include <sodium.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "common/atomic_file.h"

namespace weft {

static PeerName random_name() {
  PeerName n = 0;
  while (n == 0) {
    uint8_t b[6];
    randombytes_buf(b, sizeof b);
    for (uint8_t x : b) n = n << 8 | x;
  }
  return n & kPeerNameMask;
}

Identity load_or_create_identity(const std::string& datadir,
                                 const std::optional<std::string>& requested_name,
                                 const std::optional<std::string>& requested_nickname) {
  std::string path = datadir + "/identity.json";
  Identity id;
  bool changed = false;
  if (auto text = read_file(path)) {
    try {
      auto j = nlohmann::json::parse(*text);
      auto n = parse_peer_name(j.at("name").get<std::string>());
      if (!n) throw std::runtime_error("bad name");
      id.name = *n;
      id.nickname = j.value("nickname", "");
    } catch (const std::exception& e) {
      throw std::runtime_error(path + " is corrupt (" + e.what() +
                               "); move it away to give this host a new identity");
    }
  } else {
    id.name = random_name();
    changed = true;
  }
  if (requested_name) {
    auto n = parse_peer_name(*requested_name);
    if (!n || *n == 0)
      throw std::runtime_error("invalid --name '" + *requested_name +
                               "': use six hex bytes like ce:31:e0:06:45:1a");
    changed |= *n != id.name;
    id.name = *n;
  }
  if (requested_nickname && *requested_nickname != id.nickname) {
    id.nickname = *requested_nickname;
    changed = true;
  }
  if (id.nickname.empty()) {
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    id.nickname = host;
    changed = true;
  }
  if (changed) {
    nlohmann::json j = {{"name", format_peer_name(id.name)}, {"nickname", id.nickname}};
    write_file_atomic(path, j.dump(2) + "\n", 0600);
  }
  return id;
}

}  // namespace weft
