// fugue/io/png.hpp — a small PNG encoder (8-bit RGB), header-only, over zlib.
//
// Contract: RgbImage is an 8-bit RGB picture (row-major, top row first). encode_png_rgb(w, h, rgb) returns a valid,
// losslessly compressed PNG: IHDR, one IDAT, IEND, CRC-32 per chunk. Each scanline gets the PNG filter (None, Sub, Up
// or Paeth) with the smallest sum of absolute filtered bytes (libpng's heuristic), and the filtered scanlines are
// deflated by zlib at level 9. write_png_rgb / write_png(path, image) write the bytes atomically (io/atomic_file.hpp):
// a picture that was there survives any failure.
//
// Why our own and not stb_image_write: stb's implementation must be compiled in exactly
// one translation unit (STB_IMAGE_WRITE_IMPLEMENTATION); a header-only library that
// defines it risks duplicate symbols or silently different copies once a user also uses
// stb. zlib (every Debian machine has it; fugue::fugue links it) does the deflate.
#pragma once

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "fugue/core/error.hpp"
#include "fugue/io/atomic_file.hpp"

namespace fugue::io {

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

// The PNG filters of one scanline (bpp bytes per pixel; prev is the unfiltered row above, or
// zeros for the first row), written after the filter-type byte to out.
inline uint8_t paeth(int a, int b, int c) {
  const int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
  return static_cast<uint8_t>(pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
}
inline void filter_row(int type, const uint8_t* row, const uint8_t* prev, std::size_t n, std::size_t bpp,
                       uint8_t* out) {
  for (std::size_t i = 0; i < n; ++i) {
    const int a = i >= bpp ? row[i - bpp] : 0, b = prev[i], c = i >= bpp ? prev[i - bpp] : 0;
    const int pred = type == 1 ? a : type == 2 ? b : type == 4 ? paeth(a, b, c) : 0;
    out[i] = static_cast<uint8_t>(row[i] - pred);
  }
}
// The sum of the filtered bytes read as signed values: smaller usually deflates better.
inline long filtered_cost(const uint8_t* f, std::size_t n) {
  long s = 0;
  for (std::size_t i = 0; i < n; ++i) s += std::abs(int(static_cast<int8_t>(f[i])));
  return s;
}

}  // namespace detail::png

// An 8-bit RGB picture: row-major, top row first, 3 bytes per pixel.
struct RgbImage {
  std::uint32_t width = 0, height = 0;
  std::vector<std::uint8_t> rgb;
  RgbImage() = default;
  RgbImage(std::uint32_t w, std::uint32_t h, std::array<std::uint8_t, 3> fill = {255, 255, 255})
      : width(w), height(h), rgb(std::size_t(w) * h * 3) {
    for (std::size_t i = 0; i < rgb.size(); i += 3)
      std::copy(fill.begin(), fill.end(), rgb.begin() + std::ptrdiff_t(i));
  }
  std::uint8_t* at(std::uint32_t x, std::uint32_t y) { return rgb.data() + (std::size_t(y) * width + x) * 3; }
  const std::uint8_t* at(std::uint32_t x, std::uint32_t y) const {
    return rgb.data() + (std::size_t(y) * width + x) * 3;
  }
};

inline std::vector<uint8_t> encode_png_rgb(uint32_t width, uint32_t height, const std::vector<uint8_t>& rgb) {
  using namespace detail::png;
  FUGUE_CHECK(width > 0 && height > 0 && width < (1u << 24) && height < (1u << 24), "PNG: bad size ", width, "x",
              height);
  FUGUE_CHECK(rgb.size() == std::size_t{width} * height * 3, "PNG: expected ", std::size_t{width} * height * 3,
              " RGB bytes, got ", rgb.size());
  const std::size_t stride = std::size_t{width} * 3;
  std::vector<uint8_t> raw((stride + 1) * height);  // filter byte + filtered scanline per row
  std::vector<uint8_t> zeros(stride, 0), trial(stride);
  for (uint32_t y = 0; y < height; ++y) {
    const uint8_t* row = rgb.data() + std::size_t{y} * stride;
    const uint8_t* prev = y ? row - stride : zeros.data();
    uint8_t* dst = raw.data() + std::size_t{y} * (stride + 1);
    long best = -1;
    for (int type : {0, 1, 2, 4}) {
      filter_row(type, row, prev, stride, 3, trial.data());
      const long cost = filtered_cost(trial.data(), stride);
      if (best < 0 || cost < best) {
        best = cost;
        dst[0] = static_cast<uint8_t>(type);
        std::copy(trial.begin(), trial.end(), dst + 1);
      }
    }
  }
  uLongf zsize = compressBound(static_cast<uLong>(raw.size()));
  std::vector<uint8_t> z(zsize);
  const int rc = compress2(z.data(), &zsize, raw.data(), static_cast<uLong>(raw.size()), 9);
  FUGUE_CHECK(rc == Z_OK, "PNG: zlib's compress2 failed (code ", rc, ") on a ", width, "x", height, " image");
  z.resize(zsize);
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
  const auto bytes = encode_png_rgb(width, height, rgb);
  write_file_atomic(path, std::span<const std::byte>(reinterpret_cast<const std::byte*>(bytes.data()), bytes.size()));
}

inline void write_png(const std::string& path, const RgbImage& image) {
  write_png_rgb(path, image.width, image.height, image.rgb);
}

}  // namespace fugue::io
