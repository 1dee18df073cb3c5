// WAV I/O: round trips for every supported format, hand-built files, and clear errors on bad input.
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

#include "fugue/io/wav.hpp"

using namespace fugue::io;
using Catch::Matchers::Contains;
using bytes_t = std::vector<std::uint8_t>;

namespace {
void put16(bytes_t& o, unsigned v) {
  o.push_back(std::uint8_t(v));
  o.push_back(std::uint8_t(v >> 8));
}
void put32(bytes_t& o, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) o.push_back(std::uint8_t(v >> (8 * i)));
}
bytes_t chunk(const char* id, const bytes_t& body, bool pad = true) {
  bytes_t o(id, id + 4);
  put32(o, std::uint32_t(body.size()));
  o.insert(o.end(), body.begin(), body.end());
  if (pad && (body.size() & 1)) o.push_back(0);
  return o;
}
bytes_t fmt_body(unsigned tag, unsigned ch, std::uint32_t sr, unsigned bits, int block_align = -1) {
  bytes_t o;
  const unsigned ba = block_align >= 0 ? unsigned(block_align) : ch * bits / 8;
  put16(o, tag);
  put16(o, ch);
  put32(o, sr);
  put32(o, sr * ba);
  put16(o, ba);
  put16(o, bits);
  return o;
}
bytes_t riff(std::initializer_list<bytes_t> chunks) {
  bytes_t body{'W', 'A', 'V', 'E'};
  for (auto& c : chunks) body.insert(body.end(), c.begin(), c.end());
  bytes_t o{'R', 'I', 'F', 'F'};
  put32(o, std::uint32_t(body.size()));
  o.insert(o.end(), body.begin(), body.end());
  return o;
}
bytes_t pcm16_data(std::initializer_list<int> v) {
  bytes_t o;
  for (int x : v) put16(o, unsigned(std::int16_t(x)) & 0xFFFF);
  return o;
}
Wav test_wav(std::size_t nc, std::size_t n, double grid) {
  Wav w;
  w.sample_rate = 22050;
  w.channels.assign(nc, std::vector<float>(n));
  for (std::size_t c = 0; c < nc; ++c)
    for (std::size_t i = 0; i < n; ++i) {
      const double v = std::sin(0.01 * double(i * (c + 1)) + double(c)) * 0.9;
      w.channels[c][i] = float(grid > 0 ? std::round(v * grid) / grid : v);
    }
  w.channels[0][0] = -1.0f;  // the most negative code
  return w;
}
std::string temp_dir() {
  auto d = std::filesystem::temp_directory_path() / ("fugue_wav_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(d);
  return d.string();
}
}  // namespace

TEST_CASE("wav: round trip of every format, mono / stereo / 5 channels (extensible)", "[dsp][wav]") {
  struct Case {
    WavFormat f;
    double grid;
    double tol;
  };
  for (const Case& k : {Case{WavFormat::pcm16, 32768.0, 0.0}, Case{WavFormat::pcm24, 8388608.0, 0.0},
                        Case{WavFormat::pcm32, 0.0, 1.0 / 2147483648.0}, Case{WavFormat::float32, 0.0, 0.0},
                        Case{WavFormat::float64, 0.0, 0.0}})
    for (std::size_t nc : {1u, 2u, 5u}) {
      const Wav w = test_wav(nc, 777, k.grid);
      const auto b = encode_wav(w, k.f);
      if (nc > 2) CHECK(b[20] == 0xFE);  // WAVE_FORMAT_EXTENSIBLE
      const Wav r = decode_wav(b);
      CHECK(r.sample_rate == 22050);
      CHECK(r.format == k.f);
      REQUIRE(r.num_channels() == nc);
      REQUIRE(r.num_frames() == 777);
      double err = 0;
      for (std::size_t c = 0; c < nc; ++c)
        for (std::size_t i = 0; i < 777; ++i)
          err = std::max(err, double(std::abs(r.channels[c][i] - w.channels[c][i])));
      CHECK(err <= k.tol);
    }
}

TEST_CASE("wav: PCM clipping, NaN and odd-sized data", "[dsp][wav]") {
  const std::vector<float> x{1.5f, -2.0f, 1.0f, std::nanf(""), 0.25f};
  const std::span<const float> ch[1] = {x};
  const auto r = decode_wav(encode_wav(ch, 8000, WavFormat::pcm16));
  CHECK(r.channels[0][0] == Approx(32767.0 / 32768.0));
  CHECK(r.channels[0][1] == -1.0f);
  CHECK(r.channels[0][2] == Approx(32767.0 / 32768.0));
  CHECK(r.channels[0][3] == 0.0f);
  CHECK(r.channels[0][4] == 0.25f);
  const auto b24 = encode_wav(ch, 8000, WavFormat::pcm24);  // 15 data bytes: padded to even
  CHECK(b24.size() % 2 == 0);
  CHECK(decode_wav(b24).num_frames() == 5);
}

TEST_CASE("wav: unknown and odd-sized chunks are skipped, data may precede fmt", "[dsp][wav]") {
  const auto f = riff({chunk("LIST", bytes_t{'a', 'b', 'c'}), chunk("data", pcm16_data({16384, -16384})),
                       chunk("fmt ", fmt_body(1, 1, 44100, 16)), chunk("junk", bytes_t(10, 7))});
  const Wav w = decode_wav(f);
  CHECK(w.sample_rate == 44100);
  CHECK(w.channels[0] == std::vector<float>{0.5f, -0.5f});
  // fmt with cbSize and extra bytes (18-byte fmt for PCM written by some tools)
  auto fb = fmt_body(1, 2, 48000, 16);
  put16(fb, 0);
  const Wav s = decode_wav(riff({chunk("fmt ", fb), chunk("data", pcm16_data({1, 2, 3, 4}))}));
  CHECK(s.num_channels() == 2);
  CHECK(s.channels[1][1] == 4.0f / 32768.0f);
}

TEST_CASE("wav: malformed, truncated, hostile and unsupported files raise fugue::error", "[dsp][wav]") {
  const auto good = riff({chunk("fmt ", fmt_body(1, 1, 16000, 16)), chunk("data", pcm16_data({1, 2, 3, 4}))});
  REQUIRE_NOTHROW(decode_wav(good));
  auto throws = [](const bytes_t& b, const std::string& what) {
    CHECK_THROWS_WITH(decode_wav(b), Contains(what));
    CHECK_THROWS_AS(decode_wav(b), fugue::error);
  };
  throws({}, "not a WAV");
  throws(bytes_t{'R', 'I', 'F', 'F', 0, 0, 0, 0, 'A', 'V', 'I', ' '}, "not a RIFF/WAVE");
  // truncation anywhere inside the data chunk
  for (std::size_t cut : {good.size() - 1, good.size() - 3, std::size_t(45)})
    throws(bytes_t(good.begin(), good.begin() + cut), "remain");
  // absurd chunk size
  auto big = good;
  big[40] = 0xF0;
  big[41] = 0xFF;
  big[42] = 0xFF;
  big[43] = 0xFF;
  throws(big, "claims");
  throws(riff({chunk("data", pcm16_data({1, 2}))}), "no fmt");
  throws(riff({chunk("fmt ", fmt_body(1, 1, 16000, 16))}), "no data");
  throws(riff({chunk("fmt ", fmt_body(1, 0, 16000, 16, 2)), chunk("data", pcm16_data({1}))}), "0 channels");
  throws(riff({chunk("fmt ", fmt_body(1, 1, 0, 16)), chunk("data", pcm16_data({1}))}), "sample rate 0");
  throws(riff({chunk("fmt ", fmt_body(1, 1, 8000, 8)), chunk("data", bytes_t{1, 2})}), "8-bit");
  throws(riff({chunk("fmt ", fmt_body(6, 1, 8000, 8)), chunk("data", bytes_t{1, 2})}), "A-law");
  throws(riff({chunk("fmt ", fmt_body(7, 1, 8000, 8)), chunk("data", bytes_t{1, 2})}), "mu-law");
  throws(riff({chunk("fmt ", fmt_body(3, 1, 8000, 16)), chunk("data", bytes_t{1, 2})}), "IEEE float");
  throws(riff({chunk("fmt ", fmt_body(1, 2, 8000, 16, 2)), chunk("data", pcm16_data({1, 2}))}), "block_align");
  throws(riff({chunk("fmt ", fmt_body(1, 2, 8000, 16)), chunk("data", pcm16_data({1, 2, 3}))}), "whole number");
  throws(riff({chunk("fmt ", bytes_t(10, 0)), chunk("data", pcm16_data({1}))}), "shorter than 16");
  throws(riff({chunk("fmt ", fmt_body(1, 1, 8000, 16)), chunk("fmt ", fmt_body(1, 1, 8000, 16)),
               chunk("data", pcm16_data({1}))}),
         "more than one fmt");
  // WAVE_FORMAT_EXTENSIBLE with a sub-format GUID that is neither PCM nor float
  Wav w = test_wav(3, 4, 0);
  auto ext = encode_wav(w, WavFormat::float32);
  REQUIRE(ext[20] == 0xFE);
  ext[20 + 26] ^= 0xFF;  // first byte of the GUID after the format tag
  throws(ext, "sub-format");
  auto ext_short = riff({chunk("fmt ", fmt_body(0xFFFE, 1, 8000, 16)), chunk("data", pcm16_data({1}))});
  throws(ext_short, "EXTENSIBLE");
}

TEST_CASE("wav: files on disk, atomic write, errors name the path", "[dsp][wav]") {
  const std::string dir = temp_dir();
  const std::string path = dir + "/a.wav";
  const Wav w = test_wav(2, 100, 32768.0);
  write_wav(path, w, WavFormat::pcm16);
  write_wav(path, w, WavFormat::pcm24);  // replaces the first file
  const Wav r = read_wav(path);
  CHECK(r.format == WavFormat::pcm24);
  CHECK(r.channels == w.channels);
  std::size_t files = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator(dir)) ++files;
  CHECK(files == 1);  // no temporary left behind
  CHECK_THROWS_WITH(read_wav(dir + "/missing.wav"), Contains("missing.wav"));
  CHECK_THROWS_AS(write_wav(dir + "/no/such/dir/b.wav", w), fugue::error);
  {
    std::ofstream f(dir + "/bad.wav", std::ios::binary);
    const char hdr[] = "RIFF\x04\0\0\0WAVE";
    f.write(hdr, 12);
  }
  CHECK_THROWS_WITH(read_wav(dir + "/bad.wav"), Contains("bad.wav") && Contains("no fmt"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("wav: files from an independent encoder (the fuzz seed corpus)", "[dsp][wav]") {
  const std::string dir = FUGUE_WAV_CORPUS;
  auto expect = [](std::size_t i) { return std::sin(double(i) * 0.3) * 0.8; };  // the corpus' samples
  const Wav a = read_wav(dir + "/pcm16_mono.wav");
  CHECK(a.sample_rate == 16000);
  REQUIRE(a.num_frames() == 24);
  for (std::size_t i = 0; i < 24; ++i) CHECK(a.channels[0][i] == Approx(expect(i)).margin(1.0 / 32768));
  const Wav b = read_wav(dir + "/pcm24_stereo.wav");
  CHECK(b.num_channels() == 2);
  CHECK(b.channels[1][3] == Approx(expect(7)).margin(1e-6));
  const Wav c = read_wav(dir + "/ext_float_3ch.wav");
  CHECK(c.format == WavFormat::float32);
  CHECK(c.channels[2][7] == float(expect(23)));
  CHECK(read_wav(dir + "/ext_pcm16_6ch.wav").num_channels() == 6);
  CHECK(read_wav(dir + "/float64_mono.wav").channels[0][5] == float(expect(5)));
  CHECK(read_wav(dir + "/pcm32_list.wav").channels[0][4] == Approx(expect(4)).margin(1e-7));
  CHECK(read_wav(dir + "/float32_fact.wav").num_frames() == 12);
  CHECK(read_wav(dir + "/data_first_odd_chunk.wav").num_channels() == 2);
  CHECK_THROWS_WITH(read_wav(dir + "/truncated.wav"), Contains("truncated"));
  CHECK_THROWS_WITH(read_wav(dir + "/alaw.wav"), Contains("A-law"));
}
