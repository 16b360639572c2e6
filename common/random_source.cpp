#include "common/random_source.h"

#include <sodium.h>

#include <stdexcept>

namespace weft {

uint64_t RandomSource::next_u64() {
  uint8_t b[8];
  fill(b, sizeof b);
  uint64_t v = 0;
  for (uint8_t x : b) v = v << 8 | x;
  return v;
}

namespace {
class SystemRandom final : public RandomSource {
 public:
  SystemRandom() {
    if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
  }
  void fill(uint8_t* out, size_t n) override { randombytes_buf(out, n); }
};
}  // namespace

RandomSource& system_random() {
  static SystemRandom source;
  return source;
}

void SeededRandom::fill(uint8_t* out, size_t n) {
  while (n > 0) {
    uint64_t v = gen_();
    for (int i = 0; i < 8 && n > 0; ++i, --n) {
      *out++ = static_cast<uint8_t>(v);
      v >>= 8;
    }
  }
}

}  // namespace weft
