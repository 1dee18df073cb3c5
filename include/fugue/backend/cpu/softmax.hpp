// fugue/backend/cpu/softmax.hpp — row-wise softmax and log-softmax.
//
// Contract: for each of `rows` rows of `cols` contiguous elements, y = softmax(x)
// (or log_softmax(x)), computed stably by subtracting the row maximum. y may
// alias x. A row of all -inf gives NaN (as in PyTorch).
#pragma once

#include <cmath>

#include "fugue/backend/cpu/reduce.hpp"

namespace fugue::cpu::kernels {

template <class Arch, class T>
void softmax_rows(index_t rows, index_t cols, const T* x, T* y) {
  for (index_t r = 0; r < rows; ++r) {
    const T* xr = x + r * cols;
    T* yr = y + r * cols;
    T m = max<Arch>(cols, xr);
    T s = 0;
    for (index_t c = 0; c < cols; ++c) s += (yr[c] = std::exp(xr[c] - m));
    T inv = T(1) / s;
    for (index_t c = 0; c < cols; ++c) yr[c] *= inv;
  }
}

template <class Arch, class T>
void log_softmax_rows(index_t rows, index_t cols, const T* x, T* y) {
  for (index_t r = 0; r < rows; ++r) {
    const T* xr = x + r * cols;
    T* yr = y + r * cols;
    T m = max<Arch>(cols, xr);
    T s = 0;
    for (index_t c = 0; c < cols; ++c) s += std::exp(xr[c] - m);
    T lse = m + std::log(s);
    for (index_t c = 0; c < cols; ++c) yr[c] = xr[c] - lse;
  }
}

}  // namespace fugue::cpu::kernels
