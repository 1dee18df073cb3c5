// fugue/backend/cpu/layer_norm.hpp — layer normalisation over the last axis.
//
// Contract: for each row of `cols` elements, y = (x - mean) * rstd * gamma + beta
// with rstd = 1 / sqrt(var + eps) and the biased variance (as PyTorch). gamma and
// beta may be null (meaning 1 and 0). mean_out/rstd_out, when not null, receive
// the per-row statistics the backward pass needs.
#pragma once

#include <cmath>

#include "fugue/backend/cpu/arch.hpp"
#include "fugue/core/shape.hpp"

namespace fugue::cpu::kernels {

template <class Arch, class T>
void layer_norm_rows(index_t rows, index_t cols, const T* x, const T* gamma, const T* beta, T eps,
                     T* y, T* mean_out, T* rstd_out) {
  for (index_t r = 0; r < rows; ++r) {
    const T* xr = x + r * cols;
    T* yr = y + r * cols;
    T mean = 0;
    for (index_t c = 0; c < cols; ++c) mean += xr[c];
    mean /= T(cols);
    T var = 0;
    for (index_t c = 0; c < cols; ++c) var += (xr[c] - mean) * (xr[c] - mean);
    var /= T(cols);
    T rstd = T(1) / std::sqrt(var + eps);
    for (index_t c = 0; c < cols; ++c) {
      T v = (xr[c] - mean) * rstd;
      if (gamma) v *= gamma[c];
      if (beta) v += beta[c];
      yr[c] = v;
    }
    if (mean_out) mean_out[r] = mean;
    if (rstd_out) rstd_out[r] = rstd;
  }
}

}  // namespace fugue::cpu::kernels
