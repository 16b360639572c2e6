#pragma once
// One direction pair of the encrypted UDP tunnel to a directly connected peer, without I/O.
// Keys come from that peer's control handshake (ControlChannel::dataplane_*_key), so a peer
// without the cluster secret never gets a session.
//
// Datagram (all integers big-endian), the 16-byte header is the AEAD's associated data:
//   u8 type (1 = data)  u8 key epoch  u16 zero  u32 receiver session id  u64 counter
//   ciphertext + 16-byte tag
// The nonce is the counter (never repeats within an epoch); the receiver checks its replay window
// before and updates it only after the datagram authenticates. Rekeying is a one-way ratchet per
// direction: epoch n+1's key = HKDF(epoch n's key); the sender moves on after kRekeyAfterPackets
// or kRekeyAfterMs, the receiver follows when a datagram authenticates under a later epoch (up to
// kMaxEpochsAhead at once) and keeps the previous key a little longer for datagrams still in
// flight, then erases it. No round trip, no lost traffic,
// and a key leaked today cannot decrypt yesterday's epochs.
//
// Work before authentication is small and constant (issue 10: a datagram with a real receiver id
// and a forged epoch byte used to cost up to 32 HKDF ratchet steps, and 8,000 of them a second
// stopped the tunnel). The receiver derives the keys of the next kMaxEpochsAhead epochs once, when
// it gets (or moves to) an epoch, and keeps them; a datagram claiming a later epoch costs at most
// one AEAD keying (skipped when the same epoch is tried again) and one AEAD open, whatever epoch it
// claims. Derivation happens only after a datagram authenticated. Keeping future keys costs no
// forward secrecy: each is a function of the current key anyway. Past kMaxEpochsAhead (an hour of
// UDP outage at the default epochs) the receiver does not follow; the data session is keyed anew
// by the next control handshake (the authenticated path), as after any reconnect.
#include <array>
#include <cstdint>
#include <optional>

#include "common/bytes.h"
#include "router/crypto/noise.h"
#include "router/dataplane/data_session_aead.h"
#include "router/dataplane/replay_window.h"

namespace weft {

// kNone is --no-encryption (both ends, the control preamble refuses mixed modes): datagrams are
// not sealed at all. They carry the frame batch in clear behind the same header (type 2, so a
// router never mistakes one for a sealed datagram), without a tag: no confidentiality and no
// integrity beyond UDP's checksum. The counter still feeds the replay window, which then drops
// duplicates only; anyone on the path can forge a datagram. Not pretending otherwise is the point.
enum class DataCipher : uint8_t { kNone = 0, kChaCha20Poly1305 = 1, kAes256Gcm = 2 };
const char* cipher_name(DataCipher c);

// AES-256-GCM when this CPU has AES-NI (libsodium only offers it then), else ChaCha20-Poly1305.
DataCipher best_local_cipher();

constexpr size_t kDataHeaderLen = 16;
constexpr size_t kDataTagLen = 16;
constexpr size_t kDataOverhead = kDataHeaderLen + kDataTagLen;
constexpr uint8_t kDatagramData = 1;
constexpr uint8_t kDatagramPlain = 2;  // DataCipher::kNone: header + batch, no tag
// How many epochs a receiver follows the sender in one step: enough for an hour of UDP outage at
// the default 2-minute epochs (while the control connection stays up and the sender keeps
// rekeying), and a bound on the work a forged epoch byte can cause.
constexpr uint8_t kMaxEpochsAhead = 32;

struct DataSessionLimits {
  uint64_t rekey_after_packets = uint64_t(1) << 32;
  int64_t rekey_after_ms = 2 * 60 * 1000;
  int64_t keep_old_key_ms = 10 * 1000;
};

// What open() says about a datagram: the session to use is found by receiver id first.
struct DatagramHeader {
  uint8_t type = 0;
  uint8_t epoch = 0;
  uint32_t receiver_id = 0;
  uint64_t counter = 0;
};
// Parses the fixed header; nullopt when too short or not a data (sealed or plain) datagram.
std::optional<DatagramHeader> parse_datagram_header(ByteView datagram);

class DataSession {
 public:
  DataSession(DataCipher cipher, const noise::Key& send_key, const noise::Key& recv_key,
              uint32_t peer_receiver_id, int64_t now_ms, DataSessionLimits limits = {});
  ~DataSession();
  DataSession(const DataSession&) = delete;
  DataSession& operator=(const DataSession&) = delete;

  // Seals `plaintext` into `out` (cleared first). `out` should have capacity for
  // plaintext + kDataOverhead so that no allocation happens.
  void seal(ByteView plaintext, Bytes& out, int64_t now_ms);

  enum class OpenResult { kOk, kMalformed, kReplay, kAuthFailed, kUnknownEpoch };
  // Opens a datagram addressed to this session into `plain` (cleared first).
  OpenResult open(ByteView datagram, Bytes& plain, int64_t now_ms);

  DataCipher cipher() const { return cipher_; }
  uint8_t send_epoch() const { return send_epoch_; }
  uint64_t sent_in_epoch() const { return send_counter_; }
  // How many receive-direction key derivations (HKDF ratchet steps) this session has run: the
  // kMaxEpochsAhead at construction, then one per epoch the receiver moved on by after an
  // authenticated datagram, and none for a datagram that did not authenticate. For tests.
  uint64_t recv_derivations() const { return recv_derivations_; }

 private:
  struct RecvKey {
    explicit RecvKey(DataCipher c) : aead(c, DataAead::Direction::kOpen) {}
    noise::Key key{};  // kept to derive the next epoch's
    DataAead aead;     // keyed with `key`
    uint8_t epoch = 0;
    ReplayWindow window;
    bool valid = false;
    int64_t retire_at_ms = 0;  // for the previous key
  };
  void ratchet(noise::Key& k);
  // Moves the receiver `ahead` epochs on, after a datagram authenticated under trial_.
  void advance(uint8_t ahead, int64_t now_ms);

  DataCipher cipher_;
  DataSessionLimits limits_;
  uint32_t peer_receiver_id_;
  noise::Key send_key_{};
  DataAead send_aead_;
  uint8_t send_epoch_ = 0;
  uint64_t send_counter_ = 0;
  int64_t send_epoch_started_ms_;
  RecvKey current_, previous_;
  // ahead_[i] is the key of epoch current_.epoch + 1 + i, derived once (see the file comment).
  std::array<noise::Key, kMaxEpochsAhead> ahead_{};
  uint64_t recv_derivations_ = 0;
  DataAead trial_;  // keyed with ahead_[trial_ahead_ - 1] when trial_ahead_ > 0
  uint8_t trial_ahead_ = 0;
};

}  // namespace weft
