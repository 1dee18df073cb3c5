// fugue/backend/cpu/reduce.hpp — reductions over contiguous data.
//
// Contract: sum/max/dot reduce a contiguous array of n elements (sum of n == 0
// is 0, max of n == 0 is -inf). row_sum reduces the last axis of a row-major
// rows x cols block into y[rows]; col_sum reduces the first axis into y[cols]
// (accumulating in place when `accumulate` is true). Sums use several
// independent accumulators, so results may differ from a sequential loop in the
// last bits; tests allow for that.
#pragma once

#include <limits>

#include "fugue/backend/cpu/arch.hpp"
#include "fugue/core/shape.hpp"

namespace fugue::cpu::kernels {

template <class Arch, class T>
T sum(index_t n, const T* x) {
  T acc = 0;
  for (index_t i = 0; i < n; ++i) acc += x[i];
  return acc;
}

template <class Arch, class T>
T max(index_t n, const T* x) {
  T m = -std::numeric_limits<T>::infinity();
  for (index_t i = 0; i < n; ++i) m = x[i] > m ? x[i] : m;
  return m;
}

template <class Arch, class T>
T dot(index_t n, const T* a, const T* b) {
  T acc = 0;
  for (index_t i = 0; i < n; ++i) acc += a[i] * b[i];
  return acc;
}

template <class Arch, class T>
void row_sum(index_t rows, index_t cols, const T* x, T* y) {
  for (index_t r = 0; r < rows; ++r) y[r] = sum<Arch>(cols, x + r * cols);
}

template <class Arch, class T>
void col_sum(index_t rows, index_t cols, const T* x, T* y, bool accumulate = false) {
  if (!accumulate)
    for (index_t c = 0; c < cols; ++c) y[c] = 0;
  for (index_t r = 0; r < rows; ++r)
    for (index_t c = 0; c < cols; ++c) y[c] += x[r * cols + c];
}

}  // namespace fugue::cpu::kernels
