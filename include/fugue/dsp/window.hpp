// fugue/dsp/window.hpp — analysis windows.
//
// Contract: hann<T>(n, periodic) returns w[m] = 0.5 - 0.5 cos(2 pi m / D), D = n (periodic, the
// default of tf.signal.hann_window, torch.hann_window and scipy/librosa get_window('hann')) or
// D = n - 1 (symmetric, numpy.hanning). n = 1 gives {1}; n = 0 gives {}. Computed in double, then cast.
#pragma once

#include <cmath>
#include <cstddef>
#include <numbers>
#include <vector>

namespace fugue::dsp {

template <class T = double>
std::vector<T> hann(std::size_t n, bool periodic = true) {
  std::vector<T> w(n);
  if (n == 1) w[0] = T(1);
  if (n <= 1) return w;
  const double D = periodic ? double(n) : double(n - 1);
  for (std::size_t m = 0; m < n; ++m)
    w[m] = static_cast<T>(0.5 - 0.5 * std::cos(2.0 * std::numbers::pi * double(m) / D));
  return w;
}

}  // namespace fugue::dsp
