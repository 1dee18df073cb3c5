// fugue/models/ddsp/encoders.hpp — the optional z-encoder of the DDSP autoencoder
// (HEAD MfccTimeDistributedRnnEncoder, ae.gin; docs/ddsp.md, "Encoder").
//
// Contract
//  * NoEncoder<T, B>: z_dims 0; the model is a plain decoder (f0 + loudness only).
//  * MfccRnnEncoder<T, B, Rnn, ZDims, NMfcc = 30>: audio [N, S] -> MFCC [N, Tz, NMfcc]
//    (features(): dsp::ddsp_mfcc, 128 mels 20..8000 Hz, fft 1024, overlap 0.5 (z_time_steps 125
//    per 4 s), tf pad_end framing, Tz = ceil(S / 512); no gradient flows into the audio) ->
//    instance normalisation over time per coefficient (eps 1e-5, learnable "norm.scale" init 1
//    and "norm.shift" init 0, [NMfcc] each) -> GRU(Rnn) "gru.*" -> Dense(ZDims) "dense.*" ->
//    z [N, Tz, ZDims] -> linearly resampled to the decoder's F frames (TF1 resize, align_corners
//    False: frame t reads position t Tz / F, last frame held) -> [N, F, ZDims].
//  * operator()(tape, mfcc, frames) is the training path; forward(mfcc, frames) const the same z
//    without a tape (inference).
//  * Parameters for Rnn 512, ZDims 16: 60 + GRU 3 * 512 * (30 + 512) + 3072 = 835,584 + Dense
//    8,208 = 843,852 (docs/ddsp.md, "Encoder"; tests assert it).
#pragma once

#include <cmath>
#include <vector>

#include "fugue/autodiff/ops/elementwise.hpp"
#include "fugue/autodiff/ops/linalg.hpp"
#include "fugue/autodiff/ops/reduce.hpp"
#include "fugue/core/host_span.hpp"
#include "fugue/dsp/features.hpp"
#include "fugue/nn/gru.hpp"
#include "fugue/nn/linear.hpp"
#include "fugue/nn/module.hpp"
#include "fugue/ops/elementwise.hpp"
#include "fugue/ops/linalg.hpp"
#include "fugue/ops/reduce.hpp"

namespace fugue::models::ddsp {

template <Scalar T, Backend B>
struct NoEncoder {
  static constexpr index_t z_dims = 0;
  explicit NoEncoder(Philox = {}) {}
  template <class F>
  void visit_parameters(F&&, std::string_view = {}) {}
};

template <Scalar T, Backend B, index_t Rnn, index_t ZDims, index_t NMfcc = 30>
class MfccRnnEncoder {
  static_assert(Rnn > 0 && ZDims > 0 && NMfcc > 0);

 public:
  using tensor_type = Tensor<T, B>;
  using var_type = ad::Var<T, B>;
  static constexpr index_t z_dims = ZDims;
  static constexpr index_t mfcc_size = NMfcc;
  static constexpr double sample_rate = 16000;

  explicit MfccRnnEncoder(Philox init = {0xe2c0, 0})
      : gru_(NMfcc, Rnn, Philox{init.seed, init.stream + 10}), dense_(Rnn, ZDims, Philox{init.seed, init.stream + 20}) {
    scale.value = tensor_type::ones({NMfcc});
    shift.value = tensor_type::zeros({NMfcc});
  }

  // MFCC of each row of audio [N, S] -> [N, Tz, NMfcc].
  static tensor_type features(const tensor_type& audio) {
    FUGUE_CHECK(audio.defined() && audio.rank() == 2 && audio.dim(1) >= 1, "MfccRnnEncoder: audio must be [N, S], got ",
                audio.defined() ? audio.shape().str() : std::string("undefined"));
    const HostReadSpan<T, B> a(audio);  // MFCCs are computed on the host on every backend
    const std::size_t n = std::size_t(audio.dim(0)), s = std::size_t(audio.dim(1));
    std::vector<T> out;
    index_t tz = 0;
    for (std::size_t r = 0; r < n; ++r) {
      const auto m = dsp::ddsp_mfcc<T>(std::span<const T>(a.data() + r * s, s), sample_rate, std::size_t(NMfcc));
      tz = index_t(m.rows());
      out.insert(out.end(), m.data(), m.data() + m.rows() * m.cols());
    }
    return tensor_type::from(out, {index_t(n), tz, NMfcc});
  }

  // z [N, frames, ZDims] from the MFCC [N, Tz, NMfcc].
  var_type operator()(ad::Tape<T, B>& tape, const tensor_type& mfcc, index_t frames) {
    check_mfcc(mfcc, frames);
    const var_type x = tape.constant(mfcc.contiguous());
    const var_type mu = ad::mean(x, 1, true);
    const var_type d = ad::sub(x, mu);
    const var_type var = ad::mean(ad::square(d), 1, true);
    const var_type xn = ad::div(d, ad::sqrt(ad::add_scalar(var, T(1e-5))));
    const var_type normed = ad::add(ad::mul(xn, tape.param(scale)), tape.param(shift));
    const var_type z = dense_(tape, gru_(tape, normed).y);                      // [N, Tz, ZDims]
    return ad::matmul(tape.constant(resample_matrix(frames, mfcc.dim(1))), z);  // [N, frames, ZDims]
  }

  // The same z without a tape (inference on a const encoder; equal to operator() up to rounding).
  tensor_type forward(const tensor_type& mfcc, index_t frames) const {
    check_mfcc(mfcc, frames);
    const tensor_type x = mfcc.contiguous();
    const tensor_type d = ops::sub(x, ops::mean(x, 1, true));
    const tensor_type var = ops::mean(ops::square(d), 1, true);
    const tensor_type xn = ops::div(d, ops::sqrt(ops::add_scalar(var, T(1e-5))));
    const tensor_type normed = ops::add(ops::mul(xn, scale.value), shift.value);
    const tensor_type z = dense_.forward(gru_.forward(normed));   // [N, Tz, ZDims]
    return ops::matmul(resample_matrix(frames, mfcc.dim(1)), z);  // [N, frames, ZDims]
  }

  // Linear resampling Tz -> F as an [F, Tz] matrix (TF1 resize, align_corners False).
  static tensor_type resample_matrix(index_t F, index_t tz) {
    std::vector<T> m(std::size_t(F * tz), T(0));
    for (index_t t = 0; t < F; ++t) {
      const double p = double(t) * double(tz) / double(F);
      const index_t i0 = std::min<index_t>(index_t(p), tz - 1);
      const double frac = i0 == tz - 1 ? 0.0 : p - double(i0);
      m[std::size_t(t * tz + i0)] += T(1 - frac);
      if (i0 + 1 < tz) m[std::size_t(t * tz + i0 + 1)] += T(frac);
    }
    return tensor_type::from(m, {F, tz});
  }

  template <class F>
  void visit_parameters(F&& f, std::string_view prefix = {}) {
    f(nn::join_name(prefix, "norm.scale"), scale);
    f(nn::join_name(prefix, "norm.shift"), shift);
    gru_.visit_parameters(f, nn::join_name(prefix, "gru"));
    dense_.visit_parameters(f, nn::join_name(prefix, "dense"));
  }

  ad::Parameter<T, B> scale, shift;

 private:
  static void check_mfcc(const tensor_type& mfcc, index_t frames) {
    FUGUE_CHECK(mfcc.defined() && mfcc.rank() == 3 && mfcc.dim(2) == NMfcc && mfcc.dim(1) >= 1 && frames >= 1,
                "MfccRnnEncoder: MFCC must be [N, Tz, ", NMfcc, "] and frames >= 1, got ",
                mfcc.defined() ? mfcc.shape().str() : std::string("undefined"), " and ", frames);
  }
  nn::GRU<T, B, NMfcc, Rnn> gru_;
  nn::Linear<T, B> dense_;
};

}  // namespace fugue::models::ddsp
