// fugue/io/plot.hpp — line plots as pictures (training curves), no fonts: the axes' spans are
// returned so that the page showing the picture can state them in text.
//
// Contract
//  * line_plot(series, options) -> PlotImage{image, frame}: a white picture of options.width x
//    options.height with a grey frame, light grid lines (five divisions of x; of y too, or one
//    per decade with log_y) and each series drawn as a 2-pixel polyline in its colour, in order
//    (later series on top). Points with a non-finite coordinate (or y <= 0 under log_y) are
//    gaps in the line.
//  * With options.labels the end values of both spans are written beside the axes (left: y1 at the
//    top, y0 at the bottom; under: x0 and x1) in the 5 x 7 label font, in margins made for them.
//  * frame: the spans drawn (x0..x1, y0..y1 over the finite points of all series, y on a log10
//    scale when log_y; a flat span is widened by 1 so nothing divides by zero).
//  * An empty plot (no drawable point) is a fugue::error; series of unequal x / y lengths too.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#include "fugue/core/error.hpp"
#include "fugue/io/glyphs.hpp"
#include "fugue/io/png.hpp"

namespace fugue::io {

struct PlotSeries {
  std::vector<double> x, y;
  std::array<std::uint8_t, 3> colour{31, 119, 180};
};

struct PlotOptions {
  std::uint32_t width = 640, height = 320;
  bool log_y = false;
  bool labels = false;  // the spans' end values written at the axes' ends (io/glyphs.hpp)
};

struct PlotFrame {
  double x0 = 0, x1 = 1, y0 = 0, y1 = 1;  // y0 / y1 are the values (not logs) under log_y
  bool log_y = false;
};

struct PlotImage {
  RgbImage image;
  PlotFrame frame;
};

namespace detail::plot {
inline void dot(RgbImage& im, int x, int y, const std::array<std::uint8_t, 3>& c) {
  for (int dy = 0; dy < 2; ++dy)
    for (int dx = 0; dx < 2; ++dx) {
      const int px = x + dx, py = y + dy;
      if (px >= 0 && py >= 0 && px < int(im.width) && py < int(im.height))
        std::copy(c.begin(), c.end(), im.at(std::uint32_t(px), std::uint32_t(py)));
    }
}
// Bresenham's line from (x0, y0) to (x1, y1).
inline void line(RgbImage& im, int x0, int y0, int x1, int y1, const std::array<std::uint8_t, 3>& c) {
  const int dx = std::abs(x1 - x0), dy = -std::abs(y1 - y0), sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
  int err = dx + dy;
  for (;;) {
    dot(im, x0, y0, c);
    if (x0 == x1 && y0 == y1) return;
    const int e2 = 2 * err;
    if (e2 >= dy) err += dy, x0 += sx;
    if (e2 <= dx) err += dx, y0 += sy;
  }
}
}  // namespace detail::plot

inline PlotImage line_plot(const std::vector<PlotSeries>& series, const PlotOptions& o = {}) {
  FUGUE_CHECK(o.width >= 16 && o.height >= 16, "line_plot: the picture must be at least 16 x 16, got ", o.width, " x ",
              o.height);
  const auto drawable = [&](double x, double y) { return std::isfinite(x) && std::isfinite(y) && (!o.log_y || y > 0); };
  double x0 = std::numeric_limits<double>::infinity(), x1 = -x0, y0 = x0, y1 = -x0;
  for (std::size_t s = 0; s < series.size(); ++s) {
    FUGUE_CHECK(series[s].x.size() == series[s].y.size(), "line_plot: series ", s, " has ", series[s].x.size(),
                " x values and ", series[s].y.size(), " y values");
    for (std::size_t i = 0; i < series[s].x.size(); ++i) {
      const double x = series[s].x[i], y = series[s].y[i];
      if (!drawable(x, y)) continue;
      const double v = o.log_y ? std::log10(y) : y;
      x0 = std::min(x0, x), x1 = std::max(x1, x), y0 = std::min(y0, v), y1 = std::max(y1, v);
    }
  }
  FUGUE_CHECK(x0 <= x1, "line_plot: nothing to draw (no point with finite coordinates", o.log_y ? " and y > 0" : "",
              ")");
  if (x1 == x0) x1 = x0 + 1;
  if (y1 == y0) y1 = y0 + 1;

  PlotImage out{RgbImage(o.width, o.height),
                PlotFrame{x0, x1, o.log_y ? std::pow(10.0, y0) : y0, o.log_y ? std::pow(10.0, y1) : y1, o.log_y}};
  RgbImage& im = out.image;
  // Margins: 6 pixels, and with labels room for the y values on the left and a line of x values.
  const auto number = [](double v) {
    char b[32];
    std::snprintf(b, sizeof b, "%.4g", v);
    return std::string(b);
  };
  const PlotFrame& f = out.frame;
  const std::string ly1 = number(f.y1), ly0 = number(f.y0), lx0 = number(f.x0), lx1 = number(f.x1);
  const int ml = o.labels ? 6 + std::max(text_width(ly0), text_width(ly1)) + 4 : 6, mt = 6, mr = 6,
            mb = o.labels ? 6 + 7 + 4 : 6;
  const int m = ml, W = int(o.width) - ml - mr, H = int(o.height) - mt - mb;
  FUGUE_CHECK(W >= 8 && H >= 8, "line_plot: ", o.width, " x ", o.height, " leaves no room to plot beside the labels");
  const auto px = [&](double x) { return m + int(std::lround((x - x0) / (x1 - x0) * (W - 1))); };
  const auto py = [&](double v) { return mt + H - 1 - int(std::lround((v - y0) / (y1 - y0) * (H - 1))); };
  const std::array<std::uint8_t, 3> grid{226, 226, 226}, frame{150, 150, 150};
  const auto hline = [&](int y, const std::array<std::uint8_t, 3>& c) {
    for (int x = m; x < m + W; ++x) std::copy(c.begin(), c.end(), im.at(std::uint32_t(x), std::uint32_t(y)));
  };
  const auto vline = [&](int x, const std::array<std::uint8_t, 3>& c) {
    for (int y = mt; y < mt + H; ++y) std::copy(c.begin(), c.end(), im.at(std::uint32_t(x), std::uint32_t(y)));
  };
  for (int k = 1; k < 5; ++k) vline(m + k * (W - 1) / 5, grid);
  if (o.log_y) {
    for (double d = std::ceil(y0); d <= y1; d += 1) hline(py(d), grid);
  } else {
    for (int k = 1; k < 5; ++k) hline(mt + k * (H - 1) / 5, grid);
  }
  hline(mt, frame), hline(mt + H - 1, frame), vline(m, frame), vline(m + W - 1, frame);
  if (o.labels) {
    const std::array<std::uint8_t, 3> ink{70, 70, 70};
    draw_text(im, m - 4 - text_width(ly1), mt, ly1, ink);
    draw_text(im, m - 4 - text_width(ly0), mt + H - 7, ly0, ink);
    draw_text(im, m, mt + H + 4, lx0, ink);
    draw_text(im, m + W - text_width(lx1), mt + H + 4, lx1, ink);
  }

  for (const auto& s : series) {
    bool have_prev = false;
    int qx = 0, qy = 0;
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      if (!drawable(s.x[i], s.y[i])) {
        have_prev = false;
        continue;
      }
      const int cx = px(s.x[i]), cy = py(o.log_y ? std::log10(s.y[i]) : s.y[i]);
      if (have_prev)
        detail::plot::line(im, qx, qy, cx, cy, s.colour);
      else
        detail::plot::dot(im, cx, cy, s.colour);
      qx = cx, qy = cy, have_prev = true;
    }
  }
  return out;
}

}  // namespace fugue::io
