// fugue/dsp/spectrogram_image.hpp — a log-magnitude spectrogram as a picture.
//
// Contract
//  * spectrogram_rgb(samples, options) -> io::RgbImage{width = STFT frames, height = bins shown}:
//    |STFT| (periodic Hann, centred zero-padded frames of options.frame, hop options.hop), in dB
//    relative to the loudest cell, clipped to options.range_db below it, bins 0 .. max_hz (at
//    sample_rate) shown low frequencies at the bottom in options.height rows (each the loudest of
//    the bins it covers; 0 or more rows than bins: one row per bin); colour from viridis().
//    Empty or non-finite audio is a fugue::error naming the sample.
//  * viridis(u), u in [0, 1] (clamped): matplotlib's perceptually uniform map (dark blue-purple
//    -> green -> yellow; its lightness rises monotonically, so louder is always brighter), as
//    linear interpolation between nine samples of it.
//  * write_spectrogram_png(path, samples, options): the picture as a PNG (io/png.hpp, atomic).
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "fugue/core/error.hpp"
#include "fugue/dsp/framing.hpp"
#include "fugue/dsp/stft.hpp"
#include "fugue/io/png.hpp"

namespace fugue::dsp {

using io::RgbImage;

struct SpectrogramImageOptions {
  double sample_rate = 16000;
  std::size_t frame = 1024, hop = 256;
  double max_hz = 8000;      // the highest frequency shown (at most sample_rate / 2)
  double range_db = 80;      // dynamic range below the loudest cell
  std::size_t height = 256;  // picture rows (each the loudest of the bins it covers); 0: one per bin
};

inline std::array<std::uint8_t, 3> viridis(double u) {
  static constexpr std::uint8_t stops[9][3] = {{68, 1, 84},    {71, 44, 122},  {59, 82, 139},
                                               {44, 114, 142}, {33, 145, 140}, {39, 173, 129},
                                               {92, 200, 99},  {170, 220, 50}, {253, 231, 37}};
  u = std::isfinite(u) ? std::clamp(u, 0.0, 1.0) : 0.0;
  const double p = u * 8;
  const int i = std::min(int(p), 7);
  const double f = p - i;
  std::array<std::uint8_t, 3> c{};
  for (int k = 0; k < 3; ++k)
    c[std::size_t(k)] = std::uint8_t(std::lround(stops[i][k] + f * (stops[i + 1][k] - stops[i][k])));
  return c;
}

template <class T>
RgbImage spectrogram_rgb(std::span<const T> samples, const SpectrogramImageOptions& o = {}) {
  FUGUE_CHECK(!samples.empty(), "spectrogram_rgb: no samples");
  for (std::size_t i = 0; i < samples.size(); ++i)
    FUGUE_CHECK(std::isfinite(double(samples[i])), "spectrogram_rgb: sample ", i, " is not finite");
  FUGUE_CHECK(o.sample_rate > 0 && o.frame >= 2 && o.hop >= 1 && o.range_db > 0 && o.max_hz > 0,
              "spectrogram_rgb: bad options (sample rate ", o.sample_rate, ", frame ", o.frame, ", hop ", o.hop, ")");
  const Stft<T> stft(Framing::center(o.frame, o.hop, PadKind::zeros));
  const auto X = stft.forward(samples);
  const std::size_t bins = X.cols();
  const std::size_t shown =
      std::clamp<std::size_t>(std::size_t(std::floor(o.max_hz / o.sample_rate * double(o.frame))) + 1, 1, bins);
  const std::size_t rows = o.height == 0 ? shown : std::min(o.height, shown);
  RgbImage img(std::uint32_t(X.rows()), std::uint32_t(rows));
  std::vector<double> db(X.rows() * rows);
  double top = -1e300;
  for (std::size_t t = 0; t < X.rows(); ++t)
    for (std::size_t r = 0; r < rows; ++r) {
      double m = 0;  // the loudest bin of the row's share [r shown / rows, (r + 1) shown / rows)
      for (std::size_t k = r * shown / rows; k < std::max((r + 1) * shown / rows, r * shown / rows + 1); ++k)
        m = std::max(m, double(std::abs(X(t, k))));
      db[t * rows + r] = 20 * std::log10(m + 1e-12);
      top = std::max(top, db[t * rows + r]);
    }
  for (std::size_t t = 0; t < X.rows(); ++t)
    for (std::size_t r = 0; r < rows; ++r) {
      const auto c = viridis((db[t * rows + r] - top + o.range_db) / o.range_db);
      std::copy(c.begin(), c.end(), img.at(std::uint32_t(t), std::uint32_t(rows - 1 - r)));
    }
  return img;
}

template <class T>
void write_spectrogram_png(const std::string& path, std::span<const T> samples, const SpectrogramImageOptions& o = {}) {
  io::write_png(path, spectrogram_rgb(samples, o));
}

}  // namespace fugue::dsp
