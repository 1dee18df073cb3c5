// fugue/dsp/detail/harmonic_device.hpp — the harmonic synthesizer's portable functors: the
// device path of dsp::HarmonicSynth (internal).
//
// Contract (internal, may change): plain structs of sizes and pointers, callable on the host
// and on a GPU (FUGUE_HOST_DEVICE), launched through B::for_each / B::generate by
// HarmonicSynth on device backends. The formulas are harmonic_equations.hpp's, as on the host
// (frame controls, phase, oscillator bank and their backward), but the frame-rate gradients are
// not summed in the host's order: results agree to rounding, not bit for bit.
//  * harmonic_grid: where sample n sits between frames (the host tables are built from it too).
//  * Forward: harmonic_controls_at (one frame), harmonic_frame_delta_at (one a_k: the slope to
//    the next frame), harmonic_phase_row (one batch row, sequential: the phase is a running sum),
//    harmonic_sincos_at and harmonic_sample_at (one sample).
//  * Backward: harmonic_dphase_at (one sample), harmonic_reverse_cumsum_row (one batch row, in
//    double) and harmonic_frame_grads_at (one frame: the amplitude, distribution and f0
//    gradients, summing over the samples that interpolate from that frame).
#pragma once

#include <cmath>
#include <cstdint>

#include "fugue/core/functors.hpp"
#include "fugue/core/host_device.hpp"
#include "fugue/core/shape.hpp"
#include "fugue/dsp/harmonic_equations.hpp"

namespace fugue::dsp::detail {

template <class T>
struct harmonic_grid {
  index_t frames, samples, hop;
  bool window;  // AmpResample::window (else linear)
  double pi;

  // Frames i0, i1 that sample s interpolates between, the amplitude weight lam of i1 and the
  // f0 (linear) weight mu of i1, rounded to T as the host tables store them.
  FUGUE_HOST_DEVICE void at(index_t s, index_t& i0, index_t& i1, T& lam, T& mu) const {
    const double p = double(s) * double(frames) / double(samples);
    index_t il = index_t(p);
    if (il > frames - 1) il = frames - 1;
    const double frac = il == frames - 1 ? 0.0 : p - double(il);
    mu = T(frac);
    if (window) {
      i0 = s / hop;
      const index_t j = s % hop;
      lam = i0 + 1 < frames ? T(0.5 - 0.5 * std::cos(pi * double(j) / double(hop))) : T(0);
    } else {
      i0 = il;
      lam = T(frac);
    }
    i1 = i0 + 1 < frames ? i0 + 1 : frames - 1;
  }

  // A range of samples holding every sample whose i0 or i1 is frame f (a superset: callers
  // test i0 / i1 themselves).
  FUGUE_HOST_DEVICE void samples_near(index_t f, index_t& lo, index_t& hi) const {
    if (window) {
      lo = f > 0 ? (f - 1) * hop : 0;
      hi = f + 1 < frames ? (f + 1) * hop : samples;
    } else {
      lo = f > 0 ? (f - 1) * samples / frames - 1 : 0;
      hi = f + 1 < frames ? ((f + 1) * samples + frames - 1) / frames + 1 : samples;
    }
    if (lo < 0) lo = 0;
    if (hi > samples) hi = samples;
  }
};

template <class T>
struct harmonic_controls_at {  // frame b * F + f: A, exp-sigmoided c, masked and normalised c, a_k
  index_t harmonics;
  bool exp_sigmoid, normalize_below_nyquist;
  T nyquist;
  fn::exp_sigmoid es;
  const T *amps, *dist, *f0;
  T *A, *C, *ch, *Af, *Sd;
  FUGUE_HOST_DEVICE void operator()(std::uint64_t idx) const {
    const index_t bf = index_t(idx), K = harmonics;
    const T a = exp_sigmoid ? es(amps[bf]) : amps[bf];
    A[bf] = a;
    for (index_t i = bf * K; i < (bf + 1) * K; ++i) C[i] = exp_sigmoid ? es(dist[i]) : dist[i];
    Sd[bf] = frame_amplitudes(std::size_t(K), C + bf * K, a, f0[bf], nyquist, normalize_below_nyquist, ch + bf * K,
                              Af + bf * K);
  }
};

// dAf[b, f, k] = a_k of the frame after f (f itself for the last) minus a_k of frame f: the
// amplitude slope oscillator_sample interpolates with.
template <class T>
struct harmonic_frame_delta_at {
  index_t frames, harmonics;
  const T* Af;
  T* dAf;
  FUGUE_HOST_DEVICE void operator()(std::uint64_t idx) const {
    const index_t i = index_t(idx), K = harmonics, bf = i / K, f = bf % frames;
    dAf[i] = f + 1 < frames ? Af[i + K] - Af[i] : T(0);
  }
};

template <class T>
struct harmonic_phase_row {  // batch row b: upsampled f0 and the wrapped phase (then its sine)
  harmonic_grid<T> grid;
  double omega;  // 2 pi / sample_rate
  const T* f0;
  T *f0u, *phase;
  FUGUE_HOST_DEVICE void operator()(std::uint64_t idx) const {
    const index_t b = index_t(idx), N = grid.samples;
    const T* fr = f0 + b * grid.frames;
    double ph = 0;
    for (index_t n = 0; n < N; ++n) {
      index_t i0, i1;
      T lam, mu;
      grid.at(n, i0, i1, lam, mu);
      const double a = double(fr[i0]), d = double(fr[i1]) - a;
      const double f = a + d * double(mu);
      f0u[b * N + n] = T(f);
      ph = advance_phase(ph, omega * f);
      phase[b * N + n] = T(ph);
    }
  }
};

template <class T>
struct harmonic_sincos_at {  // s[i] = sin(s[i]), c[i] = cos(s[i])
  T *s, *c;
  FUGUE_HOST_DEVICE void operator()(std::uint64_t i) const {
    const T p = s[i];
    s[i] = std::sin(p);
    c[i] = std::cos(p);
  }
};

// The per-sample state shared by the synthesis and its backward: sin / cos of the phase drive
// the Chebyshev recurrence sin((k + 1) x) = 2 cos(x) sin(k x) - sin((k - 1) x).
template <class T>
struct harmonic_sample_base {
  harmonic_grid<T> grid;
  index_t harmonics;
  T nyquist;
  const T *Af, *dAf, *f0u, *s1, *c1;

  // a_k of frame i0 of sample idx = b * N + n, the slope towards frame i1 (dAf) and lam.
  FUGUE_HOST_DEVICE void frame_rows(std::uint64_t idx, const T*& a0, const T*& da, T& lam) const {
    const index_t N = grid.samples, b = index_t(idx) / N, n = index_t(idx) % N;
    index_t i0, i1;
    T mu;
    grid.at(n, i0, i1, lam, mu);
    a0 = Af + (b * grid.frames + i0) * harmonics;
    da = dAf + (b * grid.frames + i0) * harmonics;
  }
};

template <class T>
struct harmonic_sample_at : harmonic_sample_base<T> {  // y[b * N + n]
  FUGUE_HOST_DEVICE T operator()(std::uint64_t idx) const {
    const auto& p = *this;
    const T *a0, *da;
    T lam;
    p.frame_rows(idx, a0, da, lam);
    return oscillator_sample(a0, da, std::size_t(p.harmonics), lam, p.f0u[idx], p.s1[idx], p.c1[idx], p.nyquist);
  }
};

template <class T>
struct harmonic_dphase_at : harmonic_sample_base<T> {  // dL/dphase[b * N + n]
  const T* g;
  FUGUE_HOST_DEVICE T operator()(std::uint64_t idx) const {
    const auto& p = *this;
    const T *a0, *da;
    T lam;
    p.frame_rows(idx, a0, da, lam);
    return oscillator_backward(a0, da, std::size_t(p.harmonics), g[idx], lam, p.f0u[idx], p.s1[idx], p.c1[idx],
                               p.nyquist, static_cast<T*>(nullptr), static_cast<T*>(nullptr));
  }
};

template <class T>
struct harmonic_reverse_cumsum_row {  // R[b, n] = sum_{m >= n} dphase[b, m], in double
  index_t samples;
  const T* dphase;
  double* R;
  FUGUE_HOST_DEVICE void operator()(std::uint64_t idx) const {
    const index_t o = index_t(idx) * samples;
    double r = 0;
    for (index_t n = samples; n-- > 0;) {
      r += double(dphase[o + n]);
      R[o + n] = r;
    }
  }
};

// Frame b * F + f: sums g sin(k phase) (weighted 1 - lam where the frame is i0, lam where it is
// i1) into dd's row as the frame-rate gradient of a_k, then maps it through a_k = A c_k, the
// normalisation and exp_sigmoid into da and dd; df = 2 pi / sr sum (1 - mu or mu) R.
template <class T>
struct harmonic_frame_grads_at {
  harmonic_grid<T> grid;
  index_t harmonics;
  bool exp_sigmoid, normalize_below_nyquist;
  T nyquist;
  double omega;
  fn::exp_sigmoid_grad grad;  // built on the host (its constructor takes a log)
  const T *g, *f0u, *s1, *c1, *A, *C, *ch, *Sd, *amps, *dist, *f0;
  const double* R;
  T *da, *dd, *df;
  FUGUE_HOST_DEVICE void operator()(std::uint64_t idx) const {
    const index_t bf = index_t(idx), F = grid.frames, N = grid.samples, K = harmonics;
    const index_t b = bf / F, f = bf % F;
    T* acc = dd + bf * K;
    for (index_t k = 0; k < K; ++k) acc[k] = T(0);
    double dfreq = 0;
    index_t lo, hi;
    grid.samples_near(f, lo, hi);
    for (index_t n = lo; n < hi; ++n) {
      index_t i0, i1;
      T lam, mu;
      grid.at(n, i0, i1, lam, mu);
      const bool on0 = i0 == f, on1 = i1 == f;
      if (!on0 && !on1) continue;
      const index_t o = b * N + n;
      if (on0) dfreq += (1 - double(mu)) * R[o];
      if (on1) dfreq += double(mu) * R[o];
      const T gl = g[o] * lam, g0 = g[o] - gl;
      const T wgt = (on0 ? g0 : T(0)) + (on1 ? gl : T(0));
      const T fu = f0u[o], two_c = c1[o] + c1[o];
      T sp = 0, sc = s1[o];
      for (std::size_t k = 0; k < std::size_t(K) && harmonic_audible(k, fu, nyquist); ++k) {
        acc[k] += wgt * sc;
        chebyshev_next(two_c, sp, sc);
      }
    }
    df[bf] = T(omega * dfreq);
    // acc becomes the gradient w.r.t. the exp-sigmoided distribution in place, then w.r.t. dist.
    const T dA = frame_amplitudes_backward(std::size_t(K), acc, ch + bf * K, A[bf], Sd[bf], f0[bf], nyquist,
                                           normalize_below_nyquist, acc);
    if (exp_sigmoid)
      for (index_t i = bf * K; i < (bf + 1) * K; ++i) dd[i] = grad(dd[i], dist[i], C[i]);
    da[bf] = exp_sigmoid ? grad(dA, amps[bf], A[bf]) : dA;
  }
};

}  // namespace fugue::dsp::detail
