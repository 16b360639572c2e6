// weft-cni's protocol side (cni/cni_plugin, cni_config, cni_request, cni_result): what a runtime
// sends in, what it gets back, against golden JSON shaped by CNI spec 1.0.0 (and 0.4.0 for old
// configurations). The backend is an in-memory fake that records what it was asked.
#include <doctest/doctest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <optional>

#include "cni/attach_api.h"
#include "cni/cni_config.h"
#include "cni/cni_error.h"
#include "cni/cni_plugin.h"
#include "cni/cni_result.h"

using nlohmann::json;
using namespace weft::cni;

namespace {

struct FakeBackend : CniBackend {
  std::vector<std::string> calls;
  std::optional<WorkloadRequest> last;
  std::optional<Attachment> checked;
  std::vector<AttachmentKey> gc_valid;
  std::optional<CniError> fail;
  Attachment answer{
      "0a:58:0a:20:00:05", "vethwe1234abcd", {"10.32.0.5/12"}, "", {{"10.32.0.0/12", ""}}, {}};

  void maybe_fail() {
    if (fail) throw *fail;
  }
  Attachment attach(const WorkloadRequest& r) override {
    calls.push_back("attach");
    last = r;
    maybe_fail();
    return answer;
  }
  void detach(const WorkloadRequest& r) override {
    calls.push_back("detach");
    last = r;
    maybe_fail();
  }
  void check(const WorkloadRequest& r, const Attachment& e) override {
    calls.push_back("check");
    last = r;
    checked = e;
    maybe_fail();
  }
  void gc(const std::string&, const std::vector<AttachmentKey>& valid) override {
    calls.push_back("gc");
    gc_valid = valid;
    maybe_fail();
  }
  void status() override {
    calls.push_back("status");
    maybe_fail();
  }
};

struct Run {
  std::map<std::string, std::string> env;
  FakeBackend backend;
  PluginOutput out;
  json result;

  PluginOutput& operator()(const std::string& stdin_text) {
    out = run_plugin(
        [&](const char* n) -> std::optional<std::string> {
          auto it = env.find(n);
          if (it == env.end()) return std::nullopt;
          return it->second;
        },
        stdin_text,
        [&](const NetConf&) -> std::unique_ptr<CniBackend> {
          // A non-owning wrapper so the test keeps inspecting the fake afterwards.
          struct Ref : CniBackend {
            FakeBackend& b;
            explicit Ref(FakeBackend& f) : b(f) {}
            Attachment attach(const WorkloadRequest& r) override { return b.attach(r); }
            void detach(const WorkloadRequest& r) override { b.detach(r); }
            void check(const WorkloadRequest& r, const Attachment& e) override { b.check(r, e); }
            void gc(const std::string& n, const std::vector<AttachmentKey>& v) override {
              b.gc(n, v);
            }
            void status() override { b.status(); }
          };
          return std::make_unique<Ref>(backend);
        });
    result = out.out.empty() ? json() : json::parse(out.out);
    return out;
  }
};

std::map<std::string, std::string> add_env(const char* command = "ADD") {
  return {{"CNI_COMMAND", command},
          {"CNI_CONTAINERID", "3f6940ab5ab43bc522569d15b23f8c1b"},
          {"CNI_NETNS", "/run/netns/cni-1234"},
          {"CNI_IFNAME", "eth0"},
          {"CNI_PATH", "/usr/lib/cni"}};
}

const char* kConf = R"({"cniVersion": "1.0.0", "name": "weft", "type": "weft-cni",
                        "datadir": "/var/lib/weft"})";

}  // namespace

TEST_CASE("cni VERSION: the supported versions, in the caller's cniVersion") {
  Run run;
  run.env = {{"CNI_COMMAND", "VERSION"}};
  run(R"({"cniVersion": "0.4.0"})");
  CHECK(run.out.exit_status == 0);
  CHECK(run.out.out ==
        R"({"cniVersion":"0.4.0","supportedVersions":["0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]})"
        "\n");
  run("");  // a runtime may send nothing: answer in the newest version
  CHECK(run.result["cniVersion"] == "1.1.0");
  CHECK(run.backend.calls.empty());
}

TEST_CASE("cni ADD: golden 1.0.0 result; the workload request carries name, namespace, labels") {
  Run run;
  run.env = add_env();
  run.env["CNI_ARGS"] =
      "IgnoreUnknown=1;K8S_POD_NAMESPACE=shop;K8S_POD_NAME=web-0;K8S_POD_INFRA_CONTAINER_ID=x;"
      "WEFT_LABELS=app=web,tier=front";
  run(R"({"cniVersion": "1.0.0", "name": "weft", "type": "weft-cni", "mtu": 1400,
          "args": {"cni": {"labels": [{"key": "team", "value": "blue"}]}}})");
  REQUIRE(run.out.exit_status == 0);
  CHECK(run.out.out ==
        R"({"cniVersion":"1.0.0","dns":{},)"
        R"("interfaces":[{"name":"vethwe1234abcd"},)"
        R"({"mac":"0a:58:0a:20:00:05","name":"eth0","sandbox":"/run/netns/cni-1234"}],)"
        R"("ips":[{"address":"10.32.0.5/12","interface":1}],)"
        R"("routes":[{"dst":"10.32.0.0/12"}]})"
        "\n");
  REQUIRE(run.backend.last);
  const WorkloadRequest& r = *run.backend.last;
  CHECK(r.container_id == "3f6940ab5ab43bc522569d15b23f8c1b");
  CHECK(r.netns_path == "/run/netns/cni-1234");
  CHECK(r.ifname == "eth0");
  CHECK(r.network == "weft");
  CHECK(r.name == "web-0");
  CHECK(r.namespace_ == "shop");
  CHECK(r.labels ==
        std::map<std::string, std::string>{{"app", "web"}, {"team", "blue"}, {"tier", "front"}});
  CHECK(r.mtu == 1400);
}

TEST_CASE("cni ADD: a 0.4.0 configuration gets IPs labelled with their version, and DNS") {
  Run run;
  run.env = add_env();
  run.backend.answer.gateway = "10.32.0.1";
  run.backend.answer.dns.nameservers = {"10.32.0.1"};
  run(R"({"cniVersion": "0.4.0", "name": "weft", "type": "weft-cni",
          "dns": {"search": ["weft.local"]}})");
  REQUIRE(run.out.exit_status == 0);
  CHECK(run.result["ips"] == json::parse(R"([{"address": "10.32.0.5/12", "gateway": "10.32.0.1",
                                              "interface": 1, "version": "4"}])"));
  CHECK(run.result["dns"] ==
        json::parse(R"({"nameservers": ["10.32.0.1"], "search": ["weft.local"]})"));
}

TEST_CASE("cni ADD: defaults without CNI_ARGS; requested addresses in order of precedence") {
  Run run;
  run.env = add_env();
  run.env["CNI_ARGS"] = "IP=10.32.9.9";
  run(R"({"cniVersion": "1.0.0", "name": "weft", "type": "weft-cni",
          "ipam": {"type": "weft", "addresses": ["10.32.1.1/12"]},
          "runtimeConfig": {"ips": ["10.32.2.2/12"]}})");
  REQUIRE(run.out.exit_status == 0);
  const WorkloadRequest& r = *run.backend.last;
  CHECK(r.name == "3f6940ab5ab4");
  CHECK(r.namespace_ == "default");
  CHECK(r.requested == std::vector<std::string>{"10.32.2.2/12", "10.32.1.1/12", "10.32.9.9"});
  CHECK(attach_body(r) == json::parse(R"({"container_id": "3f6940ab5ab43bc522569d15b23f8c1b",
      "netns_path": "/run/netns/cni-1234", "ifname": "eth0", "network": "weft",
      "name": "3f6940ab5ab4", "namespace": "default", "labels": {},
      "ips": ["10.32.2.2/12", "10.32.1.1/12", "10.32.9.9"]})"));
}

TEST_CASE("cni ADD chained after another plugin keeps the previous result") {
  Run run;
  run.env = add_env();
  run(R"({"cniVersion": "1.0.0", "name": "weft", "type": "weft-cni",
          "prevResult": {"cniVersion": "1.0.0", "interfaces": [{"name": "lo", "sandbox": "/x"}],
                         "ips": [{"address": "127.0.0.1/8", "interface": 0}],
                         "dns": {"nameservers": ["9.9.9.9"]}}})");
  REQUIRE(run.out.exit_status == 0);
  CHECK(run.result["interfaces"].size() == 3);
  CHECK(run.result["ips"][1] == json::parse(R"({"address": "10.32.0.5/12", "interface": 2})"));
  CHECK(run.result["dns"]["nameservers"] == json::parse(R"(["9.9.9.9"])"));
}

TEST_CASE("cni errors: golden error results with codes and actionable messages") {
  SUBCASE("weft not running: code 11, the `weft launch` hint, passed through from the backend") {
    Run run;
    run.env = add_env();
    run.backend.fail = CniError(CniCode::kTryAgainLater,
                                "weft is not running on this host: start it with `weft launch`",
                                "no weft router is listening at /var/lib/weft/api.sock");
    run(kConf);
    CHECK(run.out.exit_status == 1);
    CHECK(run.out.out ==
          R"({"cniVersion":"1.0.0","code":11,"details":"no weft router is listening at )"
          R"(/var/lib/weft/api.sock","msg":"weft is not running on this host: start it with )"
          R"(`weft launch`"})"
          "\n");
  }
  SUBCASE("unknown CNI version: code 1, answered in the caller's version") {
    Run run;
    run.env = add_env();
    run(R"({"cniVersion": "9.9.9", "name": "weft", "type": "weft-cni"})");
    CHECK(run.out.exit_status == 1);
    CHECK(run.result["code"] == 1);
    CHECK(run.result["cniVersion"] == "9.9.9");
    CHECK(run.result["msg"] == "incompatible CNI version 9.9.9");
    CHECK(run.backend.calls.empty());
  }
  SUBCASE("malformed configuration: code 6") {
    Run run;
    run.env = add_env();
    run("{\"cniVersion\": \"1.0.0\", ");
    CHECK(run.result["code"] == 6);
    CHECK(run.result["cniVersion"] == "1.1.0");
    CHECK(run.backend.calls.empty());
  }
  SUBCASE("a wrong value: code 7 naming the key") {
    Run run;
    run.env = add_env();
    run(R"({"cniVersion": "1.0.0", "name": "weft", "type": "weft-cni", "mtu": "big"})");
    CHECK(run.result["code"] == 7);
    CHECK(run.result["msg"].get<std::string>().find("\"mtu\"") != std::string::npos);
  }
  SUBCASE("another IPAM plugin: code 2 naming key and value") {
    Run run;
    run.env = add_env();
    run(R"({"cniVersion": "1.0.0", "name": "weft", "type": "weft-cni",
            "ipam": {"type": "host-local"}})");
    CHECK(run.result["code"] == 2);
    CHECK(run.result["msg"] == "unsupported field in network configuration: ipam.type=host-local");
  }
  SUBCASE("missing environment: code 4 naming every variable") {
    Run run;
    run.env = {{"CNI_COMMAND", "ADD"}, {"CNI_IFNAME", "a/b"}};
    run(kConf);
    CHECK(run.result["code"] == 4);
    CHECK(run.result["msg"] == "missing or invalid CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME");
  }
  SUBCASE("unknown CNI_ARGS without IgnoreUnknown: code 4 naming it") {
    Run run;
    run.env = add_env();
    run.env["CNI_ARGS"] = "K8S_POD_NAME=a;FOO=bar";
    run(kConf);
    CHECK(run.result["code"] == 4);
    CHECK(run.result["msg"] == "CNI_ARGS: unknown argument FOO");
    CHECK(run.backend.calls.empty());
  }
  SUBCASE("no CNI_COMMAND: a person ran it; the message says what weft-cni is") {
    Run run;
    run("");
    CHECK(run.result["code"] == 4);
    CHECK(run.result["details"].get<std::string>().find("weft setup-cni") != std::string::npos);
  }
}

TEST_CASE("cni DEL: no output; netns is optional; a backend failure is reported") {
  Run run;
  run.env = add_env("DEL");
  run.env.erase("CNI_NETNS");
  run(kConf);
  CHECK(run.out.exit_status == 0);
  CHECK(run.out.out.empty());
  CHECK(run.backend.calls == std::vector<std::string>{"detach"});
  CHECK(run.backend.last->container_id == "3f6940ab5ab43bc522569d15b23f8c1b");
}

TEST_CASE("cni CHECK: compares against prevResult's container interface; needs it") {
  Run run;
  run.env = add_env("CHECK");
  run(R"({"cniVersion": "1.0.0", "name": "weft", "type": "weft-cni", "prevResult": {
      "cniVersion": "1.0.0",
      "interfaces": [{"name": "vethwe1"}, {"name": "eth0", "mac": "aa:bb:cc:dd:ee:ff",
                                           "sandbox": "/run/netns/cni-1234"}],
      "ips": [{"address": "10.32.0.5/12", "interface": 1}, {"address": "1.2.3.4/8", "interface": 0}],
      "routes": [{"dst": "10.32.0.0/12"}]}})");
  CHECK(run.out.exit_status == 0);
  CHECK(run.out.out.empty());
  REQUIRE(run.backend.checked);
  CHECK(*run.backend.checked ==
        Attachment{"aa:bb:cc:dd:ee:ff", "", {"10.32.0.5/12"}, "", {{"10.32.0.0/12", ""}}, {}});

  Run none;
  none.env = add_env("CHECK");
  none(kConf);
  CHECK(none.result["code"] == 7);
  CHECK(none.backend.calls.empty());
}

TEST_CASE("cni GC: the valid attachments reach the backend") {
  Run run;
  run.env = {{"CNI_COMMAND", "GC"}};
  run(R"({"cniVersion": "1.1.0", "name": "weft", "type": "weft-cni",
          "cni.dev/valid-attachments": [{"containerID": "c1", "ifname": "eth0"},
                                        {"containerID": "c2", "ifname": "eth0"}],
          "cni.dev/attachments": [{"containerID": "c1", "ifname": "eth0"},
                                  {"containerID": "c2", "ifname": "eth0"}]})");
  CHECK(run.out.exit_status == 0);
  CHECK(run.backend.gc_valid == std::vector<AttachmentKey>{{"c1", "eth0"}, {"c2", "eth0"}});
}

TEST_CASE("cni STATUS: the backend's verdict, code 50 when weft is down") {
  Run run;
  run.env = {{"CNI_COMMAND", "STATUS"}};
  run.backend.fail = CniError(CniCode::kPluginNotAvailable, "weft is not running");
  run(R"({"cniVersion": "1.1.0", "name": "weft", "type": "weft-cni"})");
  CHECK(run.result["code"] == 50);
}

TEST_CASE("cni conflist: what `weft setup-cni` writes parses, and derives weft-cni's config") {
  std::string text = render_conflist("weft", "/var/lib/weft", 1376);
  NetConfList l = parse_conflist(text);
  CHECK(l.name == "weft");
  CHECK(l.cni_version == "1.0.0");
  REQUIRE(l.plugins.size() == 1);
  json exec = execution_config(l, 0, json{{"ips", {"10.32.3.3"}}});
  NetConf c = parse_net_conf(exec.dump());
  CHECK(c.type == "weft-cni");
  CHECK(c.name == "weft");
  CHECK(c.datadir == "/var/lib/weft");
  CHECK(c.mtu == 1376);
  CHECK(c.requested == std::vector<std::string>{"10.32.3.3"});
  CHECK_THROWS_AS(parse_conflist(R"({"cniVersion": "1.0.0", "name": "weft", "plugins": []})"),
                  CniError);
}

TEST_CASE("cni config: what is refused and why") {
  auto code_of = [](const char* text) {
    try {
      parse_net_conf(text);
    } catch (const CniError& e) {
      return static_cast<int>(e.code);
    }
    return 0;
  };
  CHECK(code_of(R"({"cniVersion": "1.0.0", "name": "weft", "type": "weft-cni"})") == 0);
  CHECK(code_of(R"({"name": "weft", "type": "weft-cni"})") == 1);
  CHECK(code_of(R"([1])") == 6);
  CHECK(code_of(R"({"cniVersion": "1.0.0", "name": "-x", "type": "weft-cni"})") == 7);
  CHECK(code_of(R"({"cniVersion": "1.0.0", "name": "w", "type": "weft-cni", "datadir": "rel"})") ==
        7);
  CHECK(code_of(R"({"cniVersion": "1.0.0", "name": "w", "type": "weft-cni", "mtu": 100})") == 7);
  CHECK(code_of(R"({"cniVersion": "1.0.0", "name": "w", "type": "weft-cni",
                    "runtimeConfig": {"ips": ["fe80::1"]}})") == 7);
  CHECK(code_of(R"({"cniVersion": "1.0.0", "name": "w", "type": "weft-cni",
                    "runtimeConfig": {"labels": {"a": 1}}})") == 7);
  std::string deep(100, '[');
  CHECK(code_of((R"({"cniVersion": "1.0.0", "x": )" + deep).c_str()) == 6);
}

TEST_CASE("cni router answers: attach and workloads shapes, and what is refused") {
  Attachment a = parse_attach_answer(json::parse(R"({"mac": "aa:bb:cc:dd:ee:ff",
      "ips": ["10.32.0.5/12"], "routes": ["10.32.0.0/12", {"dst": "0.0.0.0/0", "gw": "10.32.0.1"}],
      "dns": {"nameservers": ["10.32.0.1"], "search": ["weft.local"]}})"));
  CHECK(a.routes == std::vector<Route>{{"10.32.0.0/12", ""}, {"0.0.0.0/0", "10.32.0.1"}});
  CHECK(a.dns.search == std::vector<std::string>{"weft.local"});
  CHECK_THROWS_AS(parse_attach_answer(json::parse(R"({"mac": "x", "ips": []})")), CniError);
  auto ws = parse_workloads_answer(json::parse(
      R"({"workloads": [{"container_id": "c1", "ips": ["10.32.0.5/12"]}, {"name": "w"}, 7]})"));
  REQUIRE(ws.size() == 2);
  CHECK(ws[0].container_id == "c1");
  CHECK(ws[1].container_id.empty());
  CHECK(parse_workloads_answer(json::parse("[]")).empty());
  CHECK_THROWS_AS(parse_workloads_answer(json::parse("{}")), CniError);
}
