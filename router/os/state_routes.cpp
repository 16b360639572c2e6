// The state API's routes (see state_service.h for the list).
#include <spdlog/spdlog.h>

#include "common/ipv4_cidr.h"
#include "router/os/state_service.h"
#include "state/objects.h"

namespace weft {

using nlohmann::json;
using state::Kind;
using Write = state::StateCore::Write;

namespace {

HttpResponse json_response(int status, const json& j) {
  return {status, "application/json", j.dump()};
}
HttpResponse error_response(int status, const std::string& msg) {
  return json_response(status, {{"error", msg}});
}

json body_json(const HttpRequest& req) {
  try {
    return json::parse(req.body);
  } catch (const json::exception& e) {
    throw state::ObjectError(std::string("the request body is not JSON: ") + e.what());
  }
}

std::string query(const HttpRequest& req, const std::string& k) {
  auto it = req.query.find(k);
  return it == req.query.end() ? "" : it->second;
}

// Runs a handler body, turning refusals into 400s and failed saves into 500s.
template <class F>
void guarded(HttpResponder& respond, F&& f) {
  try {
    f();
  } catch (const state::ObjectError& e) {
    respond(error_response(400, e.what()));
  } catch (const state::StoreError& e) {
    respond(error_response(
        500, std::string("the change could not be saved, nothing changed: ") + e.what()));
  } catch (const json::exception& e) {
    respond(error_response(400, std::string("malformed request: ") + e.what()));
  }
}

state::Labels labels_of(const json& obj) {
  return obj.value("labels", json::object()).get<state::Labels>();
}

}  // namespace

void StateService::add_routes(ModuleRegistry& r) {
  auto route = [&](const char* method, const char* path, ApiAccess access,
                   std::function<void(const HttpRequest&, HttpResponder&)> f) {
    r.add_route({method, path, access, [f](const HttpRequest& req, HttpResponder respond) {
                   guarded(respond, [&] { f(req, respond); });
                 }});
  };
  auto own_workload = [this](const std::string& id) -> const state::Entry* {
    const state::Entry* e =
        core_->table().find(Kind::kWorkload, state::workload_key(cfg_.self, id));
    return e && !e->deleted ? e : nullptr;
  };

  route("GET", "/state", ApiAccess::kRead, [this](const HttpRequest&, HttpResponder& respond) {
    respond(json_response(200, snapshot()));
  });

  route("GET", "/state/watch", ApiAccess::kRead,
        [this](const HttpRequest& req, HttpResponder& respond) {
          std::optional<uint64_t> since;
          if (!query(req, "since").empty() && query(req, "epoch") == epoch_)
            since = std::stoull(query(req, "since"));
          HttpResponse res{200, "application/x-ndjson", ""};
          res.stream = [this, since](std::shared_ptr<HttpStream> stream) {
            std::optional<std::vector<state::Change>> changes;
            if (since) changes = core_->changes_since(*since);
            if (changes) {
              json hello = {{"type", "resume"}, {"revision", core_->revision()}, {"epoch", epoch_}};
              if (!stream->write(hello.dump() + "\n")) return;
              for (const state::Change& c : *changes) {
                json line = {{"type", "change"},
                             {"revision", c.revision},
                             {"kind", state::kind_name(c.kind)},
                             {"key", c.key},
                             {"op", c.deleted ? "delete" : "upsert"}};
                if (!c.deleted) line["object"] = render(c.kind, c.key, c.value);
                if (!stream->write(line.dump() + "\n")) return;
              }
            } else {
              json snap = {{"type", "snapshot"},
                           {"revision", core_->revision()},
                           {"epoch", epoch_},
                           {"state", snapshot()}};
              if (!stream->write(snap.dump() + "\n")) return;
            }
            watchers_.push_back(std::make_shared<Watcher>(Watcher{stream}));
          };
          respond(std::move(res));
        });

  // --- workloads
  route("GET", "/workloads", ApiAccess::kRead,
        [this](const HttpRequest& req, HttpResponder& respond) {
          bool all = query(req, "all") == "1";
          std::string ns = query(req, "namespace");
          json out = json::array();
          for (const state::Entry* e : core_->table().live(Kind::kWorkload)) {
            if (!all && state::workload_owner(e->key) != cfg_.self) continue;
            json w = render(e->kind, e->key, e->value);
            if (!ns.empty() && w.value("namespace", "") != ns) continue;
            out.push_back(w);
          }
          respond(json_response(200, {{"workloads", out}}));
        });
  route("POST", "/workloads", ApiAccess::kAdmin,
        [this, own_workload](const HttpRequest& req, HttpResponder& respond) {
          json w = state::normalize_workload(body_json(req), cfg_.self);
          std::string id = state::workload_id(w);
          const state::Entry* cur = own_workload(id);
          auto changes = core_->write(
              {{Kind::kWorkload, state::workload_key(cfg_.self, id), w.dump()}}, now_());
          respond(json_response(200, {{"result", !cur              ? "created"
                                                 : changes.empty() ? "unchanged"
                                                                   : "configured"},
                                      {"workload", w}}));
        });
  route("POST", "/workloads/delete", ApiAccess::kAdmin,
        [this](const HttpRequest& req, HttpResponder& respond) {
          std::string id = body_json(req).at("id").get<std::string>();
          auto changes = core_->write(
              {{Kind::kWorkload, state::workload_key(cfg_.self, id), std::nullopt}}, now_());
          respond(json_response(200, {{"deleted", !changes.empty()}}));
        });
  route("POST", "/workloads/label", ApiAccess::kAdmin,
        [this, own_workload](const HttpRequest& req, HttpResponder& respond) {
          json body = body_json(req);
          std::string id = body.at("id").get<std::string>();
          const state::Entry* cur = own_workload(id);
          if (!cur)
            return respond(error_response(
                404, "no workload " + id + " is attached on this host; `weft ps` lists them"));
          json w = json::parse(cur->value);
          w["labels"] = state::apply_label_changes(labels_of(w), body);
          w = state::normalize_workload(w, cfg_.self);
          auto changes = core_->write({{Kind::kWorkload, cur->key, w.dump()}}, now_());
          respond(json_response(
              200, {{"result", changes.empty() ? "unchanged" : "labeled"}, {"workload", w}}));
        });

  // --- namespaces
  route("GET", "/namespaces", ApiAccess::kRead, [this](const HttpRequest&, HttpResponder& respond) {
    respond(json_response(200, {{"namespaces", namespaces_json()}}));
  });
  route(
      "POST", "/namespaces/label", ApiAccess::kAdmin,
      [this](const HttpRequest& req, HttpResponder& respond) {
        json body = body_json(req);
        std::string ns = body.at("namespace").get<std::string>();
        state::check_dns1123_label("namespace", ns);
        const json set = body.value("set", json::object());
        if (set.is_object() && set.contains(state::kNamespaceNameLabel))
          throw state::ObjectError(std::string("labels[") + state::kNamespaceNameLabel +
                                   "]: Forbidden: this label is the namespace's name, set by weft");
        const state::Entry* cur = core_->table().find(Kind::kNamespace, ns);
        state::Labels labels;
        if (cur && !cur->deleted) labels = labels_of(json::parse(cur->value));
        labels = state::apply_label_changes(labels, body);
        auto changes =
            core_->write({{Kind::kNamespace, ns, json{{"labels", labels}}.dump()}}, now_());
        respond(json_response(
            200, {{"result", changes.empty() ? "unchanged" : "labeled"},
                  {"namespace", render(Kind::kNamespace, ns, json{{"labels", labels}}.dump())}}));
      });

  // --- policies
  route("GET", "/policies", ApiAccess::kRead,
        [this](const HttpRequest& req, HttpResponder& respond) {
          std::string ns = query(req, "namespace");
          json out = json::array();
          for (const state::Entry* e : core_->table().live(Kind::kPolicy))
            if (ns.empty() || e->key.starts_with(ns + "/"))
              out.push_back(render(e->kind, e->key, e->value));
          respond(json_response(200, {{"policies", out}}));
        });
  route("GET", "/policies/get", ApiAccess::kRead,
        [this](const HttpRequest& req, HttpResponder& respond) {
          std::string name = query(req, "name");
          const state::Entry* e = core_->table().find(Kind::kPolicy, name);
          if (!e || e->deleted)
            return respond(error_response(
                404, "networkpolicy \"" + name + "\" not found; `weft policy list` shows them"));
          respond(json_response(200, {{"policy", render(e->kind, e->key, e->value)}}));
        });
  route("POST", "/policies/apply", ApiAccess::kAdmin,
        [this](const HttpRequest& req, HttpResponder& respond) {
          json body = body_json(req);
          std::vector<Write> writes;
          json results = json::array();
          const json& list = body.at("policies");
          if (!list.is_array()) throw state::ObjectError("policies: expected a list");
          for (size_t i = 0; i < list.size(); ++i) {
            std::string key;
            json p;
            try {
              p = state::normalize_policy(list[i], key);
            } catch (const state::ObjectError& e) {
              throw state::ObjectError("policy " + std::to_string(i + 1) + ": " + e.what());
            }
            for (const Write& w : writes)
              if (w.key == key) throw state::ObjectError("policy " + key + " is given twice");
            const state::Entry* cur = core_->table().find(Kind::kPolicy, key);
            bool exists = cur && !cur->deleted;
            std::string text = p.dump();
            results.push_back({{"name", key},
                               {"result", !exists              ? "created"
                                          : cur->value == text ? "unchanged"
                                                               : "configured"}});
            writes.push_back({Kind::kPolicy, key, text});
          }
          core_->write(writes, now_());
          respond(json_response(200, {{"results", results}}));
        });
  route("POST", "/policies/delete", ApiAccess::kAdmin,
        [this](const HttpRequest& req, HttpResponder& respond) {
          auto names = body_json(req).at("names").get<std::vector<std::string>>();
          std::vector<Write> writes;
          json results = json::array();
          for (const std::string& n : names) {
            const state::Entry* cur = core_->table().find(Kind::kPolicy, n);
            bool exists = cur && !cur->deleted;
            results.push_back({{"name", n}, {"result", exists ? "deleted" : "not found"}});
            if (exists) writes.push_back({Kind::kPolicy, n, std::nullopt});
          }
          core_->write(writes, now_());
          respond(json_response(200, {{"results", results}}));
        });

  // --- DNS records added by hand (cluster-wide, persisted)
  for (const char* path : {"/dns/add", "/dns/remove"}) {
    bool add = std::string(path) == "/dns/add";
    route("POST", path, ApiAccess::kAdmin,
          [this, add](const HttpRequest& req, HttpResponder& respond) {
            json body = body_json(req);
            std::string name = body.at("name").get<std::string>();
            auto ips = body.at("ips").get<std::vector<std::string>>();
            if (name.empty() || name.size() > 253)
              throw state::ObjectError("name: Invalid value: 1 to 253 characters");
            std::vector<Write> writes;
            for (const std::string& ip : ips) {
              if (!parse_ipv4(ip))
                throw state::ObjectError("ips: Invalid value: \"" + ip + "\": not an IPv4 address");
              std::string key = name + "|" + ip;
              if (add)
                writes.push_back({Kind::kDnsRecord, key, json{{"name", name}, {"ip", ip}}.dump()});
              else
                writes.push_back({Kind::kDnsRecord, key, std::nullopt});
            }
            auto changes = core_->write(writes, now_());
            respond(json_response(200, {{"changed", changes.size()}}));
          });
  }
  route("GET", "/dns/records", ApiAccess::kRead,
        [this](const HttpRequest&, HttpResponder& respond) {
          json out = json::array();
          for (const state::Entry* e : core_->table().live(Kind::kDnsRecord))
            out.push_back(render(e->kind, e->key, e->value));
          respond(json_response(200, {{"records", out}}));
        });
}

}  // namespace weft
