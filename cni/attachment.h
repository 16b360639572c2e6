#pragma once
// What weft-cni asks the local router for and what the router did, independent of the CNI
// version on either side: `cni_plugin` builds a WorkloadRequest from the runtime's input, a
// CniBackend turns it into an Attachment, and `cni_result` renders that for the runtime.
#include <map>
#include <string>
#include <vector>

namespace weft::cni {

// One container to put on the overlay (CNI ADD), as the runtime described it.
struct WorkloadRequest {
  std::string container_id;  // CNI_CONTAINERID: the router keys the workload (and IPAM) by it
  std::string netns_path;    // CNI_NETNS; may be empty for DEL
  std::string ifname;        // CNI_IFNAME: the interface created inside the container
  std::string network;       // the configuration's "name" (e.g. "weft")
  std::string name;          // K8S_POD_NAME, else the first 12 characters of the container id
  std::string namespace_;    // K8S_POD_NAMESPACE, else "default"
  std::map<std::string, std::string> labels;
  int mtu = 0;                         // 0: the router's overlay MTU
  std::vector<std::string> requested;  // addresses asked for ("10.32.1.5/12" or "10.32.1.5")
  bool operator==(const WorkloadRequest&) const = default;
};

struct Route {
  std::string dst;  // CIDR
  std::string gw;   // "" when the route is on-link
  bool operator==(const Route&) const = default;
};

struct Dns {
  std::vector<std::string> nameservers;
  std::string domain;
  std::vector<std::string> search;
  std::vector<std::string> options;
  bool empty() const {
    return nameservers.empty() && domain.empty() && search.empty() && options.empty();
  }
  bool operator==(const Dns&) const = default;
};

// What the router set up for one container.
struct Attachment {
  std::string mac;               // of the interface inside the container
  std::string host_ifname;       // the host end of the veth; "" when the router does not say
  std::vector<std::string> ips;  // CIDR, e.g. "10.32.1.5/12"
  std::string gateway;           // "" when there is none (weft routes the range on-link)
  std::vector<Route> routes;     // e.g. the overlay range
  Dns dns;                       // weft DNS, when enabled
  bool operator==(const Attachment&) const = default;
};

// One entry of GC's cni.dev/valid-attachments.
struct AttachmentKey {
  std::string container_id;
  std::string ifname;
  bool operator==(const AttachmentKey&) const = default;
};

}  // namespace weft::cni
