// fugue/train/metrics.hpp — metrics computed beside the loss, never inside it.
//
// Contract
//  * argmax_hits(logits [rows, depth] or [.., depth], targets): how many rows' largest logit (the
//    first on ties) sits at the row's target id; rows = logits.numel() / depth, and targets must
//    hold one id per row (fugue::error otherwise). Reads the logits through a host view, so on a
//    device backend it copies them down once.
//  * Accuracy: hits / rows accumulated over any number of calls (add, value).
#pragma once

#include <cstdint>
#include <span>

#include "fugue/core/error.hpp"
#include "fugue/core/host_span.hpp"
#include "fugue/core/tensor.hpp"
#include "fugue/ops/row_argmax.hpp"

namespace fugue::train {

template <Scalar T, Backend B>
std::int64_t argmax_hits(const Tensor<T, B>& logits, std::span<const int> targets) {
  FUGUE_CHECK(logits.defined() && logits.rank() >= 1, "argmax_hits: logits must be a defined tensor");
  const index_t depth = logits.dim(logits.rank() - 1), rows = depth > 0 ? logits.numel() / depth : 0;
  FUGUE_CHECK(index_t(targets.size()) == rows, "argmax_hits: ", targets.size(), " targets for ", rows,
              " rows of logits ", logits.shape().str());
  const HostReadSpan<T, B> view(logits);
  const T* lg = view.data();
  std::int64_t hits = 0;
  for (index_t i = 0; i < rows; ++i) {
    hits += ops::row_argmax(lg + i * depth, depth) == targets[std::size_t(i)];
  }
  return hits;
}

struct Accuracy {
  std::int64_t hits = 0, total = 0;
  void add(std::int64_t h, std::int64_t n) {
    hits += h;
    total += n;
  }
  double value() const { return total ? double(hits) / double(total) : 0.0; }
};

}  // namespace fugue::train
