#pragma once
// The cluster domain's names, from the cluster state (issue 11): what the router's DNS zone
// holds is a function of its replica of the state, kept up to date change by change.
//
//   workload {"name": "web", "namespace": "default", "ips": ["10.32.0.5/12", ...]}
//       -> web.DOMAIN (namespace default) or web.NS.DOMAIN, with every address,
//          under the key "workload:HOST/ID"
//   dns_record {"name": "db", "ip": "10.32.0.9"} (one entry per name and address, `dns-add`)
//       -> db.DOMAIN with every address added to that name, under the key "manual:db"
//
// A workload's key is its state key, so a detach, `weft rmpeer` or a host gone for good (all
// tombstones in the state) takes exactly that workload's addresses away, whoever else shares
// the name: nothing stale stays (weave #821, #3432). A workload without a name, and a name the
// zone refuses (outside the domain, e.g. a record added on a router with another
// --dns-domain), have no entry; they are counted in skipped(). Pure: no I/O.
#include <cstdint>
#include <string>

#include "dns/zone.h"
#include "state/object_table.h"
#include "state/state_core.h"

namespace weft {

class DnsZoneFeed {
 public:
  // `zone` outlives the feed.
  explicit DnsZoneFeed(dns::DnsZone& zone) : zone_(zone) {}

  // Makes the zone exactly what `table` says.
  void load(const state::ObjectTable& table);
  // Follows one change; `table` is the state after it. Kinds without names are ignored.
  void apply(const state::Change& c, const state::ObjectTable& table);
  // Objects that gave no name (see above), counted at each load or apply that saw them.
  uint64_t skipped() const { return skipped_; }

 private:
  void workload(const std::string& key, const std::string& value);
  // Recomputes the hand-added name of the record `key` ("NAME|IP") from the table.
  void manual(const std::string& record_key, const state::ObjectTable& table);

  dns::DnsZone& zone_;
  uint64_t skipped_ = 0;
};

}  // namespace weft
