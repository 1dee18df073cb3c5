// fugue/dsp/harmonic_equations.hpp — the harmonic synthesiser's equations, written once.
//
// Contract: the pieces of DDSP's harmonic synthesis (docs/dsp.md, "Harmonic synthesizer") that
// the offline host kernels (harmonic_synth.hpp), the device functors
// (detail/harmonic_device.hpp) and the real-time path (models/ddsp/streaming.hpp) all run; each
// of them calls these and spells none of the formulas itself. Functions over a lane V (a
// scalar, or an xsimd batch of samples) are FUGUE_PORTABLE_FN (scalar: host and device); the
// per-frame ones are FUGUE_HOST_DEVICE over T.
//  * frame_amplitudes(K, c, A, f0, nyquist, mask, h, a) -> sd: one frame's controls. c [K] the
//    (exp-sigmoided) distribution, A the amplitude; with mask, harmonic k (from 0) is dropped
//    where (k + 1) f0 >= nyquist; h = c / sd normalised (sd = the kept sum, 1e-7 if zero),
//    a = A h. h may alias c.
//  * frame_amplitudes_backward(K, da, h, A, sd, f0, nyquist, mask, dc) -> dA: the same frame
//    backwards: da [K] the gradient of a; writes dc [K] (w.r.t. c) and returns dA (w.r.t. A).
//  * advance_phase(phase, increment): phase + increment wrapped into [0, 2 pi), in double.
//  * oscillator_sample(a0, da, kc, lam, f0, s, c, nyquist): y = sum over harmonics k < kc of
//    audible(k) (a0[k] + da[k] lam) sin((k + 1) phase), given s = sin(phase), c = cos(phase) of
//    the lane's samples; kc bounds the loop (K, or fewer when the rest are silent). sin((k+1) x)
//    comes from the Chebyshev recurrence s_{k+1} = 2 cos(x) s_k - s_{k-1} (chebyshev_next).
//  * oscillator_backward(a0, da, kc, g, lam, f0, s, c, nyquist, acc0, acc1) -> dphase: the
//    gradient w.r.t. the phase, g sum_k audible(k) (k + 1) amp_k cos((k + 1) phase); adds
//    g (1 - lam) audible sin((k + 1) phase) to acc0[k] and g lam audible sin(...) to acc1[k] (the
//    gradients of the two frames' a_k) unless acc0 is null.
#pragma once

#include <cmath>
#include <cstddef>
#include <numbers>

#include "fugue/core/host_device.hpp"
#include "fugue/core/lanes.hpp"
#include "fugue/core/shape.hpp"

namespace fugue::dsp {

// The normaliser of a frame whose kept distribution sums to zero.
inline constexpr double kHarmonicZeroSum = 1e-7;

template <class T>
FUGUE_HOST_DEVICE inline bool harmonic_audible(std::size_t k, T f0, T nyquist) {
  return T(k + 1) * f0 < nyquist;
}

template <class T>
FUGUE_HOST_DEVICE inline T frame_amplitudes(std::size_t K, const T* c, T A, T f0, T nyquist, bool mask, T* h, T* a) {
  T sum = 0;
  for (std::size_t k = 0; k < K; ++k) {
    h[k] = !mask || harmonic_audible(k, f0, nyquist) ? c[k] : T(0);
    sum += h[k];
  }
  const T sd = sum == T(0) ? T(kHarmonicZeroSum) : sum;
  for (std::size_t k = 0; k < K; ++k) {
    h[k] /= sd;
    a[k] = A * h[k];
  }
  return sd;
}

template <class T>
FUGUE_HOST_DEVICE inline T frame_amplitudes_backward(std::size_t K, const T* da, const T* h, T A, T sd, T f0, T nyquist,
                                                     bool mask, T* dc) {
  T dA = 0, dot = 0;
  for (std::size_t k = 0; k < K; ++k) {
    dA += da[k] * h[k];
    dot += A * da[k] * h[k];
  }
  const bool zero_sum = sd == T(kHarmonicZeroSum);
  for (std::size_t k = 0; k < K; ++k) {
    const T dh = A * da[k];
    dc[k] = !mask || harmonic_audible(k, f0, nyquist) ? (zero_sum ? dh : dh - dot) / sd : T(0);
  }
  return dA;
}

FUGUE_HOST_DEVICE inline double advance_phase(double phase, double increment) {
  constexpr double two_pi = 2.0 * std::numbers::pi;
  phase += increment;
  if (phase >= two_pi || phase < 0) phase -= two_pi * std::floor(phase / two_pi);
  return phase;
}

// clang-format off
// x_{k+1} = 2 cos(x) x_k - x_{k-1}, for sin(k x) and cos(k x) alike (two_c = 2 cos(x)).
FUGUE_PORTABLE_FN(chebyshev_next, void, (V two_c, V& prev, V& cur),
  const V next = lane::fms(two_c, cur, prev);
  prev = cur;
  cur = next;
)

FUGUE_PORTABLE_FN(oscillator_sample, V,
                  (const lane::element_t<V>* a0, const lane::element_t<V>* da, std::size_t kc, V lam, V f0, V s,
                   V c, V nyquist),
  using E = lane::element_t<V>;
  const V zero = lane::k<V>(0), two_c = c + c;
  V prev = zero, cur = s, y = zero;
  for (std::size_t k = 0; k < kc; ++k) {
    const V amp = lane::fma(V(da[k]), lam, V(a0[k]));
    y = lane::fma(lane::select(V(E(k + 1)) * f0 < nyquist, amp, zero), cur, y);
    chebyshev_next(two_c, prev, cur);
  }
  return y;
)

FUGUE_PORTABLE_FN(oscillator_backward, V,
                  (const lane::element_t<V>* a0, const lane::element_t<V>* da, std::size_t kc, V g, V lam, V f0,
                   V s, V c, V nyquist, V* acc0, V* acc1),
  using E = lane::element_t<V>;
  const V zero = lane::k<V>(0), two_c = c + c, gl = g * lam, g0 = g - gl;
  V s_prev = zero, s_cur = s, c_prev = lane::k<V>(1), c_cur = c, dphase = zero;
  for (std::size_t k = 0; k < kc; ++k) {
    const V kv(E(k + 1));
    const auto audible = kv * f0 < nyquist;
    const V amp = lane::fma(V(da[k]), lam, V(a0[k]));
    dphase = lane::fma(lane::select(audible, amp * kv, zero), c_cur, dphase);
    if (acc0) {
      const V ms = lane::select(audible, s_cur, zero);
      acc0[k] = lane::fma(g0, ms, acc0[k]);
      acc1[k] = lane::fma(gl, ms, acc1[k]);
    }
    chebyshev_next(two_c, s_prev, s_cur);
    chebyshev_next(two_c, c_prev, c_cur);
  }
  return g * dphase;
)
// clang-format on

}  // namespace fugue::dsp
