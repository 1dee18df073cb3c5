// fugue/dsp/stft_magnitude_op.hpp — |STFT| as a differentiable tape op.
//
// Contract:
//  * StftMagKernel<T>(framing, fft_length = 0, window = {} (periodic Hann)) holds the framing, window and
//    the cached FFTW plan of one STFT configuration (the conventions of fugue/dsp/stft.hpp: frames per
//    `framing`, windowed, zero-padded at the end to fft_length, r2c, unnormalised). Frames are cut
//    straight from the unpadded signal (zeros / mirror images are read on the fly), no padded copy.
//    - spectrum(x, X): X [frames][bins] complex (row stride `row_stride()`, >= bins, even).
//    - magnitude(x, M, X): |X| into M [frames][bins] (and the spectrum into X unless null).
//    - adjoint(G, dx): dx += d/dx <Re G, Re X> + <Im G, Im X>, i.e. the transpose of x -> X applied to
//      G (G with row stride row_stride()): adjoint real FFT per frame, times the window, overlap-added,
//      padding folded back (zeros dropped, reflect mirrored onto its source samples).
//    - magnitude_adjoint(X, M, dM, G): G = dM X / |X| (0 where |X| = 0: the subgradient torch uses).
//    No allocation after the first call on a thread for a given size (thread-local scratch grows only).
//  * stft_magnitude(x, framing, fft_length = 0): x [N] or [B, N] -> |STFT| [frames, bins] or
//    [B, frames, bins], recorded as op `dsp_stft_magnitude` with a hand-written backward (the spectrum
//    is kept; backward = magnitude_adjoint then adjoint). Float and double.
#pragma once

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstddef>
#include <memory>
#include <span>
#include <vector>

#include "fugue/autodiff/host_staged.hpp"
#include "fugue/autodiff/registry.hpp"
#include "fugue/autodiff/tape.hpp"
#include "fugue/core/error.hpp"
#include "fugue/dsp/detail/diff_util.hpp"
#include "fugue/dsp/fft.hpp"
#include "fugue/dsp/framing.hpp"
#include "fugue/dsp/window.hpp"

namespace fugue::dsp {

FUGUE_AD_OP(dsp_stft_magnitude)

template <fft_real T>
class StftMagKernel {
 public:
  using complex = std::complex<T>;

  explicit StftMagKernel(Framing framing, std::size_t fft_length = 0, std::vector<T> window = {})
      : fr_(framing), nfft_(fft_length == 0 ? framing.frame_length : fft_length), fft_((framing.validate(), nfft_)) {
    FUGUE_CHECK(nfft_ >= fr_.frame_length, "StftMagKernel: fft_length ", nfft_, " < frame_length ", fr_.frame_length);
    std::vector<T> w = window.empty() ? hann<T>(fr_.frame_length) : std::move(window);
    FUGUE_CHECK(w.size() == fr_.frame_length, "StftMagKernel: window has ", w.size(), " samples, need ",
                fr_.frame_length);
    window_.assign(w.begin(), w.end());
  }

  const Framing& framing() const noexcept { return fr_; }
  std::size_t fft_length() const noexcept { return nfft_; }
  std::size_t bins() const noexcept { return nfft_ / 2 + 1; }
  std::size_t row_stride() const noexcept { return (bins() + 1) & ~std::size_t(1); }
  std::size_t num_frames(std::size_t n) const { return fr_.num_frames(n); }

  // The windowed, zero-padded frame t of x into buf (nfft samples).
  void load_frame(std::span<const T> x, std::size_t t, T* buf) const {
    const std::size_t L = fr_.frame_length, n = x.size();
    const std::ptrdiff_t start = std::ptrdiff_t(t * fr_.hop) - std::ptrdiff_t(fr_.pad_left);
    const T* w = window_.data();
    if (start >= 0 && std::size_t(start) + L <= n) {
      const T* src = x.data() + start;
      for (std::size_t m = 0; m < L; ++m) buf[m] = src[m] * w[m];
    } else {
      for (std::size_t m = 0; m < L; ++m) {
        const std::ptrdiff_t i = source_index(start + std::ptrdiff_t(m), n);
        buf[m] = i >= 0 ? x[std::size_t(i)] * w[m] : T(0);
      }
    }
    std::fill(buf + L, buf + nfft_, T(0));
  }

  // X (bins values) = rfft of one loaded frame buf (nfft samples).
  void fft_forward(const T* buf, complex* X) const {
    fft_.forward(std::span<const T>(buf, nfft_), std::span<complex>(X, bins()));
  }

  void spectrum(std::span<const T> x, complex* X) const {
    const std::size_t nf = num_frames(x.size()), rs = row_stride();
    T* buf = scratch_real();
    for (std::size_t t = 0; t < nf; ++t) {
      load_frame(x, t, buf);
      fft_.forward(std::span<const T>(buf, nfft_), std::span<complex>(X + t * rs, bins()));
    }
  }

  // M [frames][bins] (dense), X optional (row stride row_stride()).
  void magnitude(std::span<const T> x, T* M, complex* X) const {
    const std::size_t nf = num_frames(x.size()), nb = bins(), rs = row_stride();
    T* buf = scratch_real();
    complex* tmp = scratch_cplx();
    for (std::size_t t = 0; t < nf; ++t) {
      load_frame(x, t, buf);
      complex* Xt = X ? X + t * rs : tmp;
      fft_.forward(std::span<const T>(buf, nfft_), std::span<complex>(Xt, nb));
      abs_row(Xt, M + t * nb, nb);
    }
  }

  static void abs_row(const complex* X, T* M, std::size_t nb) {
    const T* p = reinterpret_cast<const T*>(X);
    for (std::size_t k = 0; k < nb; ++k) M[k] = std::sqrt(p[2 * k] * p[2 * k] + p[2 * k + 1] * p[2 * k + 1]);
  }

  // G[t][k] = dM[t][k] X[t][k] / M[t][k] (0 where M = 0). G may alias X.
  void magnitude_adjoint(const complex* X, const T* M, const T* dM, complex* G, std::size_t nf) const {
    const std::size_t nb = bins(), rs = row_stride();
    for (std::size_t t = 0; t < nf; ++t) {
      const complex* Xt = X + t * rs;
      complex* Gt = G + t * rs;
      const T* m = M + t * nb;
      const T* d = dM + t * nb;
      for (std::size_t k = 0; k < nb; ++k) {
        const T s = m[k] > T(0) ? d[k] / m[k] : T(0);
        Gt[k] = Xt[k] * s;
      }
    }
  }

  // dx += STFT^T G (G: [frames][row_stride] complex). dx.size() is the signal length.
  void adjoint(const complex* G, std::span<T> dx) const {
    const std::size_t n = dx.size(), nf = num_frames(n), L = fr_.frame_length, rs = row_stride();
    T* buf = scratch_real();
    const T* w = window_.data();
    for (std::size_t t = 0; t < nf; ++t) {
      fft_.adjoint(std::span<const complex>(G + t * rs, bins()), std::span<T>(buf, nfft_));
      const std::ptrdiff_t start = std::ptrdiff_t(t * fr_.hop) - std::ptrdiff_t(fr_.pad_left);
      if (start >= 0 && std::size_t(start) + L <= n) {
        T* dst = dx.data() + start;
        for (std::size_t m = 0; m < L; ++m) dst[m] += buf[m] * w[m];
      } else {
        for (std::size_t m = 0; m < L; ++m) {
          const std::ptrdiff_t i = source_index(start + std::ptrdiff_t(m), n);
          if (i >= 0) dx[std::size_t(i)] += buf[m] * w[m];
        }
      }
    }
  }

 private:
  // Index of the source sample behind unpadded position p (p < 0 or p >= n lies in the padding):
  // -1 for a zero pad, the mirrored index for reflect padding.
  std::ptrdiff_t source_index(std::ptrdiff_t p, std::size_t n) const {
    const std::ptrdiff_t N = std::ptrdiff_t(n);
    if (p >= 0 && p < N) return p;
    if (fr_.pad != PadKind::reflect) return -1;
    // Reflect applies only to the explicit pad_left / pad_right; pad_end zeros stay zeros.
    if (p < 0 && -p <= std::ptrdiff_t(fr_.pad_left)) return -p;
    if (p >= N && p - N < std::ptrdiff_t(fr_.pad_right)) return 2 * (N - 1) - p;
    return -1;
  }

  T* scratch_real() const {
    thread_local detail::avec<T> s;
    if (s.size() < nfft_) s.resize(nfft_);
    return s.data();
  }
  complex* scratch_cplx() const {
    thread_local std::vector<complex, xsimd::aligned_allocator<complex, 64>> s;
    if (s.size() < bins()) s.resize(bins());
    return s.data();
  }

  Framing fr_;
  std::size_t nfft_;
  RealFFT<T> fft_;
  detail::avec<T> window_;
};

// |STFT(x)|: x [N] or [B, N] -> [frames, bins] or [B, frames, bins]. Op `dsp_stft_magnitude`.
namespace detail {
template <Scalar T, Backend B>
  requires B::host_accessible
ad::Var<T, B> stft_magnitude_host(const ad::Var<T, B>& x, Framing framing, std::size_t fft_length) {
  FUGUE_CHECK(x.defined(), "stft_magnitude: undefined input");
  FUGUE_CHECK(x.rank() == 1 || x.rank() == 2, "stft_magnitude: x must be [N] or [B, N], got ", x.shape().str());
  auto K = std::make_shared<const StftMagKernel<T>>(framing, fft_length);
  const index_t rows = x.rank() == 2 ? x.dim(0) : 1;
  const std::size_t n = std::size_t(x.dim(x.rank() - 1));
  // The kernel mirrors samples itself (no padded copy), so it must refuse what Framing::padded refuses.
  FUGUE_CHECK(framing.pad != PadKind::reflect || (framing.pad_left < n && framing.pad_right < n),
              "stft_magnitude: reflect padding of ", std::max(framing.pad_left, framing.pad_right),
              " samples needs a longer signal than ", n, " samples");
  const std::size_t nf = K->num_frames(n), nb = K->bins(), rs = K->row_stride();
  const Tensor<T, B> xc = x.value().contiguous();
  const Shape out_shape = x.rank() == 2 ? Shape{rows, index_t(nf), index_t(nb)} : Shape{index_t(nf), index_t(nb)};
  auto M = Tensor<T, B>::empty(out_shape);
  const bool keep = x.requires_grad();
  using C = std::complex<T>;
  auto X = std::make_shared<std::vector<C, xsimd::aligned_allocator<C, 64>>>(keep ? std::size_t(rows) * nf * rs : 0);
  for (index_t b = 0; b < rows; ++b)
    K->magnitude(std::span<const T>(xc.data() + b * index_t(n), n), M.data() + b * index_t(nf * nb),
                 keep ? X->data() + std::size_t(b) * nf * rs : nullptr);
  return x.tape().record(
      M, {x},
      [K, X, M, rows, n, nf, nb, rs](const Tensor<T, B>& g, ad::GradSink<T, B>& s) {
        if (!s.needs(0)) return;
        auto dx = Tensor<T, B>::zeros(s.input(0).shape());
        std::vector<C, xsimd::aligned_allocator<C, 64>> G(nf * rs);
        for (index_t b = 0; b < rows; ++b) {
          const std::size_t off = std::size_t(b) * nf;
          K->magnitude_adjoint(X->data() + off * rs, M.data() + off * nb, g.data() + off * nb, G.data(), nf);
          K->adjoint(G.data(), std::span<T>(dx.data() + b * index_t(n), n));
        }
        s.accumulate(0, dx);
      },
      "dsp_stft_magnitude");
}
}  // namespace detail

// On a device backend the op runs host-staged (ad::host_staged): the same values and gradients,
// plus a host<->device copy of each input and output.
template <Scalar T, Backend B>
ad::Var<T, B> stft_magnitude(const ad::Var<T, B>& x, Framing framing, std::size_t fft_length = 0) {
  if constexpr (B::host_accessible)
    return detail::stft_magnitude_host(x, framing, fft_length);
  else
    return ad::host_staged(
        "dsp_stft_magnitude", [&](const auto&... v) { return detail::stft_magnitude_host(v..., framing, fft_length); },
        x);
}

}  // namespace fugue::dsp
