// fugue/io/glyphs.hpp — a tiny bitmap font for labels on pictures (axis numbers, note names).
//
// Contract
//  * Glyphs are 5 x 7 pixels on a 6-pixel advance, drawn scale x scale per pixel. The set is what
//    labels need: digits, the note letters A-G, '#', '.', '-', '+', 'e', 'k', 's' and space;
//    any other character is a fugue::error naming it (a label never silently loses a character).
//  * text_width(text, scale) = 6 scale characters - scale (no trailing gap); text height 7 scale.
//  * draw_text(image, x, y, text, colour, scale): (x, y) is the top-left corner; pixels outside the
//    image are clipped.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <string_view>

#include "fugue/core/error.hpp"
#include "fugue/io/png.hpp"

namespace fugue::io {

namespace detail::glyphs {
struct Glyph {
  char c;
  std::array<std::uint8_t, 7> rows;  // 5 bits each, most significant bit on the left
};
// Drawn for this header: rows top to bottom.
inline constexpr Glyph kFont[] = {
    {' ', {0, 0, 0, 0, 0, 0, 0}},
    {'0', {0b01110, 0b10001, 0b10011, 0b10101, 0b11001, 0b10001, 0b01110}},
    {'1', {0b00100, 0b01100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110}},
    {'2', {0b01110, 0b10001, 0b00001, 0b00010, 0b00100, 0b01000, 0b11111}},
    {'3', {0b11110, 0b00001, 0b00001, 0b01110, 0b00001, 0b00001, 0b11110}},
    {'4', {0b00010, 0b00110, 0b01010, 0b10010, 0b11111, 0b00010, 0b00010}},
    {'5', {0b11111, 0b10000, 0b11110, 0b00001, 0b00001, 0b10001, 0b01110}},
    {'6', {0b00110, 0b01000, 0b10000, 0b11110, 0b10001, 0b10001, 0b01110}},
    {'7', {0b11111, 0b00001, 0b00010, 0b00100, 0b01000, 0b01000, 0b01000}},
    {'8', {0b01110, 0b10001, 0b10001, 0b01110, 0b10001, 0b10001, 0b01110}},
    {'9', {0b01110, 0b10001, 0b10001, 0b01111, 0b00001, 0b00010, 0b01100}},
    {'A', {0b01110, 0b10001, 0b10001, 0b11111, 0b10001, 0b10001, 0b10001}},
    {'B', {0b11110, 0b10001, 0b10001, 0b11110, 0b10001, 0b10001, 0b11110}},
    {'C', {0b01110, 0b10001, 0b10000, 0b10000, 0b10000, 0b10001, 0b01110}},
    {'D', {0b11100, 0b10010, 0b10001, 0b10001, 0b10001, 0b10010, 0b11100}},
    {'E', {0b11111, 0b10000, 0b10000, 0b11110, 0b10000, 0b10000, 0b11111}},
    {'F', {0b11111, 0b10000, 0b10000, 0b11110, 0b10000, 0b10000, 0b10000}},
    {'G', {0b01110, 0b10001, 0b10000, 0b10111, 0b10001, 0b10001, 0b01111}},
    {'#', {0b01010, 0b01010, 0b11111, 0b01010, 0b11111, 0b01010, 0b01010}},
    {'.', {0, 0, 0, 0, 0, 0b01100, 0b01100}},
    {'-', {0, 0, 0, 0b11111, 0, 0, 0}},
    {'+', {0, 0b00100, 0b00100, 0b11111, 0b00100, 0b00100, 0}},
    {'e', {0, 0, 0b01110, 0b10001, 0b11111, 0b10000, 0b01110}},
    {'k', {0b10000, 0b10000, 0b10010, 0b10100, 0b11000, 0b10100, 0b10010}},
    {'s', {0, 0, 0b01111, 0b10000, 0b01110, 0b00001, 0b11110}},
};
inline const Glyph& glyph(char c) {
  for (const Glyph& g : kFont)
    if (g.c == c) return g;
  FUGUE_FAIL("draw_text: no glyph for '", c, "' (the label font has digits, A-G, #, ., -, +, e, k, s, space)");
}
}  // namespace detail::glyphs

inline int text_width(std::string_view text, int scale = 1) {
  return text.empty() ? 0 : int(text.size()) * 6 * scale - scale;
}

inline void draw_text(RgbImage& image, int x, int y, std::string_view text, std::array<std::uint8_t, 3> colour,
                      int scale = 1) {
  FUGUE_CHECK(scale >= 1 && scale <= 16, "draw_text: scale must be in 1..16, got ", scale);
  for (char c : text) {
    const auto& g = detail::glyphs::glyph(c);
    for (int row = 0; row < 7; ++row)
      for (int col = 0; col < 5; ++col) {
        if (!((g.rows[std::size_t(row)] >> (4 - col)) & 1)) continue;
        for (int dy = 0; dy < scale; ++dy)
          for (int dx = 0; dx < scale; ++dx) {
            const int px = x + col * scale + dx, py = y + row * scale + dy;
            if (px >= 0 && py >= 0 && px < int(image.width) && py < int(image.height))
              std::copy(colour.begin(), colour.end(), image.at(std::uint32_t(px), std::uint32_t(py)));
          }
      }
    x += 6 * scale;
  }
}

}  // namespace fugue::io
