// fugue/io/wav.hpp — RIFF/WAVE reading and atomic writing.
//
// Contract:
// - decode_wav(bytes) / read_wav(path) return Wav: sample_rate (kept, never resampled), the source
//   format, and one float vector per channel (interleaved frames de-interleaved).
//   Supported: PCM 16/24/32-bit (scaled by 1/2^(bits-1): int16 -32768 -> -1.0, 32767 -> 0.99997),
//   IEEE float 32 and 64-bit (values kept, including out of [-1, 1]); WAVE_FORMAT_PCM (1),
//   WAVE_FORMAT_IEEE_FLOAT (3) and WAVE_FORMAT_EXTENSIBLE (0xFFFE) with the PCM / float sub-format GUIDs;
//   any channel count 1..1024. Unknown chunks (LIST, fact, cue, ...) are skipped (odd sizes padded).
//   Everything else throws fugue::error with a message naming the problem: 8-bit PCM, A-law/mu-law/ADPCM,
//   not RIFF/WAVE, missing or short fmt, missing data, zero channels or sample rate, block_align that does
//   not match, a chunk or data size past the end of the file (truncation), data not a whole number of
//   frames. Memory is bounded by the input: no allocation is sized from a header field without first
//   checking that the bytes are present.
// - encode_wav(wav_like, format) / write_wav(path, ...) produce a canonical file: PCM or float fmt chunk
//   (WAVE_FORMAT_EXTENSIBLE when channels > 2, as Microsoft requires), then data. PCM samples are
//   round(x * 2^(bits-1)) clamped to the integer range (so read(write(x)) == x for x on that grid, and
//   +1.0 becomes the largest code). write_wav is atomic: it writes a temporary file in the same
//   directory, fsyncs it, and renames it over `path`; on failure the temporary is removed and `path`
//   is untouched.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>
#include <vector>

#include "fugue/core/error.hpp"
#include "fugue/io/atomic_file.hpp"

namespace fugue::io {

enum class WavFormat { pcm16, pcm24, pcm32, float32, float64 };

inline std::size_t wav_bytes_per_sample(WavFormat f) {
  switch (f) {
    case WavFormat::pcm16: return 2;
    case WavFormat::pcm24: return 3;
    case WavFormat::pcm32: return 4;
    case WavFormat::float32: return 4;
    case WavFormat::float64: return 8;
  }
  return 0;
}

struct Wav {
  std::uint32_t sample_rate = 0;
  WavFormat format = WavFormat::float32;
  std::vector<std::vector<float>> channels;  // [channel][frame]

  std::size_t num_channels() const noexcept { return channels.size(); }
  std::size_t num_frames() const noexcept { return channels.empty() ? 0 : channels[0].size(); }
};

namespace detail {

inline std::uint16_t rd16(const std::uint8_t* p) { return std::uint16_t(p[0] | (p[1] << 8)); }
inline std::uint32_t rd32(const std::uint8_t* p) {
  return std::uint32_t(p[0]) | (std::uint32_t(p[1]) << 8) | (std::uint32_t(p[2]) << 16) | (std::uint32_t(p[3]) << 24);
}
inline void wr16(std::vector<std::uint8_t>& o, std::uint32_t v) {
  o.push_back(std::uint8_t(v));
  o.push_back(std::uint8_t(v >> 8));
}
inline void wr32(std::vector<std::uint8_t>& o, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) o.push_back(std::uint8_t(v >> (8 * i)));
}
inline void wrtag(std::vector<std::uint8_t>& o, const char* t) { o.insert(o.end(), t, t + 4); }

// KSDATAFORMAT_SUBTYPE_{PCM,IEEE_FLOAT}: the format tag, then this fixed tail.
inline constexpr std::uint8_t ks_guid_tail[14] = {0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80,
                                                  0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71};

// What decode_wav takes from the fmt and data chunks.
struct WavChunks {
  bool have_fmt = false, have_data = false;
  std::uint16_t tag = 0, channels = 0, block_align = 0, bits = 0;  // tag: the sub-format's for EXTENSIBLE
  std::uint32_t rate = 0;
  std::size_t data_off = 0, data_len = 0;  // the data chunk's payload
};

// Reads a fmt chunk of `len` bytes at `f` into `c`.
inline void read_fmt_chunk(const std::uint8_t* f, std::size_t len, const std::string& name, WavChunks& c) {
  FUGUE_CHECK(!c.have_fmt, name, ": more than one fmt chunk");
  FUGUE_CHECK(len >= 16, name, ": fmt chunk of ", len, " bytes is shorter than 16");
  c.tag = rd16(f);
  c.channels = rd16(f + 2);
  c.rate = rd32(f + 4);
  c.block_align = rd16(f + 12);
  c.bits = rd16(f + 14);
  if (c.tag == 0xFFFE) {
    FUGUE_CHECK(len >= 40 && rd16(f + 16) >= 22, name, ": WAVE_FORMAT_EXTENSIBLE fmt chunk too short");
    const std::uint16_t valid_bits = rd16(f + 18);
    FUGUE_CHECK(valid_bits == 0 || valid_bits <= c.bits, name, ": valid bits ", valid_bits, " > container ", c.bits);
    FUGUE_CHECK(std::memcmp(f + 26, ks_guid_tail, 14) == 0, name,
                ": WAVE_FORMAT_EXTENSIBLE with an unknown sub-format GUID");
    c.tag = rd16(f + 24);
  }
  c.have_fmt = true;
}

// Checks the RIFF/WAVE header and walks the chunks: fmt and data are read, others skipped.
inline WavChunks scan_wav_chunks(std::span<const std::uint8_t> bytes, const std::string& name) {
  const std::size_t n = bytes.size();
  const std::uint8_t* b = bytes.data();
  FUGUE_CHECK(n >= 12, name, ": not a WAV file (", n, " bytes, shorter than a RIFF header)");
  FUGUE_CHECK(std::memcmp(b, "RIFF", 4) == 0 && std::memcmp(b + 8, "WAVE", 4) == 0, name, ": not a RIFF/WAVE file");
  WavChunks c;
  std::size_t pos = 12;
  while (pos + 8 <= n) {
    const std::uint8_t* id = b + pos;
    const std::size_t len = rd32(b + pos + 4);
    pos += 8;
    FUGUE_CHECK(len <= n - pos, name, ": chunk '", std::string(reinterpret_cast<const char*>(id), 4), "' claims ", len,
                " bytes but only ", n - pos, " remain (truncated or corrupt file)");
    if (std::memcmp(id, "fmt ", 4) == 0) {
      read_fmt_chunk(b + pos, len, name, c);
    } else if (std::memcmp(id, "data", 4) == 0) {
      FUGUE_CHECK(!c.have_data, name, ": more than one data chunk");
      c.data_off = pos;
      c.data_len = len;
      c.have_data = true;
    }
    pos += len + (len & 1);  // chunks are word aligned; a missing final pad byte is tolerated
  }
  FUGUE_CHECK(c.have_fmt, name, ": no fmt chunk");
  FUGUE_CHECK(c.have_data, name, ": no data chunk");
  return c;
}

// The sample format of a format tag and bit depth; unsupported ones throw.
inline WavFormat wav_sample_format(std::uint16_t tag, std::uint16_t bits, const std::string& name) {
  if (tag == 1) {
    FUGUE_CHECK(bits != 8, name, ": 8-bit PCM is not supported (16, 24 and 32-bit PCM are)");
    FUGUE_CHECK(bits == 16 || bits == 24 || bits == 32, name, ": ", bits, "-bit PCM is not supported");
    return bits == 16 ? WavFormat::pcm16 : bits == 24 ? WavFormat::pcm24 : WavFormat::pcm32;
  } else if (tag == 3) {
    FUGUE_CHECK(bits == 32 || bits == 64, name, ": ", bits, "-bit IEEE float is not supported");
    return bits == 32 ? WavFormat::float32 : WavFormat::float64;
  } else {
    const char* what = tag == 6 ? "A-law" : tag == 7 ? "mu-law" : tag == 2 || tag == 0x11 ? "ADPCM" : "this encoding";
    FUGUE_FAIL(name, ": format tag 0x", std::hex, tag, std::dec, " (", what,
               ") is not supported; only PCM and IEEE float");
  }
}

// Checks channels, sample rate and frame size against the data chunk; returns the frame count.
inline std::size_t wav_frame_count(const WavChunks& c, WavFormat fmt, const std::string& name) {
  FUGUE_CHECK(c.channels >= 1 && c.channels <= 1024, name, ": ", c.channels, " channels (must be 1..1024)");
  FUGUE_CHECK(c.rate >= 1, name, ": sample rate 0");
  const std::size_t bps = wav_bytes_per_sample(fmt);
  FUGUE_CHECK(c.block_align == c.channels * bps, name, ": block_align ", c.block_align, " != channels ", c.channels,
              " x ", bps, " bytes");
  FUGUE_CHECK(c.data_len % c.block_align == 0, name, ": data chunk of ", c.data_len, " bytes is not a whole number of ",
              c.block_align, "-byte frames");
  return c.data_len / c.block_align;
}

// Converts the interleaved samples at `d` to floats, one vector per channel.
inline void deinterleave_samples(const std::uint8_t* d, std::size_t frames, std::size_t block_align, WavFormat fmt,
                                 std::vector<std::vector<float>>& out) {
  const std::size_t channels = out.size();
  const std::size_t bps = wav_bytes_per_sample(fmt);
  for (std::size_t i = 0; i < frames; ++i)
    for (std::size_t c = 0; c < channels; ++c) {
      const std::uint8_t* s = d + i * block_align + c * bps;
      float v = 0;
      switch (fmt) {
        case WavFormat::pcm16: v = float(std::int16_t(rd16(s))) * (1.0f / 32768.0f); break;
        case WavFormat::pcm24: {
          std::int32_t x =
              std::int32_t(std::uint32_t(s[0]) << 8 | std::uint32_t(s[1]) << 16 | std::uint32_t(s[2]) << 24);
          v = float(double(x >> 8) / 8388608.0);
          break;
        }
        case WavFormat::pcm32: v = float(double(std::int32_t(rd32(s))) / 2147483648.0); break;
        case WavFormat::float32: {
          const std::uint32_t u = rd32(s);
          std::memcpy(&v, &u, 4);
          break;
        }
        case WavFormat::float64: {
          const std::uint64_t u = std::uint64_t(rd32(s)) | (std::uint64_t(rd32(s + 4)) << 32);
          double x;
          std::memcpy(&x, &u, 8);
          v = float(x);
          break;
        }
      }
      out[c][i] = v;
    }
}

}  // namespace detail

inline Wav decode_wav(std::span<const std::uint8_t> bytes, const std::string& name = "<memory>") {
  const detail::WavChunks chunks = detail::scan_wav_chunks(bytes, name);
  const WavFormat fmt = detail::wav_sample_format(chunks.tag, chunks.bits, name);
  const std::size_t frames = detail::wav_frame_count(chunks, fmt, name);
  Wav w;
  w.sample_rate = chunks.rate;
  w.format = fmt;
  w.channels.assign(chunks.channels, std::vector<float>(frames));
  detail::deinterleave_samples(bytes.data() + chunks.data_off, frames, chunks.block_align, fmt, w.channels);
  return w;
}

inline Wav read_wav(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  FUGUE_CHECK(f.good(), path, ": cannot open for reading");
  f.seekg(0, std::ios::end);
  const std::streamoff size = f.tellg();
  FUGUE_CHECK(size >= 0, path, ": cannot determine the file size");
  f.seekg(0);
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(size));
  f.read(reinterpret_cast<char*>(bytes.data()), size);
  FUGUE_CHECK(f.gcount() == size, path, ": read failed");
  return decode_wav(bytes, path);
}

// channels: one span per channel, all the same length.
inline std::vector<std::uint8_t> encode_wav(std::span<const std::span<const float>> channels, std::uint32_t sample_rate,
                                            WavFormat fmt = WavFormat::pcm16) {
  using detail::wr16;
  using detail::wr32;
  const std::size_t nc = channels.size();
  FUGUE_CHECK(nc >= 1 && nc <= 1024, "encode_wav: ", nc, " channels (must be 1..1024)");
  FUGUE_CHECK(sample_rate >= 1, "encode_wav: sample rate 0");
  const std::size_t frames = channels[0].size();
  for (auto& c : channels) FUGUE_CHECK(c.size() == frames, "encode_wav: channels have different lengths");
  const std::size_t bps = wav_bytes_per_sample(fmt);
  const std::size_t data_len = frames * nc * bps;
  const bool ext = nc > 2;
  const std::size_t fmt_len = ext ? 40 : (fmt == WavFormat::float32 || fmt == WavFormat::float64 ? 18 : 16);
  const std::size_t fact_len = (!ext && (fmt == WavFormat::float32 || fmt == WavFormat::float64)) ? 12 : 0;
  const std::size_t total = 12 + 8 + fmt_len + fact_len + 8 + data_len + (data_len & 1);
  FUGUE_CHECK(total - 8 <= 0xFFFFFFFFull, "encode_wav: ", data_len, " bytes of audio exceed the 4 GiB RIFF limit");
  const bool is_float = fmt == WavFormat::float32 || fmt == WavFormat::float64;
  const std::uint16_t tag = is_float ? 3 : 1;
  std::vector<std::uint8_t> o;
  o.reserve(total);
  detail::wrtag(o, "RIFF");
  wr32(o, std::uint32_t(total - 8));
  detail::wrtag(o, "WAVE");
  detail::wrtag(o, "fmt ");
  wr32(o, std::uint32_t(fmt_len));
  wr16(o, ext ? 0xFFFE : tag);
  wr16(o, std::uint32_t(nc));
  wr32(o, sample_rate);
  wr32(o, std::uint32_t(std::uint64_t(sample_rate) * nc * bps));
  wr16(o, std::uint32_t(nc * bps));
  wr16(o, std::uint32_t(bps * 8));
  if (ext) {
    wr16(o, 22);
    wr16(o, std::uint32_t(bps * 8));
    wr32(o, nc <= 18 ? std::uint32_t((1ull << nc) - 1) : 0u);  // speaker positions in order
    wr16(o, tag);
    o.insert(o.end(), detail::ks_guid_tail, detail::ks_guid_tail + 14);
  } else if (is_float) {
    wr16(o, 0);
  }
  if (fact_len) {
    detail::wrtag(o, "fact");
    wr32(o, 4);
    wr32(o, std::uint32_t(frames));
  }
  detail::wrtag(o, "data");
  wr32(o, std::uint32_t(data_len));
  auto pcm = [](float x, double scale, double lo, double hi) {
    double v = std::isnan(x) ? 0.0 : std::nearbyint(double(x) * scale);
    return static_cast<std::int64_t>(std::clamp(v, lo, hi));
  };
  for (std::size_t i = 0; i < frames; ++i)
    for (std::size_t c = 0; c < nc; ++c) {
      const float x = channels[c][i];
      switch (fmt) {
        case WavFormat::pcm16: wr16(o, std::uint32_t(pcm(x, 32768.0, -32768.0, 32767.0))); break;
        case WavFormat::pcm24: {
          const auto v = std::uint32_t(pcm(x, 8388608.0, -8388608.0, 8388607.0));
          o.push_back(std::uint8_t(v));
          o.push_back(std::uint8_t(v >> 8));
          o.push_back(std::uint8_t(v >> 16));
          break;
        }
        case WavFormat::pcm32: wr32(o, std::uint32_t(pcm(x, 2147483648.0, -2147483648.0, 2147483647.0))); break;
        case WavFormat::float32: {
          std::uint32_t u;
          std::memcpy(&u, &x, 4);
          wr32(o, u);
          break;
        }
        case WavFormat::float64: {
          const double dx = x;
          std::uint64_t u;
          std::memcpy(&u, &dx, 8);
          wr32(o, std::uint32_t(u));
          wr32(o, std::uint32_t(u >> 32));
          break;
        }
      }
    }
  if (data_len & 1) o.push_back(0);
  return o;
}

inline std::vector<std::uint8_t> encode_wav(const Wav& w, WavFormat fmt) {
  std::vector<std::span<const float>> ch(w.channels.begin(), w.channels.end());
  return encode_wav(ch, w.sample_rate, fmt);
}
inline std::vector<std::uint8_t> encode_wav(const Wav& w) { return encode_wav(w, w.format); }

// WAV files are written through io/atomic_file.hpp: a temporary next to the target, fsync,
// rename, directory fsync — an interrupted write never leaves a torn file.
inline void write_wav_bytes(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  write_file_atomic(std::filesystem::path(path), std::as_bytes(std::span<const std::uint8_t>(bytes)));
}

inline void write_wav(const std::string& path, std::span<const std::span<const float>> channels,
                      std::uint32_t sample_rate, WavFormat fmt = WavFormat::pcm16) {
  write_wav_bytes(path, encode_wav(channels, sample_rate, fmt));
}

inline void write_wav(const std::string& path, const Wav& w, WavFormat fmt) {
  write_wav_bytes(path, encode_wav(w, fmt));
}
inline void write_wav(const std::string& path, const Wav& w) { write_wav_bytes(path, encode_wav(w)); }

}  // namespace fugue::io
