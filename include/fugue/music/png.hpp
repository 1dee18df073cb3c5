// fugue/music/png.hpp — a minimal PNG encoder (8-bit RGB), header-only.
//
// Contract: encode_png_rgb(w, h, rgb) returns a valid PNG: IHDR, one IDAT holding a zlib
// stream of uncompressed ("stored") deflate blocks, IEND; CRC-32 per chunk and Adler-32
// over the scanlines (filter byte 0 each row). write_png_rgb writes it to a file.
//
// Why our own and not stb_image_write: stb's implementation must be compiled in exactly
// one translation unit (STB_IMAGE_WRITE_IMPLEMENTATION); a header-only library that
// defines it risks duplicate symbols or silently different copies once a user also uses
// stb. Stored blocks cost size (piano rolls are a few hundred KB at most), not
// correctness, and this is ~80 lines with no dependency.
#pragma once

#include <array>
#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "fugue/core/error.hpp"

namespace fugue::music {

namespace detail::png {

inline uint32_t crc32(const uint8_t* p, std::size_t n, uint32_t crc = 0) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  crc = ~crc;
  for (std::size_t i = 0; i < n; ++i) crc = table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

inline void be32(std::vector<uint8_t>& o, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) o.push_back(static_cast<uint8_t>(v >> s));
}

inline void chunk(std::vector<uint8_t>& o, const char* type, const std::vector<uint8_t>& data) {
  be32(o, static_cast<uint32_t>(data.size()));
  std::size_t start = o.size();
  o.insert(o.end(), type, type + 4);
  o.insert(o.end(), data.begin(), data.end());
  be32(o, crc32(o.data() + start, o.size() - start));
}

}  // namespace detail::png

inline std::vector<uint8_t> encode_png_rgb(uint32_t width, uint32_t height, const std::vector<uint8_t>& rgb) {
  using namespace detail::png;
  FUGUE_CHECK(width > 0 && height > 0 && width < (1u << 24) && height < (1u << 24), "PNG: bad size ", width, "x",
              height);
  FUGUE_CHECK(rgb.size() == std::size_t{width} * height * 3, "PNG: expected ", std::size_t{width} * height * 3,
              " RGB bytes, got ", rgb.size());
  std::vector<uint8_t> raw;  // filter byte + scanline per row
  raw.reserve((std::size_t{width} * 3 + 1) * height);
  for (uint32_t y = 0; y < height; ++y) {
    raw.push_back(0);
    raw.insert(raw.end(), rgb.begin() + static_cast<std::ptrdiff_t>(std::size_t{y} * width * 3),
               rgb.begin() + static_cast<std::ptrdiff_t>(std::size_t{y + 1} * width * 3));
  }
  std::vector<uint8_t> z{0x78, 0x01};  // deflate, 32K window, no preset dictionary
  for (std::size_t pos = 0; pos < raw.size() || raw.empty();) {
    std::size_t n = std::min<std::size_t>(65535, raw.size() - pos);
    bool last = pos + n == raw.size();
    z.push_back(last ? 1 : 0);
    z.push_back(static_cast<uint8_t>(n));
    z.push_back(static_cast<uint8_t>(n >> 8));
    z.push_back(static_cast<uint8_t>(~n));
    z.push_back(static_cast<uint8_t>(~n >> 8));
    z.insert(z.end(), raw.begin() + static_cast<std::ptrdiff_t>(pos),
             raw.begin() + static_cast<std::ptrdiff_t>(pos + n));
    pos += n;
    if (last) break;
  }
  uint32_t a = 1, b = 0;  // Adler-32
  for (uint8_t c : raw) {
    a = (a + c) % 65521;
    b = (b + a) % 65521;
  }
  be32(z, (b << 16) | a);
  std::vector<uint8_t> png{0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  std::vector<uint8_t> ihdr;
  be32(ihdr, width);
  be32(ihdr, height);
  ihdr.insert(ihdr.end(), {8, 2, 0, 0, 0});  // 8-bit, truecolour, deflate, adaptive, no interlace
  chunk(png, "IHDR", ihdr);
  chunk(png, "IDAT", z);
  chunk(png, "IEND", {});
  return png;
}

inline void write_png_rgb(const std::string& path, uint32_t width, uint32_t height, const std::vector<uint8_t>& rgb) {
  auto bytes = encode_png_rgb(width, height, rgb);
  std::ofstream f(path, std::ios::binary);
  FUGUE_CHECK(f.good(), "PNG: cannot create ", path);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  FUGUE_CHECK(f.good(), "PNG: write error on ", path);
}

}  // namespace fugue::music
