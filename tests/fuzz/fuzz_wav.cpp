// libFuzzer target for fugue/io/wav.hpp: decode_wav on arbitrary bytes must either return a
// consistent Wav or throw fugue::error; anything else (crash, other exception, sanitizer report,
// runaway allocation) is a bug. A successful decode is re-encoded and decoded again.
#include <cstdint>
#include <cstdlib>
#include <span>

#include "fugue/io/wav.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const auto w = fugue::io::decode_wav(std::span<const std::uint8_t>(data, size));
    if (w.channels.empty() || w.sample_rate == 0) std::abort();
    for (const auto& c : w.channels)
      if (c.size() != w.num_frames()) std::abort();
    // 8 bytes per sample at most, so the re-encoded file is bounded by a small multiple of the input.
    const auto again = fugue::io::decode_wav(fugue::io::encode_wav(w));
    if (again.num_frames() != w.num_frames() || again.num_channels() != w.num_channels()) std::abort();
  } catch (const fugue::error&) {
  }
  return 0;
}
