// fugue/backend/cpu/fft.hpp — real-input FFT (r2c) and its inverse (c2r), backed by FFTW3 or,
// when fugue is configured with -DFUGUE_FFT=kissfft (FUGUE_FFT_KISSFFT defined on fugue::fugue),
// by KissFFT (BSD-licensed, Debian's libkissfft-dev; its header-only C++ template, so float and
// double), for programs that must not link the GPL'd FFTW.
//
// Lives with the CPU backend so that backends (the Thrust host systems stand in for cuFFT
// with it) and dsp/ can both use it; fugue/dsp/fft.hpp re-exports it as fugue::dsp::RealFFT.
//
// Contract (both engines):
// - RealFFT<T> (T = float or double) transforms n real samples, n >= 1, to n/2+1 complex bins:
//     forward:  X_k = sum_{m<n} x_m e^{-2 pi i k m / n}            (unnormalised, numpy.fft.rfft)
//     inverse:  x_m = (1/n) sum_{k<n} X_k e^{+2 pi i k m / n}       (numpy.fft.irfft; the upper half
//               of the spectrum is the Hermitian mirror; Im X_0 and, for even n, Im X_{n/2} ignored)
//     inverse_unnormalized: the same without the 1/n (FFTW's c2r).
//     adjoint:  the adjoint (transpose) of `forward` seen as a real linear map R^n -> C^{n/2+1} = R^{n+2}.
//               Given G_k = dL/dRe X_k + i dL/dIm X_k it returns dL/dx. Backward rules of |STFT| use it.
// - Executing is thread-safe: different threads may call forward/inverse on the same RealFFT
//   concurrently. No allocation after the first call with a given n on a given thread.
// - Sizes are checked: a span of the wrong length throws fugue::error.
// FFTW engine: plans are created once per (n, direction, precision) with FFTW_ESTIMATE and cached
//   for the life of the program; creation is serialised by a mutex (FFTW's planner is not
//   thread-safe). Plans are made on FFTW-aligned scratch; user arrays whose alignment differs from
//   the plan's are copied through a thread-local aligned buffer (the new-array execute functions
//   require the same alignment as at planning). c2r destroys its input, so its input is copied.
// KissFFT engine: forward, KissFFT's real transform for even n (a complex FFT of n/2) and a
//   complex FFT of size n on the real input otherwise; inverse, a complex FFT of size n of the
//   rebuilt Hermitian spectrum (any n; mixed radix 2/3/4/5 and a generic butterfly). 4-9x FFTW's
//   time (docs/dsp.md). Its transform objects keep a scratch buffer, so each thread has its own
//   per (size, direction) (thread_local cache).
#pragma once

#if defined(FUGUE_FFT_KISSFFT)
#include <kissfft/kissfft.hh>
#else
#include <fftw3.h>
#endif

#include <algorithm>
#include <complex>
#include <concepts>
#include <cstddef>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <tuple>
#include <vector>

#include "fugue/core/error.hpp"

namespace fugue::cpu {

template <class T>
concept fft_real = std::same_as<T, float> || std::same_as<T, double>;

namespace fft_detail {

#if !defined(FUGUE_FFT_KISSFFT)
template <class T>
struct fftw;

template <>
struct fftw<float> {
  using plan = fftwf_plan;
  using complex = fftwf_complex;
  static void* malloc(std::size_t n) { return fftwf_malloc(n); }
  static void free(void* p) { fftwf_free(p); }
  static plan r2c(int n, float* in, complex* out, unsigned f) { return fftwf_plan_dft_r2c_1d(n, in, out, f); }
  static plan c2r(int n, complex* in, float* out, unsigned f) { return fftwf_plan_dft_c2r_1d(n, in, out, f); }
  static void exec_r2c(plan p, float* in, complex* out) { fftwf_execute_dft_r2c(p, in, out); }
  static void exec_c2r(plan p, complex* in, float* out) { fftwf_execute_dft_c2r(p, in, out); }
  static void destroy(plan p) { fftwf_destroy_plan(p); }
  static int alignment_of(const float* p) { return fftwf_alignment_of(const_cast<float*>(p)); }
};

template <>
struct fftw<double> {
  using plan = fftw_plan;
  using complex = fftw_complex;
  static void* malloc(std::size_t n) { return fftw_malloc(n); }
  static void free(void* p) { fftw_free(p); }
  static plan r2c(int n, double* in, complex* out, unsigned f) { return fftw_plan_dft_r2c_1d(n, in, out, f); }
  static plan c2r(int n, complex* in, double* out, unsigned f) { return fftw_plan_dft_c2r_1d(n, in, out, f); }
  static void exec_r2c(plan p, double* in, complex* out) { fftw_execute_dft_r2c(p, in, out); }
  static void exec_c2r(plan p, complex* in, double* out) { fftw_execute_dft_c2r(p, in, out); }
  static void destroy(plan p) { fftw_destroy_plan(p); }
  static int alignment_of(const double* p) { return fftw_alignment_of(const_cast<double*>(p)); }
};

// An FFTW-aligned buffer of trivially copyable elements (fftw_malloc'd), grown on demand.
template <class E, class T>
class aligned_buffer {
 public:
  aligned_buffer() = default;
  aligned_buffer(const aligned_buffer&) = delete;
  aligned_buffer& operator=(const aligned_buffer&) = delete;
  ~aligned_buffer() { fftw<T>::free(p_); }
  E* get(std::size_t n) {
    if (n > cap_) {
      void* q = fftw<T>::malloc(n * sizeof(E));
      if (!q) throw std::bad_alloc();
      fftw<T>::free(p_);
      p_ = static_cast<E*>(q);
      cap_ = n;
    }
    return p_;
  }

 private:
  E* p_ = nullptr;
  std::size_t cap_ = 0;
};

enum class fft_dir { r2c, c2r };

// One FFTW plan plus the alignment of the arrays it was made on.
template <class T>
struct cached_plan {
  typename fftw<T>::plan plan = nullptr;
  int n = 0;
  int in_align = 0, out_align = 0;
  ~cached_plan() {
    if (plan) fftw<T>::destroy(plan);
  }
};

// Process-wide plan cache. The mutex guards both the map and every FFTW planner call.
template <class T>
class plan_cache {
 public:
  static plan_cache& instance() {
    static plan_cache c;
    return c;
  }
  const cached_plan<T>* get(int n, fft_dir dir) {
    std::lock_guard<std::mutex> lock(planner_mutex());
    auto key = std::make_tuple(n, dir);
    if (auto it = plans_.find(key); it != plans_.end()) return it->second.get();
    auto p = std::make_unique<cached_plan<T>>();
    p->n = n;
    const std::size_t bins = static_cast<std::size_t>(n) / 2 + 1;
    T* real = static_cast<T*>(fftw<T>::malloc(sizeof(T) * static_cast<std::size_t>(n)));
    auto* cplx = static_cast<typename fftw<T>::complex*>(fftw<T>::malloc(sizeof(typename fftw<T>::complex) * bins));
    if (!real || !cplx) {
      fftw<T>::free(real);
      fftw<T>::free(cplx);
      throw std::bad_alloc();
    }
    const unsigned flags = FFTW_ESTIMATE | (dir == fft_dir::c2r ? FFTW_DESTROY_INPUT : 0u);
    p->plan = dir == fft_dir::r2c ? fftw<T>::r2c(n, real, cplx, flags) : fftw<T>::c2r(n, cplx, real, flags);
    const int ra = fftw<T>::alignment_of(real);
    const int ca = fftw<T>::alignment_of(reinterpret_cast<T*>(cplx));
    p->in_align = dir == fft_dir::r2c ? ra : ca;
    p->out_align = dir == fft_dir::r2c ? ca : ra;
    fftw<T>::free(real);
    fftw<T>::free(cplx);
    FUGUE_CHECK(p->plan != nullptr, "FFTW could not create a plan for n = ", n);
    auto* raw = p.get();
    plans_.emplace(key, std::move(p));
    return raw;
  }

  // libfftw3f and libfftw3 each have their own planner state: one mutex per precision.
  static std::mutex& planner_mutex() {
    static std::mutex m;
    return m;
  }

 private:
  std::map<std::tuple<int, fft_dir>, std::unique_ptr<cached_plan<T>>> plans_;
};

// The FFTW engine: the cached plans of one size, executed with the new-array functions.
template <class T>
class engine {
 public:
  using complex = std::complex<T>;
  explicit engine(std::size_t n)
      : n_(n),
        fwd_(plan_cache<T>::instance().get(static_cast<int>(n), fft_dir::r2c)),
        inv_(plan_cache<T>::instance().get(static_cast<int>(n), fft_dir::c2r)) {}

  void forward(const T* x, complex* X) const {
    using C = typename fftw<T>::complex;
    T* in = const_cast<T*>(x);  // r2c with a new-array execute never writes its input
    C* out = reinterpret_cast<C*>(X);
    const bool in_ok = fftw<T>::alignment_of(in) == fwd_->in_align;
    const bool out_ok = fftw<T>::alignment_of(reinterpret_cast<T*>(out)) == fwd_->out_align;
    if (in_ok && out_ok) {
      fftw<T>::exec_r2c(fwd_->plan, in, out);
      return;
    }
    auto& s = scratch();
    T* a = in_ok ? in : s.real.get(n_);  // alignment already as planned, or a copy
    if (!in_ok) std::copy_n(x, n_, a);
    C* b = out_ok ? out : s.cplx.get(bins());
    fftw<T>::exec_r2c(fwd_->plan, a, b);
    if (!out_ok) std::copy_n(reinterpret_cast<const complex*>(b), bins(), X);
  }
  void inverse_unnormalized(const complex* X, T* x) const {
    using C = typename fftw<T>::complex;
    auto& s = scratch();
    C* a = s.cplx.get(bins());  // c2r destroys its input: always work on a copy
    std::copy_n(X, bins(), reinterpret_cast<complex*>(a));
    const bool out_ok = fftw<T>::alignment_of(x) == inv_->out_align;
    T* b = out_ok ? x : s.real.get(n_);
    fftw<T>::exec_c2r(inv_->plan, a, b);
    if (!out_ok) std::copy_n(b, n_, x);
  }
  void inverse_unnormalized_destroying(complex* X, T* x) const {
    using C = typename fftw<T>::complex;
    C* in = reinterpret_cast<C*>(X);
    if (fftw<T>::alignment_of(reinterpret_cast<T*>(in)) == inv_->in_align &&
        fftw<T>::alignment_of(x) == inv_->out_align) {
      fftw<T>::exec_c2r(inv_->plan, in, x);
      return;
    }
    inverse_unnormalized(X, x);
  }

 private:
  std::size_t bins() const { return n_ / 2 + 1; }
  struct scratch_t {
    aligned_buffer<T, T> real;
    aligned_buffer<typename fftw<T>::complex, T> cplx;
  };
  static scratch_t& scratch() {
    thread_local scratch_t s;
    return s;
  }
  std::size_t n_;
  const cached_plan<T>* fwd_;
  const cached_plan<T>* inv_;
};

#else

// The KissFFT engine: complex transforms of size n, one object per (n, direction) and thread.
template <class T>
class engine {
 public:
  using complex = std::complex<T>;
  explicit engine(std::size_t n) : n_(n) {}

  void forward(const T* x, complex* X) const {
    auto& s = scratch();
    s.in.resize(std::max(s.in.size(), n_));
    s.out.resize(std::max(s.out.size(), n_));
    if (n_ % 2 == 0 && n_ >= 4) {
      // Even n: KissFFT's real transform, a complex FFT of n/2 on the samples taken as pairs; it
      // packs the Nyquist bin into Im of bin 0.
      const std::size_t h = n_ / 2;
      std::copy_n(x, n_, reinterpret_cast<T*>(s.in.data()));
      transform(false, h).transform_real(reinterpret_cast<const T*>(s.in.data()), s.out.data());
      X[0] = complex(s.out[0].real(), T(0));
      X[h] = complex(s.out[0].imag(), T(0));
      std::copy_n(s.out.data() + 1, h - 1, X + 1);
      return;
    }
    for (std::size_t m = 0; m < n_; ++m) s.in[m] = complex(x[m], T(0));
    transform(false).transform(s.in.data(), s.out.data());
    std::copy_n(s.out.data(), n_ / 2 + 1, X);
  }
  void inverse_unnormalized(const complex* X, T* x) const {
    auto& s = scratch();
    s.in.resize(std::max(s.in.size(), n_));
    s.out.resize(std::max(s.out.size(), n_));
    const std::size_t nb = n_ / 2 + 1;
    // The Hermitian spectrum: bin 0 (and n/2 for even n) real as c2r reads them, the upper half mirrored.
    for (std::size_t k = 0; k < nb; ++k) s.in[k] = X[k];
    s.in[0] = complex(X[0].real(), T(0));
    if (n_ % 2 == 0) s.in[n_ / 2] = complex(X[n_ / 2].real(), T(0));
    for (std::size_t k = nb; k < n_; ++k) s.in[k] = std::conj(X[n_ - k]);
    transform(true).transform(s.in.data(), s.out.data());
    for (std::size_t m = 0; m < n_; ++m) x[m] = s.out[m].real();
  }
  void inverse_unnormalized_destroying(complex* X, T* x) const { inverse_unnormalized(X, x); }

 private:
  struct scratch_t {
    std::vector<complex> in, out;
    std::map<std::pair<std::size_t, bool>, std::unique_ptr<kissfft<T>>> transforms;
  };
  static scratch_t& scratch() {
    thread_local scratch_t s;
    return s;
  }
  const kissfft<T>& transform(bool inverse, std::size_t size = 0) const {
    const std::size_t n = size ? size : n_;
    auto& t = scratch().transforms[{n, inverse}];
    if (!t) t = std::make_unique<kissfft<T>>(n, inverse);
    return *t;
  }
  std::size_t n_;
};

#endif

}  // namespace fft_detail

template <fft_real T>
class RealFFT {
 public:
  using complex = std::complex<T>;

  explicit RealFFT(std::size_t n) : n_(check_size(n)), engine_(n) {}

  std::size_t size() const noexcept { return n_; }
  std::size_t bins() const noexcept { return n_ / 2 + 1; }

  // x: n samples -> X: n/2+1 bins (unnormalised).
  void forward(std::span<const T> x, std::span<complex> X) const {
    FUGUE_CHECK(x.size() == n_ && X.size() == bins(), "RealFFT::forward: expected ", n_, " -> ", bins(),
                " values, got ", x.size(), " -> ", X.size());
    engine_.forward(x.data(), X.data());
  }

  // X: n/2+1 bins -> x: n samples, scaled by 1/n (so inverse(forward(x)) == x).
  void inverse(std::span<const complex> X, std::span<T> x) const {
    inverse_unnormalized(X, x);
    const T s = T(1) / static_cast<T>(n_);
    for (auto& v : x) v *= s;
  }

  // X: n/2+1 bins -> x: n samples, no scaling (FFTW c2r).
  void inverse_unnormalized(std::span<const complex> X, std::span<T> x) const {
    check_inverse(X.size(), x.size());
    engine_.inverse_unnormalized(X.data(), x.data());
  }

  // inverse_unnormalized that may overwrite X (FFTW's c2r destroys its input). With X and x aligned
  // as FFTW plans them (64-byte aligned storage is) it runs without any copy or allocation: the
  // real-time path (models/ddsp/streaming.hpp). Otherwise it works as inverse_unnormalized.
  void inverse_unnormalized_destroying(std::span<complex> X, std::span<T> x) const {
    check_inverse(X.size(), x.size());
    engine_.inverse_unnormalized_destroying(X.data(), x.data());
  }

  // Adjoint of `forward`: dx_m = sum_k Re(G_k e^{+2 pi i k m / n}) over the n/2+1 stored bins.
  // Equals inverse_unnormalized of G with the bins that have a mirror image (0 < k < n/2) halved.
  void adjoint(std::span<const complex> G, std::span<T> dx) const {
    FUGUE_CHECK(G.size() == bins() && dx.size() == n_, "RealFFT::adjoint: expected ", bins(), " -> ", n_,
                " values, got ", G.size(), " -> ", dx.size());
    thread_local std::vector<complex> h;
    const std::size_t nb = bins();
    h.resize(std::max(h.size(), nb));
    for (std::size_t k = 0; k < nb; ++k) {
      const bool self_mirror = k == 0 || (n_ % 2 == 0 && k == n_ / 2);
      // c2r ignores Im of the self-mirrored bins, but the adjoint of a real DC/Nyquist output is real.
      h[k] = self_mirror ? complex(G[k].real(), T(0)) : G[k] * T(0.5);
    }
    inverse_unnormalized(std::span<const complex>(h.data(), nb), dx);
  }

 private:
  static std::size_t check_size(std::size_t n) {
    FUGUE_CHECK(n >= 1 && n <= static_cast<std::size_t>(std::numeric_limits<int>::max() / 2),
                "RealFFT: size must be in [1, 2^30), got ", n);
    return n;
  }
  void check_inverse(std::size_t bins_in, std::size_t samples_out) const {
    FUGUE_CHECK(bins_in == bins() && samples_out == n_, "RealFFT::inverse: expected ", bins(), " -> ", n_,
                " values, got ", bins_in, " -> ", samples_out);
  }

  std::size_t n_;
  fft_detail::engine<T> engine_;
};

// Convenience: numpy.fft.rfft(x, n). x is zero-padded or cropped to n (n = 0: n = x.size()).
template <fft_real T>
std::vector<std::complex<T>> rfft(std::span<const T> x, std::size_t n = 0) {
  if (n == 0) n = x.size();
  RealFFT<T> f(n);
  std::vector<T> buf(n, T(0));
  std::copy_n(x.begin(), std::min(n, x.size()), buf.begin());
  std::vector<std::complex<T>> X(f.bins());
  f.forward(buf, X);
  return X;
}

// Convenience: numpy.fft.irfft(X, n). X must hold exactly n/2+1 bins (n = 0: n = 2 (X.size() - 1)).
template <fft_real T>
std::vector<T> irfft(std::span<const std::complex<T>> X, std::size_t n = 0) {
  FUGUE_CHECK(!X.empty(), "irfft: empty spectrum");
  if (n == 0) n = 2 * (X.size() - 1);
  RealFFT<T> f(n);
  std::vector<T> x(n);
  f.inverse(X, x);
  return x;
}

}  // namespace fugue::cpu
