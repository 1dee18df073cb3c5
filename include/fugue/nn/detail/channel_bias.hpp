// fugue/nn/detail/channel_bias.hpp — adding a per-channel bias on any backend.
//
// Contract: add_channel_bias<B>(n, channels, positions, bias, y) adds bias[c] to every element
// of y [n, channels, positions] (contiguous, B's memory). Host backends loop; device backends
// run add_channel_bias_at, one element per call, through B::generate. A dense layer's
// [rows, out] output is the case positions = 1.
#pragma once

#include <cstdint>

#include "fugue/core/host_device.hpp"
#include "fugue/core/shape.hpp"

namespace fugue::nn::detail {

template <class T>
struct add_channel_bias_at {
  const T* y;
  const T* bias;
  index_t positions, channels;
  FUGUE_HOST_DEVICE T operator()(std::uint64_t idx) const {
    return y[idx] + bias[(index_t(idx) / positions) % channels];
  }
};

template <class B, class T>
void add_channel_bias(index_t n, index_t channels, index_t positions, const T* bias, T* y) {
  if constexpr (B::host_accessible) {
    for (index_t i = 0; i < n * channels; ++i) {
      const T b = bias[i % channels];
      T* r = y + i * positions;
      for (index_t p = 0; p < positions; ++p) r[p] += b;
    }
  } else {
    B::generate(n * channels * positions, y, add_channel_bias_at<T>{y, bias, positions, channels});
  }
}

}  // namespace fugue::nn::detail
