// fugue/ops/row_argmax.hpp — the index of a row's largest value, on host memory.
//
// Contract: row_argmax(row, n) returns the index in [0, n) of the largest of n >= 1 values, the
// first one on ties; NaNs are skipped (0 for a row of NaNs only). The one spelling of "the
// predicted class" for metrics (train::argmax_hits) and greedy decoding (MusicVAE's temperature 0).
#pragma once

#include "fugue/core/shape.hpp"

namespace fugue::ops {

template <class T>
index_t row_argmax(const T* row, index_t n) {
  index_t best = 0;
  while (best < n && row[best] != row[best]) ++best;  // skip leading NaNs
  if (best == n) return 0;
  for (index_t j = best + 1; j < n; ++j)
    if (row[j] > row[best]) best = j;
  return best;
}

}  // namespace fugue::ops
