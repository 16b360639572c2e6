#pragma once
// One control connection's byte protocol, without I/O: a plaintext preamble (magic, protocol
// versions, encryption on/off), then the Noise_NNpsk0 handshake keyed by the cluster secret, then
// length-prefixed transport frames sealed per direction. Feed it received bytes, take the bytes
// to write, read the messages that arrive.
//
// Wire (all integers big-endian):
//   preamble   "weft" u8 min_version u8 max_version u8 flags(bit0 = encrypted)
//   handshake  u8 kind u16 len payload      kind 1 = Noise message, 2 = reject (reason text),
//                                            3 = plaintext hello (unencrypted mode only)
//   transport  u32 len body                 body = AEAD ciphertext (or plaintext, unencrypted)
// Both preambles are the Noise prologue, so a tampered version or flag fails authentication.
// The session counts as established only when the first transport frame from the other side
// authenticates: that confirms the peer holds the keys (Noise psk0's first message is replayable).
#include <deque>
#include <optional>
#include <string>

#include "common/bytes.h"
#include "common/random_source.h"
#include "router/crypto/noise.h"
#include "router/wire/peer_hello.h"

namespace weft {

constexpr uint8_t kProtocolVersionMin = 1;
constexpr uint8_t kProtocolVersionMax = 1;
constexpr size_t kMaxControlMessage = 1 << 20;

enum class ChannelFailure {
  kNone,
  kNotWeft,             // the other side did not speak the weft preamble
  kVersionMismatch,     // no protocol version in common
  kEncryptionMismatch,  // one side runs with --no-encryption
  kAuthentication,      // different cluster secrets (or tampering)
  kRejected,            // the other side refused us and said why
  kProtocol,            // malformed frames
};

const char* failure_name(ChannelFailure f);

class ControlChannel {
 public:
  struct Config {
    bool initiator = false;
    bool encrypted = true;
    noise::Key psk{};  // unused when !encrypted
    PeerHello local;
    uint8_t version_min = kProtocolVersionMin;
    uint8_t version_max = kProtocolVersionMax;
    // Where the ephemeral key comes from; nullptr is system_random(). The simulator passes a
    // SeededRandom so a run replays from its seed. Must outlive the channel.
    RandomSource* random = nullptr;
  };
  enum class State { kPreamble, kHandshake, kConfirming, kEstablished, kFailed };

  explicit ControlChannel(Config cfg);
  ~ControlChannel();

  // Feeds bytes read from the socket. Never throws; a protocol error moves to kFailed.
  void receive(ByteView data);
  // Bytes that must be written to the socket, in order; clears the buffer.
  Bytes take_output();
  bool has_output() const { return !out_.empty(); }

  // Queues an application message; only valid once established.
  void send(ByteView message);
  std::optional<Bytes> pop_message();

  State state() const { return state_; }
  bool established() const { return state_ == State::kEstablished; }
  bool failed() const { return state_ == State::kFailed; }
  ChannelFailure failure() const { return failure_; }
  const std::string& failure_detail() const { return failure_detail_; }
  // The other side's hello, known once the handshake messages are done (before confirmation).
  const std::optional<PeerHello>& remote() const { return remote_; }
  uint8_t version() const { return version_; }
  // Keys for the data plane bound to this handshake, one per direction (issue: data plane).
  const noise::Key& dataplane_send_key() const { return dp_send_; }
  const noise::Key& dataplane_recv_key() const { return dp_recv_; }
  uint64_t bytes_sent() const { return bytes_sent_; }
  uint64_t bytes_received() const { return bytes_received_; }

 private:
  void start();
  void process();
  bool take_preamble();
  bool take_handshake_frame(uint8_t& kind, Bytes& payload);
  void on_handshake_frame(uint8_t kind, const Bytes& payload);
  bool take_transport_frame();
  void write_handshake_frame(uint8_t kind, ByteView payload);
  void write_transport_frame(ByteView plaintext);
  void finish_handshake();
  void fail(ChannelFailure f, std::string detail);
  void reject_and_fail(ChannelFailure f, std::string detail, std::string_view reason_to_peer);

  Config cfg_;
  State state_ = State::kPreamble;
  ChannelFailure failure_ = ChannelFailure::kNone;
  std::string failure_detail_;
  Bytes in_;
  size_t in_pos_ = 0;
  Bytes out_;
  std::deque<Bytes> messages_;
  Bytes local_preamble_;
  std::optional<PeerHello> remote_;
  uint8_t version_ = 0;
  std::optional<noise::SymmetricState> ss_;
  noise::Key e_priv_{};
  Bytes e_pub_;
  noise::CipherState send_, recv_;
  noise::Key dp_send_{}, dp_recv_{};
  uint64_t bytes_sent_ = 0, bytes_received_ = 0;
};

}  // namespace weft
