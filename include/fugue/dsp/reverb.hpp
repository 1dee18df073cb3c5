// fugue/dsp/reverb.hpp — DDSP trainable convolution reverb as one fused tape op.
//
// Contract (docs/dsp.md, "Reverb"; DDSP effects.Reverb(trainable=True, add_dry=True)):
//  * reverb(audio, ir, options): audio [N] or [B, N]; ir [L] (one IR shared by the batch, DDSP's
//    trainable variable tiled over the batch) or [B, L]. With mask_first_tap (default) ir[0] is treated
//    as 0 (DDSP masks the dry tap of the learned IR). wet = the causal linear convolution audio * ir,
//    first N samples (fft_convolve padding 'same', delay_compensation 0: no delay); output = wet + audio
//    with add_dry (default), else wet. Shape of audio.
//  * One rFFT convolution per row, size next_pow2(N + L - 1) (131072 for 64000 + 48000). Spectra of the
//    audio and the IR are kept for the backward.
//  * Backward (hand-written, op `dsp_reverb`): d audio = g (dry) + the correlation of g with ir;
//    d ir[j] = sum_n g[n] audio[n - j] (0 for j = 0 when masked), summed over rows for a shared IR.
//    Both by rFFT: irfft(G conj(H)) and irfft(G conj(A)).
#pragma once

#include <xsimd/xsimd.hpp>

#include <complex>
#include <memory>
#include <vector>

#include "fugue/autodiff/host_staged.hpp"
#include "fugue/autodiff/registry.hpp"
#include "fugue/autodiff/tape.hpp"
#include "fugue/core/error.hpp"
#include "fugue/dsp/detail/diff_util.hpp"
#include "fugue/dsp/fft.hpp"

namespace fugue::dsp {

FUGUE_AD_OP(dsp_reverb)

struct ReverbOptions {
  bool add_dry = true;
  bool mask_first_tap = true;
};

namespace detail {
template <Scalar T, Backend B>
  requires B::host_accessible
ad::Var<T, B> reverb_host(const ad::Var<T, B>& audio, const ad::Var<T, B>& ir, const ReverbOptions& o) {
  using complex = std::complex<T>;
  using cvec = std::vector<complex, xsimd::aligned_allocator<complex, 64>>;
  FUGUE_CHECK(audio.defined() && ir.defined(), "reverb: undefined input");
  FUGUE_CHECK(&audio.tape() == &ir.tape(), "reverb: Vars from different tapes");
  FUGUE_CHECK(audio.rank() == 1 || audio.rank() == 2, "reverb: audio must be [N] or [B, N], got ", audio.shape().str());
  const std::size_t rows = audio.rank() == 2 ? std::size_t(audio.dim(0)) : 1;
  const std::size_t N = std::size_t(audio.dim(audio.rank() - 1));
  const bool shared = ir.rank() == 1;
  FUGUE_CHECK(shared || (ir.rank() == 2 && std::size_t(ir.dim(0)) == rows && audio.rank() == 2),
              "reverb: ir must be [L] or [B, L] matching audio ", audio.shape().str(), ", got ", ir.shape().str());
  const std::size_t L = std::size_t(ir.dim(ir.rank() - 1));
  FUGUE_CHECK(N >= 1 && L >= 1, "reverb: empty audio or IR");
  const std::size_t nfft = detail::next_pow2(N + L - 1), nb = nfft / 2 + 1;
  RealFFT<T> fft(nfft);
  const Tensor<T, B> ac = audio.value().contiguous(), hc = ir.value().contiguous();
  auto A = std::make_shared<cvec>(rows * nb);
  auto H = std::make_shared<cvec>((shared ? 1 : rows) * nb);
  detail::avec<T> buf(nfft);
  for (std::size_t r = 0; r < (shared ? 1 : rows); ++r) {
    std::fill(buf.begin(), buf.end(), T(0));
    std::copy_n(hc.data() + r * L, L, buf.data());
    if (o.mask_first_tap) buf[0] = T(0);
    fft.forward(std::span<const T>(buf.data(), nfft), std::span<complex>(H->data() + r * nb, nb));
  }
  auto y = Tensor<T, B>::empty(audio.shape());
  cvec Y(nb);
  for (std::size_t r = 0; r < rows; ++r) {
    std::fill(buf.begin(), buf.end(), T(0));
    const T* x = ac.data() + r * N;
    std::copy_n(x, N, buf.data());
    complex* Ar = A->data() + r * nb;
    fft.forward(std::span<const T>(buf.data(), nfft), std::span<complex>(Ar, nb));
    const complex* Hr = H->data() + (shared ? 0 : r) * nb;
    for (std::size_t k = 0; k < nb; ++k) Y[k] = Ar[k] * Hr[k];
    fft.inverse(std::span<const complex>(Y.data(), nb), std::span<T>(buf.data(), nfft));
    T* yr = y.data() + r * N;
    for (std::size_t n = 0; n < N; ++n) yr[n] = buf[n] + (o.add_dry ? x[n] : T(0));
  }
  return audio.tape().record(
      y, {audio, ir},
      [A, H, o, rows, N, L, nfft, nb, shared](const Tensor<T, B>& g, ad::GradSink<T, B>& s) {
        if (!s.needs(0) && !s.needs(1)) return;
        RealFFT<T> fft(nfft);
        const Tensor<T, B> gc = g.contiguous();
        detail::avec<T> buf(nfft);
        cvec G(nb), P(nb);
        auto da = Tensor<T, B>::zeros(s.input(0).shape());
        auto dh = Tensor<T, B>::zeros(s.input(1).shape());
        for (std::size_t r = 0; r < rows; ++r) {
          std::fill(buf.begin(), buf.end(), T(0));
          const T* gr = gc.data() + r * N;
          std::copy_n(gr, N, buf.data());
          fft.forward(std::span<const T>(buf.data(), nfft), std::span<complex>(G.data(), nb));
          if (s.needs(0)) {
            const complex* Hr = H->data() + (shared ? 0 : r) * nb;
            for (std::size_t k = 0; k < nb; ++k) P[k] = G[k] * std::conj(Hr[k]);
            fft.inverse(std::span<const complex>(P.data(), nb), std::span<T>(buf.data(), nfft));
            T* d = da.data() + r * N;
            for (std::size_t n = 0; n < N; ++n) d[n] = buf[n] + (o.add_dry ? gr[n] : T(0));
          }
          if (s.needs(1)) {
            const complex* Ar = A->data() + r * nb;
            for (std::size_t k = 0; k < nb; ++k) P[k] = G[k] * std::conj(Ar[k]);
            fft.inverse(std::span<const complex>(P.data(), nb), std::span<T>(buf.data(), nfft));
            T* d = dh.data() + (shared ? 0 : r) * L;
            for (std::size_t j = o.mask_first_tap ? 1 : 0; j < L; ++j) d[j] += buf[j];
          }
        }
        if (s.needs(0)) s.accumulate(0, da);
        if (s.needs(1)) s.accumulate(1, dh);
      },
      "dsp_reverb");
}
}  // namespace detail

// On a device backend the op runs host-staged (ad::host_staged): the same values and gradients,
// plus a host<->device copy of each input and output.
template <Scalar T, Backend B>
ad::Var<T, B> reverb(const ad::Var<T, B>& audio, const ad::Var<T, B>& ir, const ReverbOptions& o = {}) {
  if constexpr (B::host_accessible)
    return detail::reverb_host(audio, ir, o);
  else
    return ad::host_staged(
        "dsp_reverb", [&](const auto&... v) { return detail::reverb_host(v..., o); }, audio, ir);
}

}  // namespace fugue::dsp
