// Conformance cases for the backend kernels and the tensor ops built on them (fugue::ops).
// Everything here runs on every backend, the GPU included: the functors are fugue::fn's
// (FUGUE_HOST_DEVICE) or the backend's own. Include after defining
//   using backends_under_test = std::tuple<...>;   and   #define CONF_TAG "[...]"
#pragma once

#include <algorithm>
#include <complex>
#include <type_traits>

#include <fugue/backend/cpu/fft.hpp>

#include "conformance.hpp"

namespace conformance {

// a * b + c, for zip3 (a functor every backend can run).
struct multiply_add {
  template <fugue::portable_scalar V>
  FUGUE_HOST_DEVICE V operator()(V a, V b, V c) const {
    return a * b + c;
  }
  template <fugue::portable_batch V>
  V operator()(const V& a, const V& b, const V& c) const {
    return a * b + c;
  }
};

template <class T, class Backends>
void kernel_cases() {
  const std::string ty = sizeof(T) == 4 ? " f32" : " f64";
  const Shape s{7, 33};

  // --- elementwise (map / zip / zip3 / fill) -----------------------------------
#define CONF_UNARY(opname, lo, hi, tolerance)                                                      \
  check<T, Backends>(                                                                              \
      #opname + ty,                                                                                \
      []<class B>() {                                                                              \
        return Arrays<T>{fugue::ops::opname(random_tensor<T, B>({7, 33}, 1, lo, hi)).to_vector()}; \
      },                                                                                           \
      tolerance);
  CONF_UNARY(neg, -2, 2, tight<T>())
  CONF_UNARY(square, -2, 2, tight<T>())
  CONF_UNARY(exp, -5, 5, loose<T>())
  CONF_UNARY(log, 0.01, 9, loose<T>())
  CONF_UNARY(sqrt, 0, 9, loose<T>())
  CONF_UNARY(tanh, -6, 6, loose<T>())
  CONF_UNARY(sigmoid, -12, 12, loose<T>())
  CONF_UNARY(relu, -2, 2, tight<T>())
#undef CONF_UNARY
  check<T, Backends>("scale, add_scalar" + ty, [s]<class B>() {
    auto x = random_tensor<T, B>(s, 2);
    return Arrays<T>{fugue::ops::scale(x, T(-2.5)).to_vector(), fugue::ops::add_scalar(x, T(0.75)).to_vector()};
  });
  check<T, Backends>("add sub mul div, same shape" + ty, [s]<class B>() {
    auto a = random_tensor<T, B>(s, 3), b = random_tensor<T, B>(s, 4, 0.5, 2);
    namespace o = fugue::ops;
    return Arrays<T>{o::add(a, b).to_vector(), o::sub(a, b).to_vector(), o::mul(a, b).to_vector(),
                     o::div(a, b).to_vector()};
  });
  check<T, Backends>("broadcast: row bias, column, both sides" + ty, []<class B>() {
    auto a = random_tensor<T, B>({4, 5, 6}, 5), row = random_tensor<T, B>({6}, 6), col = random_tensor<T, B>({5, 1}, 7);
    auto lead = random_tensor<T, B>({4, 1, 1}, 8);
    namespace o = fugue::ops;
    return Arrays<T>{o::add(a, row).to_vector(), o::mul(a, col).to_vector(), o::sub(lead, a).to_vector()};
  });
  check<T, Backends>("zip3 (a*b+c), fill" + ty, [s]<class B>() {
    auto a = random_tensor<T, B>(s, 9), b = random_tensor<T, B>(s, 10), c = random_tensor<T, B>(s, 11);
    auto y = Tensor<T, B>::empty(s);
    B::zip3(y.numel(), a.data(), b.data(), c.data(), y.data(), multiply_add{});
    return Arrays<T>{y.to_vector(), Tensor<T, B>::full({3, 300}, T(1.25)).to_vector()};
  });
  check<T, Backends>(
      "Philox uniform tensors (bit-identical)" + ty,
      []<class B>() {
        return Arrays<T>{Tensor<T, B>::uniform({1001}, Philox{5, 6}, T(-3), T(4)).to_vector()};
      },
      tol<T>{0, 0});
  check<T, Backends>(
      "Philox normal tensors" + ty,
      []<class B>() {
        return Arrays<T>{Tensor<T, B>::normal({1001}, Philox{7, 8}, T(1), T(2)).to_vector()};
      },
      loose<T>());

  // --- reductions --------------------------------------------------------------
  check<T, Backends>(
      "sum, mean, max, dot (100,003 elements)" + ty,
      []<class B>() {
        auto x = random_tensor<T, B>({100003}, 12), y = random_tensor<T, B>({100003}, 13);
        return Arrays<T>{fugue::ops::sum(x).to_vector(),
                         fugue::ops::mean(x).to_vector(),
                         {B::max(x.numel(), x.data())},
                         {B::dot(x.numel(), x.data(), y.data())}};
      },
      loose<T>());
  check<T, Backends>(
      "sum / mean over each axis of [5, 6, 7]" + ty,
      []<class B>() {
        auto x = random_tensor<T, B>({5, 6, 7}, 14);
        namespace o = fugue::ops;
        return Arrays<T>{o::sum(x, 0).to_vector(), o::sum(x, 1).to_vector(), o::sum(x, 2).to_vector(),
                         o::mean(x, 1, true).to_vector(), o::sum(x.transpose(0, 2), 1).to_vector()};
      },
      loose<T>());
  check<T, Backends>(
      "col_sum accumulating" + ty,
      []<class B>() {
        auto x = random_tensor<T, B>({130, 9}, 15), y = random_tensor<T, B>({9}, 16);
        B::col_sum(130, 9, x.data(), y.data(), true);
        auto z = Tensor<T, B>::empty({130});
        B::row_sum(130, 9, x.data(), z.data());
        return Arrays<T>{y.to_vector(), z.to_vector()};
      },
      loose<T>());
  check<T, Backends>("empty tensors: sum 0, max -inf, elementwise no-op" + ty, []<class B>() {
    auto e = Tensor<T, B>::empty({0, 4});
    return Arrays<T>{fugue::ops::sum(e).to_vector(), {B::max(0, e.data())}, fugue::ops::exp(e).to_vector()};
  });

  // --- row-wise ops --------------------------------------------------------------
  check<T, Backends>(
      "softmax, log_softmax (with -inf entries and an all -inf row)" + ty,
      []<class B>() {
        std::vector<T> v = random_values<T>(6 * 40, 17, -8, 8);
        v[3] = v[50] = T(-INFINITY);
        for (int c = 0; c < 40; ++c) v[std::size_t(5 * 40 + c)] = T(-INFINITY);
        auto x = Tensor<T, B>::from(v, {6, 40});
        return Arrays<T>{fugue::ops::softmax(x).to_vector(), fugue::ops::log_softmax(x).to_vector()};
      },
      loose<T>());
  check<T, Backends>(
      "layer_norm with gamma / beta and its statistics; without" + ty,
      []<class B>() {
        auto x = random_tensor<T, B>({9, 48}, 18, 3, 5), g = random_tensor<T, B>({48}, 19),
             b = random_tensor<T, B>({48}, 20);
        Tensor<T, B> mean, rstd;
        auto y = fugue::ops::layer_norm(x, &g, &b, T(1e-5), &mean, &rstd);
        auto plain = fugue::ops::layer_norm(x, nullptr, nullptr, T(1e-3));
        return Arrays<T>{y.to_vector(), mean.to_vector(), rstd.to_vector(), plain.to_vector()};
      },
      loose<T>());

  // --- GEMM / GEMV ------------------------------------------------------------------
  check<T, Backends>(
      "matmul, all four transpose combinations, odd sizes" + ty,
      []<class B>() {
        auto a = random_tensor<T, B>({37, 29}, 21), b = random_tensor<T, B>({29, 41}, 22);
        auto at = random_tensor<T, B>({29, 37}, 23), bt = random_tensor<T, B>({41, 29}, 24);
        namespace o = fugue::ops;
        return Arrays<T>{o::matmul(a, b).to_vector(), o::matmul(at.t(), b).to_vector(),
                         o::matmul(a, bt.t()).to_vector(), o::matmul(at.t(), bt.t()).to_vector()};
      },
      loose<T>());
  check<T, Backends>(
      "gemm with alpha, beta and padded leading dimensions" + ty,
      []<class B>() {
        auto a = random_tensor<T, B>({13, 20}, 25), b = random_tensor<T, B>({17, 12}, 26),
             c = random_tensor<T, B>({13, 15}, 27);
        // A is 13 x 11 inside lda 20, B is 11 x 12 inside ldb 12 (17 rows), C 13 x 12 inside ldc 15.
        B::gemm(false, false, 13, 12, 11, T(0.5), a.data(), 20, b.data(), 12, T(-1.5), c.data(), 15);
        return Arrays<T>{c.to_vector()};
      },
      loose<T>());
  check<T, Backends>(
      "row vector times matrix (gemv both ways)" + ty,
      []<class B>() {
        auto x = random_tensor<T, B>({1, 50}, 28), w = random_tensor<T, B>({50, 31}, 29),
             wt = random_tensor<T, B>({31, 50}, 30);
        return Arrays<T>{fugue::ops::matmul(x, w).to_vector(), fugue::ops::matmul(x, wt.t()).to_vector()};
      },
      loose<T>());
  check<T, Backends>(
      "batched matmul: [B,M,K]x[B,K,N], transposed batch views, shared [K,N]" + ty,
      []<class B>() {
        auto a = random_tensor<T, B>({4, 9, 11}, 31), b = random_tensor<T, B>({4, 11, 6}, 32),
             w = random_tensor<T, B>({11, 6}, 33);
        auto bt = random_tensor<T, B>({4, 6, 11}, 34);
        namespace o = fugue::ops;
        return Arrays<T>{o::matmul(a, b).to_vector(), o::matmul(a, bt.transpose(1, 2)).to_vector(),
                         o::matmul(a.transpose(1, 2).contiguous().transpose(1, 2), w).to_vector()};
      },
      loose<T>());
  check<T, Backends>("matmul with an empty inner dimension gives zeros (gemm and gemv)" + ty, []<class B>() {
    namespace o = fugue::ops;
    return Arrays<T>{o::matmul(Tensor<T, B>::empty({3, 0}), Tensor<T, B>::empty({0, 4})).to_vector(),
                     o::matmul(Tensor<T, B>::empty({1, 0}), Tensor<T, B>::empty({0, 5})).to_vector(),
                     o::matmul(Tensor<T, B>::empty({2, 3, 0}), Tensor<T, B>::empty({2, 0, 4})).to_vector()};
  });
  check<T, Backends>(
      "linear with bias" + ty,
      []<class B>() {
        auto x = random_tensor<T, B>({3, 5, 16}, 35), w = random_tensor<T, B>({10, 16}, 36),
             b = random_tensor<T, B>({10}, 37);
        return Arrays<T>{fugue::ops::linear(x, w, &b).to_vector()};
      },
      loose<T>());

  // --- views copied through strided_copy --------------------------------------------
  check<T, Backends>("contiguous() of permuted, stepped, selected and broadcast views" + ty, []<class B>() {
    auto x = random_tensor<T, B>({3, 4, 5, 6}, 38);
    return Arrays<T>{x.permute({2, 0, 3, 1}).contiguous().to_vector(), x.slice(3, 1, 6, 2).contiguous().to_vector(),
                     x.select(1, 2).contiguous().to_vector(),
                     random_tensor<T, B>({5, 1}, 39).broadcast_to({2, 5, 7}).contiguous().to_vector()};
  });

  // --- real FFTs (the reference backend calls FFTW directly) ---------------------------
  for (index_t n : {1, 2, 7, 16, 100, 257}) {
    check<T, Backends>(
        "rfft and unnormalised irfft, n = " + std::to_string(n) + ty,
        [n]<class B>() {
          const index_t batch = 3, bins = n / 2 + 1;
          std::vector<T> x = random_values<T>(batch * n, 40 + std::uint64_t(n));
          std::vector<std::complex<T>> X(std::size_t(batch * bins));
          std::vector<T> back(x.size());
          if constexpr (std::is_same_v<B, fugue::cpu::native>) {
            const fugue::cpu::RealFFT<T> f{std::size_t(n)};
            for (index_t b = 0; b < batch; ++b) {
              f.forward(std::span<const T>(x.data() + b * n, std::size_t(n)),
                        std::span(X.data() + b * bins, std::size_t(bins)));
              f.inverse_unnormalized(std::span<const std::complex<T>>(X.data() + b * bins, std::size_t(bins)),
                                     std::span(back.data() + b * n, std::size_t(n)));
            }
          } else {
            // Views one element in: the GPU path must cope with arrays cuFFT finds misaligned.
            std::vector<T> padded(x.size() + 1, T(0));
            std::copy(x.begin(), x.end(), padded.begin() + 1);
            auto xd = Tensor<T, B>::from(padded, {batch * n + 1});
            auto Xd = Tensor<T, B>::empty({batch * bins * 2 + 2});
            auto yd = Tensor<T, B>::empty({batch * n + 1});
            auto* spectrum = reinterpret_cast<std::complex<T>*>(Xd.data() + 2);
            B::rfft(n, batch, xd.data() + 1, spectrum);
            B::irfft_unnormalized(n, batch, spectrum, yd.data() + 1);
            const std::vector<T> flat = Xd.to_vector();
            for (std::size_t i = 0; i < X.size(); ++i) X[i] = {flat[2 * i + 2], flat[2 * i + 3]};
            const std::vector<T> y = yd.to_vector();
            back.assign(y.begin() + 1, y.end());
          }
          std::vector<T> flat(2 * X.size());
          for (std::size_t i = 0; i < X.size(); ++i) flat[2 * i] = X[i].real(), flat[2 * i + 1] = X[i].imag();
          return Arrays<T>{flat, back};
        },
        tol<T>{loose<T>().rtol, loose<T>().atol * 20});
  }
}

}  // namespace conformance
