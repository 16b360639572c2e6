// DNS message codec against outside truth: queries captured from dig 9.18 (its cookie option, AD
// bit, 0x20-free case, EDNS sizes) must parse to what dig asked, and our answers must equal,
// byte for byte, what dnsmasq 2.90 answered to the same queries from a hosts file. Then the
// hostile cases: compression pointer loops, forward pointers, overlong names, trailing bytes,
// and truncation at 512 bytes and at the EDNS0 size.
#include <doctest/doctest.h>

#include "common/bytes.h"
#include "common/ipv4_cidr.h"
#include "dns/message.h"

using namespace weft;
using namespace weft::dns;

namespace {

Bytes hex(const char* h) {
  Bytes b;
  REQUIRE(from_hex(h, b));
  return b;
}

Name name(const char* text) {
  return *parse_name(text);
}

// Captured with `dig @127.0.0.1 -p 5300 ARGS` (DiG 9.18.49) into a UDP socket.
const char* kDigDefault =  // web.weft.local (EDNS 1232, cookie, AD)
    "e42901200001000000000001037765620477656674056c6f63616c000001000100002904d000000000000c000a0008"
    "0aee8625e1851fc4";
const char* kDigNoEdns =  // +noedns web.weft.local
    "8e5501200001000000000000037765620477656674056c6f63616c0000010001";
const char* kDigAaaa =  // +bufsize=4096 +nocookie AAAA Web.Weft.Local
    "445001200001000000000001035765620457656674054c6f63616c00001c00010000291000000000000000";
const char* kDigPtr =  // -x 10.32.0.5
    "b962012000010000000000010135013002333202313007696e2d61646472046172706100000c000100002904d00000"
    "0000000c000a00088e6f0e1832434039";
const char* kDigSoaDnssec =  // +nocookie +dnssec +norecurse shop.weft.local SOA
    "99a3002000010000000000010473686f700477656674056c6f63616c000006000100002904d0000080000000";
const char* kDigMx =  // +noedns +noad google.com MX
    "c9c30100000100000000000006676f6f676c6503636f6d00000f0001";

// dnsmasq 2.90 (--addn-hosts with web.weft.local = 10.32.0.5 and .6, --local-ttl=1), answering
// kDigNoEdns and kDigPtr.
const char* kDnsmasqTwoA =
    "8e5585800001000200000000037765620477656674056c6f63616c0000010001c00c000100010000000100040a2000"
    "05c00c000100010000000100040a200006";
const char* kDnsmasqPtr =
    "b962858000010001000000010135013002333202313007696e2d61646472046172706100000c0001c00c000c000100"
    "0000010010037765620477656674056c6f63616c0000002904d0000000000000";

Query parse_ok(const Bytes& b) {
  ParsedQuery p = parse_query(b);
  REQUIRE(p.status == ParseStatus::kOk);
  return p.query;
}

}  // namespace

TEST_CASE("dns message: dig's queries parse to what dig asked") {
  Query q = parse_ok(hex(kDigDefault));
  CHECK(q.id == 0xe429);
  CHECK(q.rd);
  CHECK_FALSE(q.cd);
  CHECK(q.question == Question{name("web.weft.local"), kTypeA, kClassIN});
  REQUIRE(q.edns);
  CHECK(q.edns->udp_size == 1232);
  CHECK_FALSE(q.edns->dnssec_ok);
  CHECK_FALSE(q.edns->weft_forwarded);  // the cookie option is skipped
  CHECK(q.udp_limit() == 1232);

  q = parse_ok(hex(kDigNoEdns));
  CHECK_FALSE(q.edns);
  CHECK(q.udp_limit() == 512);

  q = parse_ok(hex(kDigAaaa));
  CHECK(q.question.type == kTypeAAAA);
  CHECK(q.question.name.to_string() == "Web.Weft.Local.");  // the case is kept for the answer
  CHECK(q.question.name.equals_ci(name("web.weft.local")));
  CHECK(q.udp_limit() == 4096);

  q = parse_ok(hex(kDigPtr));
  CHECK(q.question.type == kTypePTR);
  CHECK(parse_reverse_name(q.question.name) == parse_ipv4("10.32.0.5"));

  q = parse_ok(hex(kDigSoaDnssec));
  CHECK_FALSE(q.rd);
  CHECK(q.edns->dnssec_ok);
  CHECK(q.question.type == kTypeSOA);

  q = parse_ok(hex(kDigMx));
  CHECK(q.question == Question{name("google.com"), 15, kClassIN});
}

TEST_CASE("dns message: our answers equal dnsmasq's, byte for byte") {
  Query q = parse_ok(hex(kDigNoEdns));
  Response r = error_response(q, true, kNoError);
  r.aa = true;
  for (const char* a : {"10.32.0.5", "10.32.0.6"})
    r.answers.push_back({q.question.name, kTypeA, 1, *parse_ipv4(a)});
  CHECK(to_hex(encode_response(r, 512)) == kDnsmasqTwoA);

  q = parse_ok(hex(kDigPtr));
  r = error_response(q, true, kNoError);
  r.aa = true;
  r.answers.push_back({q.question.name, kTypePTR, 1, name("web.weft.local")});
  CHECK(r.edns);
  CHECK(to_hex(encode_response(r, q.udp_limit())) == kDnsmasqPtr);
}

TEST_CASE("dns message: compression reuses every known suffix, case-insensitively") {
  Query q = parse_ok(hex(kDigAaaa));  // Web.Weft.Local at offset 12
  Response r = error_response(q, true, kNxDomain);
  Soa soa{name("weft.local"), name("hostmaster.weft.local"), 7, 3600, 600, 86400, 1};
  r.authority.push_back({name("weft.local"), kTypeSOA, 1, soa});
  Bytes b = encode_response(r, 512);
  // Owner weft.local -> "Weft.Local" at 16 (c010); mname the same; rname "hostmaster" + c010.
  std::string h = to_hex(b);
  CHECK(h.find("c010000600010000000100") != std::string::npos);
  CHECK(h.find("c0100a686f73746d6173746572c010") != std::string::npos);
  CHECK(b[3] == 0x83);  // RA, NXDOMAIN
}

TEST_CASE("dns message: forwarded queries carry the weft option and parse back") {
  Query q = parse_ok(hex(kDigNoEdns));
  Bytes f = encode_forward_query(q, 0x1234);
  CHECK(to_hex(f) ==
        "123401000001000000000001037765620477656674056c6f63616c0000010001"
        "00002904d0000000000008ff03000477656674");
  Query back = parse_ok(f);
  CHECK(back.edns->weft_forwarded);
  CHECK(back.question == q.question);
}

TEST_CASE("dns message: hostile queries are refused with bounded work") {
  auto status = [](const char* h) { return parse_query(hex(h)).status; };
  const char* hdr = "abcd01000001000000000000";  // id abcd, RD, one question
  auto q = [&](const std::string& rest) { return status((std::string(hdr) + rest).c_str()); };
  CHECK(q("0377656200"
          "00010001") == ParseStatus::kOk);
  CHECK(q("c00c"
          "00010001") == ParseStatus::kFormErr);  // points at itself
  CHECK(q("c00e"
          "00010001") == ParseStatus::kFormErr);  // points forward
  CHECK(q("c002"
          "00010001") == ParseStatus::kFormErr);  // into the header
  CHECK(q("0377656240"
          "00010001") == ParseStatus::kFormErr);  // extended label type
  CHECK(q("0377656200"
          "0001") == ParseStatus::kFormErr);  // question cut short
  CHECK(q("0577656200"
          "00010001") == ParseStatus::kFormErr);  // label overruns
  CHECK(q("0377656200"
          "00010001ff") == ParseStatus::kFormErr);  // trailing byte
  std::string long_name;
  for (int i = 0; i < 5; ++i) long_name += "3f" + std::string(126, '6');  // 5 x 63 bytes
  CHECK(q(long_name + "00" + "00010001") == ParseStatus::kFormErr);
  CHECK(status("abcd") == ParseStatus::kDrop);
  CHECK(status("abcd81000001000000000000"
               "0377656200"
               "00010001") == ParseStatus::kDrop);
  CHECK(status("abcd29000001000000000000"
               "0377656200"
               "00010001") == ParseStatus::kNotImp);
  CHECK(status("abcd01000002000000000000"
               "0377656200"
               "00010001"
               "0377656200"
               "00010001") == ParseStatus::kFormErr);
  // Two OPT records; an OPT not owned by the root; EDNS version 1.
  std::string opt =
      "00002904d000000000"
      "0000";
  CHECK(status(("abcd01000001000000000002"
                "0377656200"
                "00010001" +
                opt + opt)
                   .c_str()) == ParseStatus::kFormErr);
  CHECK(status("abcd01000001000000000001"
               "0377656200"
               "00010001"
               "c00c002904d000000000"
               "0000") == ParseStatus::kFormErr);
  CHECK(status("abcd01000001000000000001"
               "0377656200"
               "00010001"
               "00002904d000010000"
               "0000") == ParseStatus::kBadVers);
  // An OPT option overrunning its RDATA.
  CHECK(status("abcd01000001000000000001"
               "0377656200"
               "00010001"
               "00002904d000000000"
               "0004"
               "000a0008") == ParseStatus::kFormErr);
  // An answer record in a query, its owner a pointer to the question: parsed and skipped.
  CHECK(status("abcd01000001000100000000"
               "0377656200"
               "00010001"
               "c00c00010001000000010004"
               "0a000001") == ParseStatus::kOk);
}

TEST_CASE("dns message: answers that do not fit are truncated with TC") {
  Query q = parse_ok(hex(kDigNoEdns));
  Response r = error_response(q, true, kNoError);
  for (uint32_t i = 0; i < 100; ++i) r.answers.push_back({q.question.name, kTypeA, 1, i});
  // 12 header + 20 question + 16 per compressed A record.
  Bytes b = encode_response(r, q.udp_limit());
  CHECK(b.size() <= 512);
  CHECK((b[2] & 0x02) != 0);
  CHECK(((b[6] << 8) | b[7]) == (512 - 32) / 16);
  Bytes full = encode_response(r, kMaxTcpMessage);
  CHECK(full.size() == 32 + 100 * 16);
  CHECK((full[2] & 0x02) == 0);

  q = parse_ok(hex(kDigDefault));  // EDNS 1232: the OPT record stays and counts
  r.edns = true;
  b = encode_response(r, q.udp_limit());
  CHECK(b.size() <= 1232);
  CHECK(((b[6] << 8) | b[7]) == (1232 - 32 - 11) / 16);
  CHECK(((b[10] << 8) | b[11]) == 1);
  CHECK((b[2] & 0x02) != 0);

  // A negative answer whose SOA does not fit loses the SOA, not the TC-free status.
  Response neg = error_response(parse_ok(hex(kDigNoEdns)), true, kNxDomain);
  neg.authority.push_back({name("weft.local"), kTypeSOA, 1,
                           Soa{name("weft.local"), name("hostmaster.weft.local"), 1, 2, 3, 4, 5}});
  b = encode_response(neg, 40);
  CHECK(b.size() == 32);
  CHECK((b[2] & 0x02) == 0);
}

TEST_CASE("dns message: replies from upstream: inspected, OPT removed for clients without EDNS") {
  Bytes ptr = hex(kDnsmasqPtr);
  auto info = inspect_reply(ptr);
  REQUIRE(info);
  CHECK(info->id == 0xb962);
  CHECK_FALSE(info->tc);
  CHECK(info->rcode == kNoError);
  Bytes kept = ptr;
  REQUIRE(rewrite_reply(kept, 0x0102, true));
  CHECK(kept.size() == ptr.size());
  CHECK(kept[0] == 1);
  CHECK(kept[1] == 2);
  Bytes cut = ptr;
  REQUIRE(rewrite_reply(cut, 0x0102, false));
  CHECK(cut.size() == ptr.size() - 11);
  CHECK(cut[11] == 0);                          // ARCOUNT
  CHECK_FALSE(inspect_reply(hex(kDigNoEdns)));  // a query is no reply
  Bytes broken = ptr;
  broken.resize(ptr.size() - 3);
  CHECK_FALSE(rewrite_reply(broken, 1, false));
}
