// fugue/dsp/filtered_noise.hpp — DDSP filtered-noise synthesizer as one fused tape op.
//
// Contract (docs/dsp.md, "Filtered noise"; DDSP synths.FilteredNoise, core.frequency_filter /
// frequency_impulse_response / fft_convolve):
//  * Input: magnitudes [B, F, M] (M bands, e.g. 65). With options.exp_sigmoid (default) the magnitudes
//    are exp_sigmoid(x + initial_bias) (initial_bias -5 by default, as DDSP), else used as given.
//  * Per frame, the M magnitudes are a real zero-phase spectrum on bins 0..Nyquist: irfft to an IR of
//    L = 2 (M - 1) taps (peak at 0), times the periodic Hann of L in zero-phase form, then fftshifted to
//    causal form (peak at L/2): ir[i] = irfft(m)[(i + L/2) mod L] hann_L[i]. (DDSP gin configs use
//    window_size 0 = L; other window sizes are not supported here and throw.)
//  * Noise: uniform in [-1, 1) from Philox{seed, stream + b} (row b, element n: 2 u(n) - 1), the same on
//    every call for the same options (deterministic); its block spectra are cached in the object.
//  * fft_convolve: the noise is split into F blocks of ceil(N / F) samples (zero-padded at the end), block f
//    is convolved with frame f's IR by an rFFT of size next_pow2(block + L - 1), the block outputs are
//    overlap-added with hop = block, and N samples are kept from (L - 1) / 2 - 1 on (DDSP's
//    delay_compensation -1; for L = 128 that is 62, a residual delay of 2 samples as in DDSP).
//  * Output: audio [B, N]. Backward (hand-written, op `dsp_filtered_noise`): w.r.t. the magnitudes, by the
//    cross-correlation of the gradient with each noise block (rFFT), the transpose of the window/shift and
//    of the zero-phase irfft (a real rFFT with the mirrored bins doubled), and exp_sigmoid'.
//  * FilteredNoise<T> caches the noise spectra for (B, N, F, M); filtered_noise() builds one per call.
#pragma once

#include <xsimd/xsimd.hpp>

#include <complex>
#include <cstdint>
#include <memory>
#include <vector>

#include "fugue/autodiff/host_staged.hpp"
#include "fugue/autodiff/registry.hpp"
#include "fugue/autodiff/tape.hpp"
#include "fugue/backend/cpu/threads.hpp"
#include "fugue/core/error.hpp"
#include "fugue/core/rng.hpp"
#include "fugue/dsp/detail/diff_util.hpp"
#include "fugue/dsp/fft.hpp"
#include "fugue/dsp/window.hpp"

namespace fugue::dsp {

FUGUE_AD_OP(dsp_filtered_noise)

struct FilteredNoiseOptions {
  std::size_t n_samples = 64000;
  std::size_t window_size = 0;  // 0 (DDSP gin default): the IR size 2 (M - 1)
  bool exp_sigmoid = true;
  double initial_bias = -5.0;
  std::uint64_t seed = 42;
  std::uint64_t stream = 0;
};

template <fft_real T>
class FilteredNoise {
 public:
  using complex = std::complex<T>;
  using cvec = std::vector<complex, xsimd::aligned_allocator<complex, 64>>;

  explicit FilteredNoise(FilteredNoiseOptions o = {}) : opt_(o) {
    FUGUE_CHECK(o.n_samples >= 1, "FilteredNoise: n_samples must be >= 1");
  }
  const FilteredNoiseOptions& options() const noexcept { return opt_; }

  // The noise of row b (n_samples values in [-1, 1)).
  std::vector<T> noise(std::size_t b) const {
    std::vector<T> v(opt_.n_samples);
    const Philox rng{opt_.seed, opt_.stream + b};
    rng.for_each_uniform<T>(0, v.size(), [&](std::uint64_t n, T u) { v[std::size_t(n)] = T(2) * u - T(1); });
    return v;
  }

  // On a device backend the op runs host-staged (ad::host_staged): the same values and
  // gradients, plus a host<->device copy of each input and output.
  template <Backend B>
  ad::Var<T, B> operator()(const ad::Var<T, B>& mags) {
    if constexpr (B::host_accessible)
      return run(mags);
    else
      return ad::host_staged(
          "dsp_filtered_noise", [this](const auto&... v) { return run(v...); }, mags);
  }

 private:
  template <Backend B>
    requires B::host_accessible
  ad::Var<T, B> run(const ad::Var<T, B>& mags) {
    FUGUE_CHECK(mags.defined() && mags.rank() == 3, "filtered_noise: magnitudes must be [B, F, M], got ",
                mags.defined() ? mags.shape().str() : std::string("undefined"));
    const std::size_t Bn = std::size_t(mags.dim(0)), F = std::size_t(mags.dim(1)), M = std::size_t(mags.dim(2));
    // M >= 3: the IR then has L = 2 (M - 1) >= 4 taps, so the crop offset (L - 1) / 2 - 1 is >= 0.
    FUGUE_CHECK(M >= 3 && F >= 1, "filtered_noise: need M >= 3 bands and F >= 1 frames, got ", mags.shape().str());
    const std::size_t L = 2 * (M - 1);
    FUGUE_CHECK(opt_.window_size == 0 || opt_.window_size == L, "filtered_noise: window_size ", opt_.window_size,
                " is not supported (only 0 or the IR size ", L, ")");
    prepare(Bn, F, M);
    auto st = std::make_shared<State>();
    st->g = geo_;
    st->spec = spec_;
    st->opt = opt_;
    st->S.resize(Bn * F * M);
    const Tensor<T, B> mc = mags.value().contiguous();
    if (opt_.exp_sigmoid)
      detail::exp_sigmoid_forward<host_arch_t<B>>(mc.data(), st->S.data(), Bn * F * M, opt_.initial_bias);
    else
      std::copy_n(mc.data(), Bn * F * M, st->S.data());
    auto y = Tensor<T, B>::empty(Shape{index_t(Bn), index_t(geo_->N)});
    st->forward(y.data());
    return mags.tape().record(
        y, {mags}, [st](const Tensor<T, B>& g, ad::GradSink<T, B>& s) { st->template backward<B>(g, s); },
        "dsp_filtered_noise");
  }

 private:
  struct Geometry {
    std::size_t Bn, F, M, L, N, fs, nfft, nb, crop;
    RealFFT<T> ir_fft, blk_fft;
    detail::avec<T> win;
    Geometry(std::size_t Bn_, std::size_t F_, std::size_t M_, std::size_t N_)
        : Bn(Bn_),
          F(F_),
          M(M_),
          L(2 * (M_ - 1)),
          N(N_),
          fs((N_ + F_ - 1) / F_),
          nfft(detail::next_pow2(fs + L - 1)),
          nb(nfft / 2 + 1),
          crop((L - 1) / 2 - 1),
          ir_fft(L),
          blk_fft(nfft) {
      const auto w = hann<T>(L);
      win.assign(w.begin(), w.end());
    }
  };

  void prepare(std::size_t Bn, std::size_t F, std::size_t M) {
    if (geo_ && geo_->Bn == Bn && geo_->F == F && geo_->M == M) return;
    geo_ = std::make_shared<const Geometry>(Bn, F, M, opt_.n_samples);
    auto spec = std::make_shared<cvec>(Bn * F * geo_->nb);
    const Geometry& g = *geo_;
    detail::avec<T> blk(g.nfft);
    for (std::size_t b = 0; b < Bn; ++b) {
      const std::vector<T> x = noise(b);
      for (std::size_t f = 0; f < F; ++f) {
        std::fill(blk.begin(), blk.end(), T(0));
        for (std::size_t i = 0; i < g.fs && f * g.fs + i < g.N; ++i) blk[i] = x[f * g.fs + i];
        g.blk_fft.forward(std::span<const T>(blk.data(), g.nfft),
                          std::span<complex>(spec->data() + (b * F + f) * g.nb, g.nb));
      }
    }
    spec_ = spec;
  }

  struct State {
    std::shared_ptr<const Geometry> g;
    std::shared_ptr<const cvec> spec;
    FilteredNoiseOptions opt;
    detail::avec<T> S;  // scaled magnitudes [B, F, M]

    // Causal windowed IR of frame (b, f) into ir (L values).
    void impulse(std::size_t b, std::size_t f, T* ir, cvec& tmp, detail::avec<T>& hz) const {
      const Geometry& G = *g;
      const T* m = S.data() + (b * G.F + f) * G.M;
      for (std::size_t k = 0; k < G.M; ++k) tmp[k] = complex(m[k], T(0));
      G.ir_fft.inverse(std::span<const complex>(tmp.data(), G.M), std::span<T>(hz.data(), G.L));
      const std::size_t h = G.L / 2;
      for (std::size_t i = 0; i < G.L; ++i) ir[i] = hz[(i + h) % G.L] * G.win[i];
    }

    void forward(T* y) const {
      const Geometry& G = *g;
      const std::size_t blen = G.fs + G.L - 1, total = G.F * G.fs + G.L - 1;
      std::vector<T> outs(G.F * blen);
      for (std::size_t b = 0; b < G.Bn; ++b) {
        const int parts = std::max(1, cpu::num_threads());
        cpu::parallel_for(parts, [&](int p) {
          thread_local cvec tmp, Y;
          thread_local detail::avec<T> hz, ir, blk;
          tmp.resize(std::max(G.M, G.nb));
          Y.resize(G.nb);
          hz.resize(G.L);
          ir.assign(G.nfft, T(0));
          blk.resize(G.nfft);
          for (std::size_t f = G.F * std::size_t(p) / parts; f < G.F * std::size_t(p + 1) / parts; ++f) {
            impulse(b, f, ir.data(), tmp, hz);
            std::fill(ir.begin() + G.L, ir.end(), T(0));
            G.blk_fft.forward(std::span<const T>(ir.data(), G.nfft), std::span<complex>(Y.data(), G.nb));
            const complex* X = spec->data() + (b * G.F + f) * G.nb;
            for (std::size_t k = 0; k < G.nb; ++k) Y[k] *= X[k];
            G.blk_fft.inverse(std::span<const complex>(Y.data(), G.nb), std::span<T>(blk.data(), G.nfft));
            std::copy_n(blk.data(), blen, outs.data() + f * blen);
          }
        });
        // Overlap-add and crop, in frame order.
        std::vector<T> full(total, T(0));
        for (std::size_t f = 0; f < G.F; ++f) {
          T* dst = full.data() + f * G.fs;
          const T* src = outs.data() + f * blen;
          for (std::size_t i = 0; i < blen; ++i) dst[i] += src[i];
        }
        for (std::size_t n = 0; n < G.N; ++n) y[b * G.N + n] = G.crop + n < total ? full[G.crop + n] : T(0);
      }
    }

    template <Backend B>
    void backward(const Tensor<T, B>& gout, ad::GradSink<T, B>& s) const {
      if (!s.needs(0)) return;
      const Geometry& G = *g;
      const Tensor<T, B> gc = gout.contiguous();
      const std::size_t total = (G.F - 1) * G.fs + G.nfft;
      detail::avec<T> dS(G.Bn * G.F * G.M);
      for (std::size_t b = 0; b < G.Bn; ++b) {
        detail::avec<T> gfull(std::max(total, G.crop + G.N), T(0));
        for (std::size_t n = 0; n < G.N; ++n) gfull[G.crop + n] = gc.data()[b * G.N + n];
        const int parts = std::max(1, cpu::num_threads());
        cpu::parallel_for(parts, [&](int p) {
          thread_local cvec Gs, H;
          thread_local detail::avec<T> c, dhz;
          Gs.resize(G.nb);
          H.resize(G.nb);
          c.resize(G.nfft);
          dhz.resize(G.L);
          const std::size_t h = G.L / 2;
          for (std::size_t f = G.F * std::size_t(p) / parts; f < G.F * std::size_t(p + 1) / parts; ++f) {
            // Correlation of the gradient segment with noise block f: d ir[j] = sum_n gseg[n + j] x[n].
            G.blk_fft.forward(std::span<const T>(gfull.data() + f * G.fs, G.nfft), std::span<complex>(Gs.data(), G.nb));
            const complex* X = spec->data() + (b * G.F + f) * G.nb;
            for (std::size_t k = 0; k < G.nb; ++k) Gs[k] *= std::conj(X[k]);
            G.blk_fft.inverse(std::span<const complex>(Gs.data(), G.nb), std::span<T>(c.data(), G.nfft));
            // Transpose of the window and the causal shift.
            for (std::size_t i = 0; i < G.L; ++i) dhz[(i + h) % G.L] = c[i] * G.win[i];
            // Transpose of the zero-phase irfft: dm_k = c_k / L Re(rfft(dhz))_k, c_k = 2 for mirrored bins.
            G.ir_fft.forward(std::span<const T>(dhz.data(), G.L), std::span<complex>(H.data(), G.M));
            T* d = dS.data() + (b * G.F + f) * G.M;
            const T inv = T(1) / T(G.L);
            for (std::size_t k = 0; k < G.M; ++k) d[k] = H[k].real() * inv * (k == 0 || k == G.M - 1 ? T(1) : T(2));
          }
        });
      }
      auto dm = Tensor<T, B>::empty(s.input(0).shape());
      if (opt.exp_sigmoid) {
        const Tensor<T, B> x = s.input(0).contiguous();
        detail::exp_sigmoid_backward<host_arch_t<B>>(x.data(), S.data(), dS.data(), dm.data(), dS.size(),
                                                     opt.initial_bias);
      } else {
        std::copy_n(dS.data(), dS.size(), dm.data());
      }
      s.accumulate(0, dm);
    }
  };

  FilteredNoiseOptions opt_;
  std::shared_ptr<const Geometry> geo_;
  std::shared_ptr<const cvec> spec_;
};

// DDSP filtered noise (see FilteredNoise); builds the noise spectra per call.
template <Scalar T, Backend B>
ad::Var<T, B> filtered_noise(const ad::Var<T, B>& magnitudes, const FilteredNoiseOptions& o = {}) {
  FilteredNoise<T> fn(o);
  return fn(magnitudes);
}

}  // namespace fugue::dsp
