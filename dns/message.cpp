#include "dns/message.h"

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace weft::dns {

namespace {

// Header flag bits (RFC 1035 §4.1.1, RFC 4035 §3.2 for AD and CD).
constexpr uint16_t kQr = 0x8000, kAa = 0x0400, kTc = 0x0200, kRd = 0x0100, kRa = 0x0080,
                   kCd = 0x0010;

uint16_t get16(ByteView m, size_t pos) {
  return uint16_t((m[pos] << 8) | m[pos + 1]);
}

// Reads a possibly compressed name at `pos` and moves `pos` past it. Every pointer must point
// below the lowest offset read so far (and not into the header), so the walk is strictly
// decreasing between jumps: no loop, and at most 255 bytes of labels are copied. Returns false
// when malformed.
bool read_name(ByteView m, size_t& pos, Name& out) {
  out.labels.clear();
  size_t p = pos, lowest = pos, wire = 1;
  bool jumped = false;
  while (true) {
    if (p >= m.size()) return false;
    uint8_t len = m[p];
    if ((len & 0xC0) == 0xC0) {
      if (p + 1 >= m.size()) return false;
      size_t target = size_t((len & 0x3F) << 8) | m[p + 1];
      if (!jumped) pos = p + 2;
      jumped = true;
      if (target >= lowest || target < kHeaderSize) return false;
      lowest = target;
      p = target;
      continue;
    }
    if (len & 0xC0) return false;  // extended label types (RFC 6891 §5) are obsolete
    if (len == 0) {
      if (!jumped) pos = p + 1;
      return true;
    }
    if (p + 1 + len > m.size()) return false;
    wire += len + 1u;
    if (wire > kMaxNameWireLength) return false;
    out.labels.emplace_back(reinterpret_cast<const char*>(m.data() + p + 1), len);
    p += 1 + len;
  }
}

bool read_question(ByteView m, size_t& pos, Question& q) {
  if (!read_name(m, pos, q.name) || pos + 4 > m.size()) return false;
  q.type = get16(m, pos);
  q.qclass = get16(m, pos + 2);
  pos += 4;
  return true;
}

// Parses the OPT record's options; false when they overrun its RDATA.
bool read_opt_options(ByteView rdata, Edns& e) {
  size_t p = 0;
  while (p < rdata.size()) {
    if (p + 4 > rdata.size()) return false;
    uint16_t code = get16(rdata, p), len = get16(rdata, p + 2);
    p += 4;
    if (p + len > rdata.size()) return false;
    if (code == kWeftForwardedOption) e.weft_forwarded = true;
    p += len;
  }
  return true;
}

// --- Encoding with compression

class Encoder {
 public:
  explicit Encoder(Bytes& out) : out_(out), w_(out) {}
  ByteWriter& w() { return w_; }

  // Writes `n`, pointing at an earlier occurrence of its longest known suffix.
  void name(const Name& n) {
    const size_t count = n.labels.size();
    for (size_t i = 0; i < count; ++i) {
      std::string key = suffix_key(n, i);
      auto it =
          std::find_if(known_.begin(), known_.end(), [&](const auto& k) { return k.first == key; });
      if (it != known_.end()) {
        w_.u16(uint16_t(0xC000 | it->second));
        return;
      }
      if (out_.size() < 0x4000) known_.emplace_back(std::move(key), uint16_t(out_.size()));
      w_.u8(uint8_t(n.labels[i].size()));
      w_.raw(as_bytes(n.labels[i]));
    }
    w_.u8(0);
  }

  void record(const Record& r) {
    name(r.name);
    w_.u16(r.type);
    w_.u16(kClassIN);
    w_.u32(r.ttl);
    size_t len_at = out_.size();
    w_.u16(0);
    if (auto* a = std::get_if<uint32_t>(&r.data)) {
      w_.u32(*a);
    } else if (auto* n = std::get_if<Name>(&r.data)) {
      name(*n);
    } else {
      const Soa& s = std::get<Soa>(r.data);
      name(s.mname);
      name(s.rname);
      for (uint32_t v : {s.serial, s.refresh, s.retry, s.expire, s.minimum}) w_.u32(v);
    }
    size_t len = out_.size() - len_at - 2;
    out_[len_at] = uint8_t(len >> 8);
    out_[len_at + 1] = uint8_t(len);
  }

  // Undo everything written after `size` (a record that did not fit).
  void rollback(size_t size, size_t known) {
    out_.resize(size);
    known_.resize(known);
  }
  size_t known_count() const { return known_.size(); }

 private:
  static std::string suffix_key(const Name& n, size_t from) {
    std::string k;
    for (size_t i = from; i < n.labels.size(); ++i) {
      k += char(n.labels[i].size());  // length-prefixed: labels containing '.' stay distinct
      k += ascii_lower(n.labels[i]);
    }
    return k;
  }
  Bytes& out_;
  ByteWriter w_;
  std::vector<std::pair<std::string, uint16_t>> known_;
};

void write_opt(ByteWriter& w, uint16_t udp_size, uint8_t ext_rcode, bool dnssec_ok,
               bool weft_option) {
  w.u8(0);  // root
  w.u16(kTypeOPT);
  w.u16(udp_size);
  w.u32((uint32_t(ext_rcode) << 24) | (dnssec_ok ? 0x8000u : 0u));
  if (weft_option) {
    w.u16(8);
    w.u16(kWeftForwardedOption);
    w.u16(4);
    w.raw(as_bytes("weft"));
  } else {
    w.u16(0);
  }
}

constexpr size_t kOptSize = 11;

}  // namespace

size_t Query::udp_limit() const {
  if (!edns) return kClassicUdpSize;
  return std::clamp<size_t>(edns->udp_size, kClassicUdpSize, kMaxUdpAnswer);
}

ParsedQuery parse_query(ByteView m) {
  ParsedQuery r;
  if (m.size() < kHeaderSize) return r;
  uint16_t flags = get16(m, 2);
  if (flags & kQr) return r;  // never answer an answer: that is how reflection loops start
  Query& q = r.query;
  q.id = get16(m, 0);
  q.opcode = uint8_t((flags >> 11) & 0xF);
  q.rd = flags & kRd;
  q.cd = flags & kCd;
  if (q.opcode != 0) {
    r.status = ParseStatus::kNotImp;
    return r;
  }
  r.status = ParseStatus::kFormErr;
  uint16_t qd = get16(m, 4), an = get16(m, 6), ns = get16(m, 8), ar = get16(m, 10);
  if (qd != 1) return r;
  size_t pos = kHeaderSize;
  if (!read_question(m, pos, q.question)) return r;
  r.question_parsed = true;
  if (size_t(an) + ns + ar > kMaxQueryRecords) return r;
  Name owner;
  for (size_t i = 0; i < size_t(an) + ns + ar; ++i) {
    if (!read_name(m, pos, owner) || pos + 10 > m.size()) return r;
    uint16_t type = get16(m, pos), cls = get16(m, pos + 2);
    uint32_t ttl = (uint32_t(get16(m, pos + 4)) << 16) | get16(m, pos + 6);
    uint16_t rdlen = get16(m, pos + 8);
    pos += 10;
    if (pos + rdlen > m.size()) return r;
    if (type == kTypeOPT) {
      // One OPT, in the additional section, owned by the root (RFC 6891 §6.1.1).
      bool additional = i >= size_t(an) + ns;
      if (!additional || q.edns || !owner.labels.empty()) return r;
      Edns e;
      e.udp_size = cls;
      e.version = uint8_t(ttl >> 16);
      e.dnssec_ok = ttl & 0x8000;
      if (!read_opt_options(m.subspan(pos, rdlen), e)) return r;
      q.edns = e;
    }
    pos += rdlen;
  }
  if (pos != m.size()) return r;  // trailing bytes
  if (q.edns && q.edns->version != 0) {
    r.status = ParseStatus::kBadVers;
    return r;
  }
  r.status = ParseStatus::kOk;
  return r;
}

Bytes encode_response(const Response& r, size_t limit) {
  Bytes out;
  out.reserve(std::min<size_t>(limit, 1024));
  Encoder enc(out);
  ByteWriter& w = enc.w();
  uint16_t flags = kQr | uint16_t((r.opcode & 0xF) << 11) | uint16_t(r.rcode & 0xF);
  if (r.aa) flags |= kAa;
  if (r.rd) flags |= kRd;
  if (r.ra) flags |= kRa;
  if (r.cd) flags |= kCd;
  w.u16(r.id);
  w.u16(flags);
  w.u16(r.question ? 1 : 0);
  w.u16(0);
  w.u16(0);
  w.u16(r.edns ? 1 : 0);
  if (r.question) {
    enc.name(r.question->name);
    w.u16(r.question->type);
    w.u16(r.question->qclass);
  }
  const size_t reserve = r.edns ? kOptSize : 0;
  if (out.size() + reserve > limit) throw std::length_error("DNS header does not fit the limit");
  bool tc = r.tc;
  uint16_t an = 0, ns = 0;
  auto add = [&](const Record& rec) {
    size_t size = out.size(), known = enc.known_count();
    enc.record(rec);
    if (out.size() + reserve <= limit) return true;
    enc.rollback(size, known);
    tc = true;
    return false;
  };
  for (const Record& rec : r.answers) {
    if (!add(rec)) break;
    ++an;
  }
  if (!tc)
    for (const Record& rec : r.authority) {
      if (!add(rec)) {
        // A negative answer's SOA is optional; leaving it out is no reason for TC.
        tc = r.tc || !r.answers.empty();
        break;
      }
      ++ns;
    }
  if (r.edns) write_opt(w, kOurUdpSize, uint8_t(r.rcode >> 4), r.dnssec_ok, false);
  if (tc) out[2] |= kTc >> 8;
  out[6] = uint8_t(an >> 8);
  out[7] = uint8_t(an);
  out[8] = uint8_t(ns >> 8);
  out[9] = uint8_t(ns);
  return out;
}

Response error_response(const Query& q, bool question_known, uint16_t rcode) {
  Response r;
  r.id = q.id;
  r.opcode = q.opcode;
  r.rd = q.rd;
  r.cd = q.cd;
  r.rcode = rcode;
  if (question_known) r.question = q.question;
  r.edns = q.edns.has_value() || rcode == kBadVers;
  r.dnssec_ok = q.edns && q.edns->dnssec_ok;
  return r;
}

Bytes encode_forward_query(const Query& q, uint16_t id) {
  Bytes out;
  ByteWriter w(out);
  w.u16(id);
  w.u16(uint16_t((q.rd ? kRd : 0) | (q.cd ? kCd : 0)));
  w.u16(1);
  w.u16(0);
  w.u16(0);
  w.u16(1);
  for (const auto& l : q.question.name.labels) {
    w.u8(uint8_t(l.size()));
    w.raw(as_bytes(l));
  }
  w.u8(0);
  w.u16(q.question.type);
  w.u16(q.question.qclass);
  write_opt(w, kOurUdpSize, 0, q.edns && q.edns->dnssec_ok, true);
  return out;
}

std::optional<ReplyInfo> inspect_reply(ByteView m) {
  if (m.size() < kHeaderSize) return std::nullopt;
  uint16_t flags = get16(m, 2);
  if (!(flags & kQr) || get16(m, 4) != 1) return std::nullopt;
  ReplyInfo r;
  r.id = get16(m, 0);
  r.tc = flags & kTc;
  r.rcode = flags & 0xF;
  size_t pos = kHeaderSize;
  if (!read_question(m, pos, r.question)) return std::nullopt;
  return r;
}

bool rewrite_reply(Bytes& m, uint16_t id, bool keep_opt) {
  if (m.size() < kHeaderSize) return false;
  if (!keep_opt) {
    size_t counts = size_t(get16(m, 4)), records = size_t(get16(m, 6)) + get16(m, 8);
    size_t ar = get16(m, 10);
    size_t pos = kHeaderSize;
    Name n;
    for (size_t i = 0; i < counts; ++i) {
      if (!read_name(m, pos, n) || pos + 4 > m.size()) return false;
      pos += 4;
    }
    size_t opt_at = 0, opt_end = 0;
    for (size_t i = 0; i < records + ar; ++i) {
      size_t start = pos;
      if (!read_name(m, pos, n) || pos + 10 > m.size()) return false;
      uint16_t type = get16(m, pos), rdlen = get16(m, pos + 8);
      pos += 10;
      if (pos + rdlen > m.size()) return false;
      pos += rdlen;
      if (type == kTypeOPT && i >= records) {
        opt_at = start;
        opt_end = pos;
      }
    }
    // Only a last OPT (where every server puts it) is cut: a record after it may hold compression
    // pointers to names behind it, which would move.
    if (opt_end != 0 && opt_end == pos) {
      m.erase(m.begin() + long(opt_at), m.begin() + long(opt_end));
      --ar;
      m[10] = uint8_t(ar >> 8);
      m[11] = uint8_t(ar);
    }
  }
  m[0] = uint8_t(id >> 8);
  m[1] = uint8_t(id);
  return true;
}

}  // namespace weft::dns
