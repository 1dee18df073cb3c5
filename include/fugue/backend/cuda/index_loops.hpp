// fugue/backend/cuda/index_loops.hpp — the two Thrust loop shapes the CUDA backend is built from.
//
// Contract: for_each_index(policy, n, f) calls f(i) for i in [0, n) (nothing when n <= 0);
// generate_indexed(policy, n, y, f) writes y[i] = f(std::uint64_t(i)). Both run on the policy's
// system (the GPU stream, or a Thrust host system) and return when the work is queued.
#pragma once

#include <cstdint>

#include <thrust/for_each.h>
#include <thrust/iterator/counting_iterator.h>
#include <thrust/transform.h>

#include "fugue/core/shape.hpp"

namespace fugue::cuda {

template <class Policy, class F>
void for_each_index(Policy policy, index_t n, F f) {
  if (n > 0) thrust::for_each_n(policy, thrust::counting_iterator<index_t>(0), n, f);
}

template <class Policy, class T, class F>
void generate_indexed(Policy policy, index_t n, T* y, F f) {
  if (n > 0)
    thrust::transform(policy, thrust::counting_iterator<std::uint64_t>(0),
                      thrust::counting_iterator<std::uint64_t>(std::uint64_t(n)), y, f);
}

}  // namespace fugue::cuda
