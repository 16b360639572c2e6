#pragma once
// DNS messages (RFC 1035 §4, EDNS0 RFC 6891): parsing the queries clients send us and the replies
// upstream servers send back, and encoding our own answers with name compression and truncation.
// Pure: no I/O. Every parser takes untrusted bytes, costs work bounded by the message size and
// never reads outside it (compression pointers must point strictly backwards of every earlier
// jump, so they cannot loop).
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/bytes.h"
#include "dns/name.h"

namespace weft::dns {

// --- Specification (RFC 1035, 3596, 6891)
constexpr uint16_t kTypeA = 1;
constexpr uint16_t kTypeNS = 2;
constexpr uint16_t kTypeCNAME = 5;
constexpr uint16_t kTypeSOA = 6;
constexpr uint16_t kTypePTR = 12;
constexpr uint16_t kTypeAAAA = 28;
constexpr uint16_t kTypeOPT = 41;
constexpr uint16_t kTypeANY = 255;
constexpr uint16_t kClassIN = 1;
constexpr size_t kHeaderSize = 12;
// A client without EDNS0 accepts 512 bytes over UDP (RFC 1035 §4.2.1); TCP carries a u16 length.
constexpr size_t kClassicUdpSize = 512;
constexpr size_t kMaxTcpMessage = 65535;

enum Rcode : uint16_t {
  kNoError = 0,
  kFormErr = 1,
  kServFail = 2,
  kNxDomain = 3,
  kNotImp = 4,
  kRefused = 5,
  kBadVers = 16,  // extended (EDNS0): needs an OPT record in the reply
};

// --- Implementation choices
// The largest UDP answer we send, whatever a client's EDNS0 size says: big enough for 200 A
// records, small enough to avoid most IP fragmentation trouble.
constexpr size_t kMaxUdpAnswer = 4096;
// The EDNS0 size we advertise, and ask upstream servers for (DNS flag day 2020).
constexpr uint16_t kOurUdpSize = 1232;
// Records a query may carry besides its question (in practice 0 or 1: the OPT record).
constexpr size_t kMaxQueryRecords = 16;
// EDNS0 option (local/experimental range, RFC 6891 §9) that weft adds to every query it forwards.
// A weft resolver never forwards a query carrying it: resolver loops through weft end at once.
constexpr uint16_t kWeftForwardedOption = 65283;

struct Question {
  Name name;
  uint16_t type = kTypeA;
  uint16_t qclass = kClassIN;
  bool operator==(const Question&) const = default;
};

struct Edns {
  uint16_t udp_size = kClassicUdpSize;  // as sent (may be below 512; see udp_limit())
  uint8_t version = 0;
  bool dnssec_ok = false;
  bool weft_forwarded = false;  // carries kWeftForwardedOption
};

struct Query {
  uint16_t id = 0;
  uint8_t opcode = 0;
  bool rd = false;  // recursion desired
  bool cd = false;  // checking disabled (copied to forwarded queries)
  Question question;
  std::optional<Edns> edns;
  // Bytes this client takes in one UDP answer: 512 without EDNS0, else its size within
  // [512, kMaxUdpAnswer].
  size_t udp_limit() const;
};

enum class ParseStatus {
  kOk,
  kDrop,     // not worth an answer: shorter than a header, or a response (QR set)
  kFormErr,  // answer FORMERR with the id (and the question, if it parsed)
  kNotImp,   // an opcode other than QUERY: answer NOTIMP
  kBadVers,  // EDNS version other than 0: answer BADVERS (RFC 6891 §6.1.3)
};

struct ParsedQuery {
  ParseStatus status = ParseStatus::kDrop;
  Query query;  // id, opcode and rd are set for every status but kDrop
  bool question_parsed = false;
};

ParsedQuery parse_query(ByteView message);

// --- Answers we build

struct Soa {
  Name mname, rname;
  uint32_t serial = 0, refresh = 0, retry = 0, expire = 0, minimum = 0;
  bool operator==(const Soa&) const = default;
};

struct Record {
  Name name;
  uint16_t type = kTypeA;
  uint32_t ttl = 0;
  std::variant<uint32_t, Name, Soa> data;  // A (host order), PTR, SOA
  bool operator==(const Record&) const = default;
};

struct Response {
  uint16_t id = 0;
  uint8_t opcode = 0;
  bool aa = false, tc = false, rd = false, ra = true, cd = false;
  uint16_t rcode = kNoError;  // up to 12 bits; above 15 needs `edns`
  std::optional<Question> question;
  std::vector<Record> answers;
  std::vector<Record> authority;
  // Adds an OPT record advertising kOurUdpSize when the query had one (RFC 6891 §7).
  bool edns = false;
  bool dnssec_ok = false;
};

// Encodes with name compression. When the message would exceed `limit` bytes, answers that do not
// fit are left out, the authority section too, and TC is set (the header, question and OPT always
// stay: a client retries over TCP). Throws std::length_error if not even those fit.
Bytes encode_response(const Response& r, size_t limit);

// The answer to a query that failed or was refused, echoing id, opcode, RD, the question (if
// known) and EDNS0.
Response error_response(const Query& q, bool question_known, uint16_t rcode);

// --- Forwarding

// The query to send upstream: the client's question, RD and CD, a fresh id, and an OPT record with
// our UDP size, the client's DO bit and kWeftForwardedOption (client options are not passed on).
Bytes encode_forward_query(const Query& q, uint16_t id);

// What the forwarding logic needs of an upstream reply. nullopt unless it is a well-formed
// response (QR set) with exactly one question.
struct ReplyInfo {
  uint16_t id = 0;
  bool tc = false;
  uint16_t rcode = 0;  // the header's 4 bits
  Question question;
};
std::optional<ReplyInfo> inspect_reply(ByteView message);

// Removes the OPT record from a reply (for a client that sent none: RFC 6891 §7 forbids OPT in
// its answer) and sets the id. False, and `reply` unchanged, when its records do not parse.
bool rewrite_reply(Bytes& reply, uint16_t id, bool keep_opt);

}  // namespace weft::dns
