// fugue/dsp/harmonic_synth.hpp — DDSP harmonic (additive) synthesizer as one fused tape op.
//
// Contract (docs/dsp.md, "Harmonic synthesizer"; DDSP synths.Harmonic + core.harmonic_synthesis +
// core.oscillator_bank):
//  * Inputs: amplitudes [B, F] (or [B, F, 1]), harmonic distribution [B, F, K], f0 [B, F] (or [B, F, 1])
//    in Hz at frame rate. Output: audio [B, N], N = options.n_samples.
//  * Controls: with options.exp_sigmoid (default, DDSP's scale_fn) A = exp_sigmoid(amplitudes),
//    c = exp_sigmoid(distribution), exp_sigmoid(x) = 2 sigmoid(x)^ln 10 + 1e-7; otherwise used as given.
//    With normalize_below_nyquist (default) c_k = 0 where k f0 >= sr/2 (k = 1..K; ">=" as DDSP).
//    Then c <- c / sum_k c (a zero sum is replaced by 1e-7). Frame-rate harmonic amplitudes a_k = A c_k.
//  * Upsampling to N samples: amplitudes by AmpResample::window (default; DDSP upsample_with_windows:
//    last frame appended, periodic Hann of 2 hop overlap-added with hop = N / F, hop samples dropped at
//    both ends; N % F == 0 required) — equal to a raised-cosine crossfade a[q] (1 - l_j) + a[q+1] l_j,
//    l_j = sin^2(pi j / 2 hop) for sample n = q hop + j — or AmpResample::linear (DDSP core.resample
//    'linear': position p = n F / N, linear between floor(p) and floor(p) + 1, last frame held).
//    f0 is always upsampled linearly (harmonic frequencies k f0 are linear in f0, so upsampling f0 once is
//    the same as upsampling each k f0).
//  * Oscillators: phase[n] = sum_{m <= n} 2 pi f0[m] / sr (inclusive cumulative sum, phase 0 before
//    sample 0), accumulated in double and wrapped into [0, 2 pi) sample by sample (so long signals keep
//    full precision; DDSP's angular_cumsum is the same idea). Harmonic k has phase k phase[n] and is
//    silent on samples where k f0[n] >= sr/2. y[n] = sum_k a_k[n] sin(k phase[n]).
//    sin(k phase) for k = 2..K comes from the Chebyshev recurrence s_{k+1} = 2 cos(phase) s_k - s_{k-1}
//    (one FMA per harmonic and sample, vectorised across samples; error grows ~k^2 ulp: <= 1e-4 relative
//    in float at K = 64, ~1e-13 in double).
//  * Backward (hand-written, op `dsp_harmonic_synth`): gradients w.r.t. amplitudes, distribution and f0.
//    d/d a_k[n] = g sin(k phase) (masked), folded back to frames by the transpose of the upsampler;
//    d/d phase[n] = g sum_k k a_k[n] cos(k phase[n]); d/d f0_up[n] = 2 pi / sr sum_{m >= n} dphase[m]
//    (reverse cumulative sum), then the transpose of linear upsampling. The Nyquist masks are step
//    functions: their derivative (zero almost everywhere) is taken as zero.
//  * Host backends: work is split over contiguous sample ranges with cpu::parallel_for; per-range
//    partial sums are combined in a fixed order (results do not depend on the thread count).
//  * Device backends: the portable functors of detail/harmonic_device.hpp (one call per frame,
//    sample or batch row; the phase and its reverse sum run sequentially per batch row). Same
//    formulas and errors (the check above included), sums in another order: equal to the host
//    path to rounding (stated in tests/backend_cuda/cases_ddsp.hpp), not bit for bit.
//  * HarmonicSynth<T> caches the resampling tables for a frame count; harmonic_synth() builds one.
#pragma once

#include <xsimd/xsimd.hpp>

#include <algorithm>
#include <cmath>
#include <memory>
#include <numbers>
#include <vector>

#include "fugue/autodiff/registry.hpp"
#include "fugue/autodiff/tape.hpp"
#include "fugue/backend/cpu/threads.hpp"
#include "fugue/core/error.hpp"
#include "fugue/dsp/detail/diff_util.hpp"
#include "fugue/dsp/detail/harmonic_device.hpp"
#include "fugue/dsp/fft.hpp"
#include "fugue/dsp/harmonic_equations.hpp"

namespace fugue::dsp {

FUGUE_AD_OP(dsp_harmonic_synth)

enum class AmpResample { window, linear };

struct HarmonicOptions {
  std::size_t n_samples = 64000;
  double sample_rate = 16000.0;
  bool exp_sigmoid = true;
  bool normalize_below_nyquist = true;
  AmpResample amp_resample = AmpResample::window;
};

namespace detail {

// Per-sample resampling tables from F frames to N samples, and the segments (runs of samples that
// interpolate between the same two frames, at most kMaxSeg long).
template <class T>
struct ResampleTables {
  static constexpr std::size_t kMaxSeg = 256;
  std::size_t frames = 0, n = 0;
  AmpResample method = AmpResample::window;
  avec<T> lam, mu;  // amplitude weight of frame i1; f0 (linear) weight of frame i1
  struct Seg {
    std::size_t n0, n1, i0, i1;
  };
  std::vector<Seg> segs;

  // The size checks both paths make (the device path has no tables).
  static void check(std::size_t F, std::size_t N, AmpResample m) {
    FUGUE_CHECK(F >= 1 && N >= 1, "harmonic_synth: need at least one frame and one sample");
    if (m == AmpResample::window)
      FUGUE_CHECK(N % F == 0, "harmonic_synth: window upsampling needs n_samples (", N,
                  ") to be a multiple of the frame count (", F, ")");
  }
  static harmonic_grid<T> grid(std::size_t F, std::size_t N, AmpResample m) {
    return {index_t(F), index_t(N), index_t(N / F), m == AmpResample::window, std::numbers::pi};
  }

  void build(std::size_t F, std::size_t N, AmpResample m) {
    if (F == frames && N == n && m == method && !segs.empty()) return;
    check(F, N, m);
    frames = F;
    n = N;
    method = m;
    lam.assign(N, T(0));
    mu.assign(N, T(0));
    segs.clear();
    const harmonic_grid<T> g = grid(F, N, m);
    std::size_t prev_i0 = std::size_t(-1);
    for (std::size_t s = 0; s < N; ++s) {
      index_t gi0, gi1;
      g.at(index_t(s), gi0, gi1, lam[s], mu[s]);
      const std::size_t i0 = std::size_t(gi0);
      if (i0 != prev_i0 || s - segs.back().n0 >= kMaxSeg) {
        if (!segs.empty()) segs.back().n1 = s;
        segs.push_back({s, N, i0, std::size_t(gi1)});
        prev_i0 = i0;
      }
    }
    segs.back().n1 = N;
  }
};

}  // namespace detail

template <fft_real T>
class HarmonicSynth {
 public:
  explicit HarmonicSynth(HarmonicOptions o = {}) : opt_(o) {
    FUGUE_CHECK(o.n_samples >= 1 && o.sample_rate > 0, "HarmonicSynth: bad n_samples / sample_rate");
  }
  const HarmonicOptions& options() const noexcept { return opt_; }

  // Host backends run the SIMD loops below; device backends the portable functors of
  // detail/harmonic_device.hpp (the same formulas; gradients summed in another order).
  template <Backend B>
  ad::Var<T, B> operator()(const ad::Var<T, B>& amps, const ad::Var<T, B>& dist, const ad::Var<T, B>& f0) {
    if constexpr (B::host_accessible)
      return run(amps, dist, f0);
    else
      return run_device(amps, dist, f0);
  }

 private:
  struct Dims {
    std::size_t Bn, F, K;
  };
  template <Backend B>
  static Dims check_inputs(const ad::Var<T, B>& amps, const ad::Var<T, B>& dist, const ad::Var<T, B>& f0) {
    FUGUE_CHECK(amps.defined() && dist.defined() && f0.defined(), "harmonic_synth: undefined input");
    FUGUE_CHECK(&amps.tape() == &dist.tape() && &amps.tape() == &f0.tape(),
                "harmonic_synth: Vars from different tapes");
    FUGUE_CHECK(dist.rank() == 3, "harmonic_synth: distribution must be [B, F, K], got ", dist.shape().str());
    const std::size_t Bn = std::size_t(dist.dim(0)), F = std::size_t(dist.dim(1)), K = std::size_t(dist.dim(2));
    auto frame_shaped = [&](const ad::Var<T, B>& v, const char* what) {
      FUGUE_CHECK((v.rank() == 2 || (v.rank() == 3 && v.dim(2) == 1)) && std::size_t(v.dim(0)) == Bn &&
                      std::size_t(v.dim(1)) == F,
                  "harmonic_synth: ", what, " must be [B, F] or [B, F, 1] with B = ", Bn, ", F = ", F, ", got ",
                  v.shape().str());
    };
    frame_shaped(amps, "amplitudes");
    frame_shaped(f0, "f0");
    FUGUE_CHECK(K >= 1, "harmonic_synth: no harmonics");
    return {Bn, F, K};
  }

  template <Backend B>
    requires B::host_accessible
  ad::Var<T, B> run(const ad::Var<T, B>& amps, const ad::Var<T, B>& dist, const ad::Var<T, B>& f0) {
    const auto [Bn, F, K] = check_inputs(amps, dist, f0);
    const std::size_t N = opt_.n_samples;
    if (!tables_) tables_ = std::make_shared<detail::ResampleTables<T>>();
    if (tables_->frames != F || tables_->n != N || tables_->method != opt_.amp_resample) {
      auto t = std::make_shared<detail::ResampleTables<T>>();
      t->build(F, N, opt_.amp_resample);
      tables_ = t;
    }
    auto st = std::make_shared<State<host_arch_t<B>>>();
    st->tab = tables_;
    st->opt = opt_;
    st->Bn = Bn;
    st->F = F;
    st->K = K;
    const Tensor<T, B> ac = amps.value().contiguous(), dc = dist.value().contiguous(), fc = f0.value().contiguous();
    st->A.resize(Bn * F);
    st->C.resize(Bn * F * K);
    st->ch.resize(Bn * F * K);
    st->Af.resize(Bn * F * K);
    st->Sd.resize(Bn * F);
    st->f0u.resize(Bn * N);
    st->s1.resize(Bn * N);
    st->c1.resize(Bn * N);
    auto y = Tensor<T, B>::empty(Shape{index_t(Bn), index_t(N)});
    for (std::size_t b = 0; b < Bn; ++b) {
      st->controls(b, ac.data() + b * F, dc.data() + b * F * K, fc.data() + b * F);
      st->phases(b, fc.data() + b * F);
    }
    st->synthesize(y.data());
    return amps.tape().record(
        y, {amps, dist, f0}, [st](const Tensor<T, B>& g, ad::GradSink<T, B>& s) { st->template backward<B>(g, s); },
        "dsp_harmonic_synth");
  }

 private:
  // Arch: the instruction set of the host loops (host_arch_t<B> of the backend run() is called with).
  template <class Arch>
  struct State {
    std::shared_ptr<const detail::ResampleTables<T>> tab;
    HarmonicOptions opt;
    std::size_t Bn = 0, F = 0, K = 0;
    detail::avec<T> A, C, ch, Af, Sd, f0u, s1, c1;

    T nyquist() const { return T(opt.sample_rate / 2); }

    void controls(std::size_t b, const T* amps, const T* dist, const T* f0) {
      T* Ab = A.data() + b * F;
      T* Cb = C.data() + b * F * K;
      if (opt.exp_sigmoid) {
        detail::exp_sigmoid_forward<Arch>(amps, Ab, F);
        detail::exp_sigmoid_forward<Arch>(dist, Cb, F * K);
      } else {
        std::copy_n(amps, F, Ab);
        std::copy_n(dist, F * K, Cb);
      }
      for (std::size_t f = 0; f < F; ++f)
        Sd[b * F + f] = frame_amplitudes(K, Cb + f * K, Ab[f], f0[f], nyquist(), opt.normalize_below_nyquist,
                                         ch.data() + (b * F + f) * K, Af.data() + (b * F + f) * K);
    }

    void phases(std::size_t b, const T* f0) {
      const std::size_t N = tab->n;
      T* fu = f0u.data() + b * N;
      T* ph = s1.data() + b * N;  // wrapped phase, turned into sin below
      const double w = 2.0 * std::numbers::pi / opt.sample_rate;
      double phase = 0;
      for (const auto& sg : tab->segs) {
        const double a = double(f0[sg.i0]), d = double(f0[sg.i1]) - a;
        for (std::size_t n = sg.n0; n < sg.n1; ++n) {
          const double f = a + d * double(tab->mu[n]);
          fu[n] = T(f);
          phase = advance_phase(phase, w * f);
          ph[n] = T(phase);
        }
      }
      sin_cos<Arch>(ph, ph, c1.data() + b * N, N);
    }

    // Splits the segments into `parts` contiguous chunks.
    std::vector<std::size_t> chunks(std::size_t parts) const {
      const std::size_t ns = tab->segs.size();
      parts = std::max<std::size_t>(1, std::min(parts, ns));
      std::vector<std::size_t> c(parts + 1);
      for (std::size_t i = 0; i <= parts; ++i) c[i] = i * ns / parts;
      return c;
    }

    void synthesize(T* y) const {
      const std::size_t N = tab->n;
      const auto ch_ = chunks(std::size_t(cpu::num_threads()) * 4);
      const int jobs = int(Bn * (ch_.size() - 1));
      cpu::parallel_for(jobs, [&](int job) {
        const std::size_t b = std::size_t(job) / (ch_.size() - 1), c = std::size_t(job) % (ch_.size() - 1);
        thread_local detail::avec<T> dA;
        if (dA.size() < K) dA.resize(K);
        for (std::size_t si = ch_[c]; si < ch_[c + 1]; ++si) {
          const auto& sg = tab->segs[si];
          const T* a0 = Af.data() + (b * F + sg.i0) * K;
          const T* a1 = Af.data() + (b * F + sg.i1) * K;
          for (std::size_t k = 0; k < K; ++k) dA[k] = a1[k] - a0[k];
          const std::size_t kc = active(b, sg);
          for_lane_blocks<T, Arch>(sg.n0, sg.n1, [&](auto lane_tag, std::size_t n, std::size_t cnt) {
            using V = decltype(lane_tag);
            const std::size_t o = b * N + n;
            const V out =
                oscillator_sample(a0, dA.data(), kc, lane::load_first<V>(tab->lam.data() + n, cnt),
                                  lane::load_first<V>(f0u.data() + o, cnt), lane::load_first<V>(s1.data() + o, cnt),
                                  lane::load_first<V>(c1.data() + o, cnt), V(nyquist()));
            lane::store_first(y + o, out, cnt);
          });
        }
      });
    }

    // Number of harmonics audible somewhere in the segment: k f0_min < nyquist.
    std::size_t active(std::size_t b, const typename detail::ResampleTables<T>::Seg& sg) const {
      const T* fu = f0u.data() + b * tab->n;
      T fmin = fu[sg.n0];
      for (std::size_t n = sg.n0 + 1; n < sg.n1; ++n) fmin = std::min(fmin, fu[n]);
      if (!(fmin > T(0))) return K;
      const double kmax = std::ceil(double(nyquist()) / double(fmin));  // first k with k fmin >= nyq, roughly
      return std::min<std::size_t>(K, std::size_t(std::max(1.0, kmax)) + 1);
    }

    template <Backend B>
    void backward(const Tensor<T, B>& g, ad::GradSink<T, B>& s) const {
      const bool need_a = s.needs(0), need_d = s.needs(1), need_f = s.needs(2);
      if (!need_a && !need_d && !need_f) return;
      const std::size_t N = tab->n, nseg = tab->segs.size();
      const Tensor<T, B> gc = g.contiguous();
      // Per-segment frame-rate partials (acc0 -> frame i0, acc1 -> frame i1) and per-sample dphase.
      detail::avec<T> p0(Bn * nseg * K), p1(Bn * nseg * K);
      std::vector<double> dph(Bn * N);
      const auto ch_ = chunks(std::size_t(cpu::num_threads()) * 4);
      const std::size_t nc = ch_.size() - 1;
      cpu::parallel_for(int(Bn * nc), [&](int job) {
        const std::size_t b = std::size_t(job) / nc, c = std::size_t(job) % nc;
        using V = lane_t<T, Arch>;
        thread_local std::vector<V, xsimd::aligned_allocator<V, 64>> acc0, acc1;
        thread_local detail::avec<T> dA;
        if (acc0.size() < K) acc0.resize(K), acc1.resize(K);
        if (dA.size() < K) dA.resize(K);
        for (std::size_t si = ch_[c]; si < ch_[c + 1]; ++si) {
          const auto& sg = tab->segs[si];
          const T* a0 = Af.data() + (b * F + sg.i0) * K;
          const T* a1 = Af.data() + (b * F + sg.i1) * K;
          for (std::size_t k = 0; k < K; ++k) {
            dA[k] = a1[k] - a0[k];
            acc0[k] = V(T(0));
            acc1[k] = V(T(0));
          }
          const std::size_t kc = active(b, sg);
          for_lane_blocks<T, Arch>(sg.n0, sg.n1, [&](auto lane_tag, std::size_t n, std::size_t cnt) {
            using W = decltype(lane_tag);
            static_assert(std::is_same_v<W, V>);
            const std::size_t o = b * N + n;
            const W d =
                oscillator_backward(a0, dA.data(), kc, lane::load_first<W>(gc.data() + o, cnt),
                                    lane::load_first<W>(tab->lam.data() + n, cnt),
                                    lane::load_first<W>(f0u.data() + o, cnt), lane::load_first<W>(s1.data() + o, cnt),
                                    lane::load_first<W>(c1.data() + o, cnt), W(nyquist()), acc0.data(), acc1.data());
            alignas(64) T tmp[lane::width<W>];
            lane::store_first(tmp, d, cnt);
            for (std::size_t i = 0; i < cnt; ++i) dph[o + i] = double(tmp[i]);
          });
          T* q0 = p0.data() + (b * nseg + si) * K;
          T* q1 = p1.data() + (b * nseg + si) * K;
          for (std::size_t k = 0; k < K; ++k) {
            q0[k] = lane::hsum(acc0[k]);
            q1[k] = lane::hsum(acc1[k]);
          }
        }
      });
      if (need_a || need_d) {
        detail::avec<T> dAf(K), dCs(F * K), dAs(F);
        auto da_t = Tensor<T, B>::zeros(s.input(0).shape());
        auto dd_t = Tensor<T, B>::zeros(s.input(1).shape());
        const Tensor<T, B> ain = s.input(0).contiguous(), din = s.input(1).contiguous(), fin = s.input(2).contiguous();
        const T nyq = nyquist();
        for (std::size_t b = 0; b < Bn; ++b) {
          // Sum segment partials into frame rows, in segment order.
          detail::avec<T> dAfr(F * K, T(0));
          for (std::size_t si = 0; si < nseg; ++si) {
            const auto& sg = tab->segs[si];
            const T* q0 = p0.data() + (b * nseg + si) * K;
            const T* q1 = p1.data() + (b * nseg + si) * K;
            T* r0 = dAfr.data() + sg.i0 * K;
            T* r1 = dAfr.data() + sg.i1 * K;
            for (std::size_t k = 0; k < K; ++k) r0[k] += q0[k];
            for (std::size_t k = 0; k < K; ++k) r1[k] += q1[k];
          }
          const T* f0b = fin.data() + b * F;
          for (std::size_t f = 0; f < F; ++f)
            dAs[f] =
                frame_amplitudes_backward(K, dAfr.data() + f * K, ch.data() + (b * F + f) * K, A[b * F + f],
                                          Sd[b * F + f], f0b[f], nyq, opt.normalize_below_nyquist, dCs.data() + f * K);
          if (opt.exp_sigmoid) {
            detail::exp_sigmoid_backward<Arch>(ain.data() + b * F, A.data() + b * F, dAs.data(), da_t.data() + b * F,
                                               F);
            detail::exp_sigmoid_backward<Arch>(din.data() + b * F * K, C.data() + b * F * K, dCs.data(),
                                               dd_t.data() + b * F * K, F * K);
          } else {
            std::copy_n(dAs.data(), F, da_t.data() + b * F);
            std::copy_n(dCs.data(), F * K, dd_t.data() + b * F * K);
          }
        }
        if (need_a) s.accumulate(0, da_t);
        if (need_d) s.accumulate(1, dd_t);
      }
      if (need_f) {
        auto df_t = Tensor<T, B>::zeros(s.input(2).shape());
        const double w = 2.0 * std::numbers::pi / opt.sample_rate;
        for (std::size_t b = 0; b < Bn; ++b) {
          std::vector<double> df(F, 0.0);
          double r = 0;
          const double* d = dph.data() + b * N;
          // Reverse cumulative sum, then the transpose of linear upsampling; segments walked backwards.
          for (std::size_t si = nseg; si-- > 0;) {
            const auto& sg = tab->segs[si];
            double s0 = 0, s1_ = 0;
            for (std::size_t n = sg.n1; n-- > sg.n0;) {
              r += d[n];
              const double mu = double(tab->mu[n]);
              s0 += (1 - mu) * r;
              s1_ += mu * r;
            }
            df[sg.i0] += w * s0;
            df[sg.i1] += w * s1_;
          }
          for (std::size_t f = 0; f < F; ++f) df_t.data()[b * F + f] = T(df[f]);
        }
        s.accumulate(2, df_t);
      }
    }
  };

  // The device path: frame controls, then the phase (one sequential pass per batch row: it is a
  // running sum in double), then one functor call per sample; the backward per sample, per row
  // (reverse cumulative sum) and per frame. The state tensors live in the backward closure.
  template <Backend B>
    requires(!B::host_accessible)
  ad::Var<T, B> run_device(const ad::Var<T, B>& amps, const ad::Var<T, B>& dist, const ad::Var<T, B>& f0) {
    using Tn = Tensor<T, B>;
    const auto [Bn, F, K] = check_inputs(amps, dist, f0);
    const std::size_t N = opt_.n_samples;
    detail::ResampleTables<T>::check(F, N, opt_.amp_resample);
    const index_t bn = index_t(Bn), fr = index_t(F), kh = index_t(K), ns = index_t(N);
    const auto grid = detail::ResampleTables<T>::grid(F, N, opt_.amp_resample);
    const T nyq = T(opt_.sample_rate / 2);
    const double omega = 2.0 * std::numbers::pi / opt_.sample_rate;
    struct DeviceState {
      Tn A, C, ch, Af, dAf, Sd, f0u, s1, c1;
    };
    auto st = std::make_shared<DeviceState>();
    const Tn ac = amps.value().contiguous(), dc = dist.value().contiguous(), fc = f0.value().contiguous();
    st->A = Tn::empty(Shape{bn, fr});
    st->Sd = Tn::empty(Shape{bn, fr});
    st->C = Tn::empty(Shape{bn, fr, kh});
    st->ch = Tn::empty(Shape{bn, fr, kh});
    st->Af = Tn::empty(Shape{bn, fr, kh});
    st->dAf = Tn::empty(Shape{bn, fr, kh});
    st->f0u = Tn::empty(Shape{bn, ns});
    st->s1 = Tn::empty(Shape{bn, ns});
    st->c1 = Tn::empty(Shape{bn, ns});
    B::for_each(bn * fr,
                detail::harmonic_controls_at<T>{kh, opt_.exp_sigmoid, opt_.normalize_below_nyquist, nyq,
                                                fn::exp_sigmoid{}, ac.data(), dc.data(), fc.data(), st->A.data(),
                                                st->C.data(), st->ch.data(), st->Af.data(), st->Sd.data()});
    B::for_each(bn * fr * kh, detail::harmonic_frame_delta_at<T>{fr, kh, st->Af.data(), st->dAf.data()});
    B::for_each(bn, detail::harmonic_phase_row<T>{grid, omega, fc.data(), st->f0u.data(), st->s1.data()});
    B::for_each(bn * ns, detail::harmonic_sincos_at<T>{st->s1.data(), st->c1.data()});
    const detail::harmonic_sample_base<T> base{
        grid, kh, nyq, st->Af.data(), st->dAf.data(), st->f0u.data(), st->s1.data(), st->c1.data()};
    auto y = Tn::empty(Shape{bn, ns});
    B::generate(bn * ns, y.data(), detail::harmonic_sample_at<T>{base});
    const HarmonicOptions o = opt_;
    return amps.tape().record(
        y, {amps, dist, f0},
        [st, grid, base, o, nyq, omega, bn, fr, kh, ns](const Tn& g, ad::GradSink<T, B>& s) {
          if (!s.needs(0) && !s.needs(1) && !s.needs(2)) return;
          const Tn gc = g.contiguous();
          auto dph = Tn::empty(Shape{bn, ns});
          B::generate(bn * ns, dph.data(), detail::harmonic_dphase_at<T>{base, gc.data()});
          auto R = Tensor<double, B>::empty(Shape{bn, ns});
          B::for_each(bn, detail::harmonic_reverse_cumsum_row<T>{ns, dph.data(), R.data()});
          const Tn ain = s.input(0).contiguous(), din = s.input(1).contiguous(), fin = s.input(2).contiguous();
          auto da = Tn::empty(ain.shape()), dd = Tn::empty(din.shape()), df = Tn::empty(fin.shape());
          B::for_each(bn * fr, detail::harmonic_frame_grads_at<T>{grid,
                                                                  kh,
                                                                  o.exp_sigmoid,
                                                                  o.normalize_below_nyquist,
                                                                  nyq,
                                                                  omega,
                                                                  fn::exp_sigmoid_grad{},
                                                                  gc.data(),
                                                                  st->f0u.data(),
                                                                  st->s1.data(),
                                                                  st->c1.data(),
                                                                  st->A.data(),
                                                                  st->C.data(),
                                                                  st->ch.data(),
                                                                  st->Sd.data(),
                                                                  ain.data(),
                                                                  din.data(),
                                                                  fin.data(),
                                                                  R.data(),
                                                                  da.data(),
                                                                  dd.data(),
                                                                  df.data()});
          if (s.needs(0)) s.accumulate(0, da);
          if (s.needs(1)) s.accumulate(1, dd);
          if (s.needs(2)) s.accumulate(2, df);
        },
        "dsp_harmonic_synth");
  }

  HarmonicOptions opt_;
  std::shared_ptr<detail::ResampleTables<T>> tables_;
};

// DDSP harmonic synthesizer (see HarmonicSynth); builds the resampling tables per call.
template <Scalar T, Backend B>
ad::Var<T, B> harmonic_synth(const ad::Var<T, B>& amplitudes, const ad::Var<T, B>& distribution,
                             const ad::Var<T, B>& f0_hz, const HarmonicOptions& o = {}) {
  HarmonicSynth<T> h(o);
  return h(amplitudes, distribution, f0_hz);
}

}  // namespace fugue::dsp
