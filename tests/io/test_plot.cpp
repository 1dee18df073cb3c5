// Line plots (io/plot.hpp): the frame spans the data, a line goes where its points are, gaps
// stay gaps, and what cannot be drawn is refused; the label font (io/glyphs.hpp).
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include "fugue/io/glyphs.hpp"
#include "fugue/io/plot.hpp"

using namespace fugue::io;

namespace {
bool coloured(const RgbImage& im, int x, int y, std::array<std::uint8_t, 3> c) {
  for (int dy = -2; dy <= 2; ++dy)
    for (int dx = -2; dx <= 2; ++dx) {
      const int px = x + dx, py = y + dy;
      if (px < 0 || py < 0 || px >= int(im.width) || py >= int(im.height)) continue;
      const auto* p = im.at(std::uint32_t(px), std::uint32_t(py));
      if (p[0] == c[0] && p[1] == c[1] && p[2] == c[2]) return true;
    }
  return false;
}
}  // namespace

TEST_CASE("line plot: the frame spans the points and the line runs corner to corner", "[io][plot]") {
  const std::array<std::uint8_t, 3> red{200, 0, 0};
  PlotSeries s{{0, 1, 2, 3, 4}, {10, 7.5, 5, 2.5, 0}, red};
  const PlotImage p = line_plot({s}, {200, 100, false});
  CHECK(p.image.width == 200);
  CHECK(p.image.height == 100);
  CHECK(p.frame.x0 == 0);
  CHECK(p.frame.x1 == 4);
  CHECK(p.frame.y0 == 0);
  CHECK(p.frame.y1 == 10);
  // Decreasing: top-left to bottom-right (6-pixel margin), and not in the other corners.
  CHECK(coloured(p.image, 6, 6, red));
  CHECK(coloured(p.image, 193, 93, red));
  CHECK(coloured(p.image, 100, 50, red));
  CHECK_FALSE(coloured(p.image, 193, 6, red));
  CHECK_FALSE(coloured(p.image, 6, 93, red));
}

TEST_CASE("line plot: log scale, gaps, and refusals", "[io][plot]") {
  const std::array<std::uint8_t, 3> blue{0, 0, 200};
  const double nan = std::numeric_limits<double>::quiet_NaN();
  // 1, 10, 100 on a log axis are evenly spaced; the NaN and the non-positive value are gaps.
  PlotSeries s{{0, 1, 2, 3, 4}, {1, 10, nan, 100, -5}, blue};
  const PlotImage p = line_plot({s}, {200, 100, true});
  CHECK(p.frame.y0 == Approx(1));
  CHECK(p.frame.y1 == Approx(100));
  CHECK(p.frame.x1 == 3);                                         // x = 4 had y <= 0: not drawable on a log axis
  CHECK(coloured(p.image, 6, 93, blue));                          // (0, 1)
  CHECK(coloured(p.image, 6 + 187 / 3, 6 + 87 / 2, blue));        // (1, 10): half way up
  CHECK_FALSE(coloured(p.image, 6 + 187 / 2, 6 + 87 / 4, blue));  // no line across the gap
  CHECK(coloured(p.image, 193, 6, blue));                         // (3, 100)

  CHECK_THROWS_WITH(line_plot({PlotSeries{{1, 2}, {1}, blue}}), Catch::Contains("series 0 has 2 x values and 1 y"));
  CHECK_THROWS_WITH(line_plot({PlotSeries{{1}, {nan}, blue}}), Catch::Contains("nothing to draw"));
  CHECK_THROWS_WITH(line_plot({}, {8, 8, false}), Catch::Contains("at least 16 x 16"));
}

TEST_CASE("label font: widths, the pixels of a glyph, clipping and unknown characters", "[io][plot]") {
  CHECK(text_width("") == 0);
  CHECK(text_width("C4") == 11);
  CHECK(text_width("C4", 2) == 22);
  RgbImage im(12, 9);
  draw_text(im, 1, 1, "1", {0, 0, 0});
  // '1' is 00100 / 01100 / 00100 x4 / 01110: its stem is column 2 on every row.
  for (std::uint32_t row = 0; row < 7; ++row) CHECK(im.at(1 + 2, 1 + row)[0] == 0);
  CHECK(im.at(1 + 0, 1 + 0)[0] == 255);
  CHECK(im.at(1 + 1, 1 + 1)[0] == 0);    // the flag
  CHECK(im.at(1 + 4, 1 + 6)[0] == 255);  // the base is 3 wide
  CHECK(im.at(1 + 3, 1 + 6)[0] == 0);
  draw_text(im, 9, 5, "88", {0, 0, 0}, 2);  // mostly outside: clipped, no crash
  CHECK_THROWS_WITH(draw_text(im, 0, 0, "loss", {0, 0, 0}), Catch::Contains("no glyph for 'l'"));
}

TEST_CASE("line plot: with labels the spans' ends are written beside the axes", "[io][plot]") {
  const std::array<std::uint8_t, 3> red{200, 0, 0};
  PlotSeries s{{1, 80}, {143.6, 51.43}, red};
  const PlotImage plain = line_plot({s}, {300, 120, false, false});
  const PlotImage labelled = line_plot({s}, {300, 120, false, true});
  CHECK(labelled.frame.y1 == plain.frame.y1);
  // "143.6" is 29 pixels wide: the plot starts at 6 + 29 + 4 = 39, and the line starts there.
  CHECK(coloured(labelled.image, 39, 6, red));
  CHECK_FALSE(coloured(labelled.image, 6, 6, red));
  auto ink = [&](int x0, int y0, int x1, int y1) {
    int n = 0;
    for (int y = y0; y < y1; ++y)
      for (int x = x0; x < x1; ++x) n += labelled.image.at(std::uint32_t(x), std::uint32_t(y))[0] < 128;
    return n;
  };
  CHECK(ink(0, 6, 36, 13) > 0);        // y1 at the top left
  CHECK(ink(0, 90, 36, 97) > 0);       // y0 at the bottom left (plot height 120 - 6 - 17 = 97)
  CHECK(ink(0, 40, 36, 80) == 0);      // nothing between them
  CHECK(ink(39, 107, 60, 114) > 0);    // x0 under the left end
  CHECK(ink(280, 107, 294, 114) > 0);  // x1 under the right end
  CHECK_THROWS_WITH(line_plot({s}, {40, 20, false, true}), Catch::Contains("no room to plot beside the labels"));
}
