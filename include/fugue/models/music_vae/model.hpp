// fugue/models/music_vae/model.hpp — MusicVAE: encoder -> Gaussian posterior -> decoder.
//
// Contract
//  * MusicVAE<T, B, Encoder, Decoder, Z>: Encoder maps the input sequence [N, S, In] to
//    [N, Encoder::output_extent]; mu = Dense(enc), sigma = softplus(Dense(enc)) (kernels
//    N(0, 0.001)); z = mu + sigma * eps in training; Decoder is conditioned on z. Parameters:
//    "encoder.*", "mu.*", "sigma.*", "decoder.*"; parameter_count() sums them. The class
//    requires SequenceEncoder<Encoder, T, B> and LatentDecoder<Decoder, T, B, Z> (concepts.hpp).
//  * loss(tape, batch, options): MusicVAE's objective on one batch (docs/music_vae.md, "Loss"):
//      r_loss[n] = sum over steps and outputs of softmax cross-entropy (nats);
//      kl[n] = KL(N(mu, sigma^2) || N(0, I)) summed over z;
//      kl_cost[n] = max(kl[n] - free_bits ln 2, 0);
//      loss = mean_n(r_loss) + beta * mean_n(kl_cost).
//    eps and scheduled-sampling draws come from options.rng (Philox streams rng.stream and
//    rng.stream + 1), so a step is a pure function of (parameters, batch, options).
//    The result also holds the decoder's logits per output and the per-batch means of r_loss,
//    kl and the sampling substitutions. No metric is computed here: teacher_forced_accuracy
//    (result, batch) counts argmax == target over all steps and outputs when the caller wants it.
//  * encode(x) -> mu [N, Z] (no tape); decode(z, steps, temperature, rng) -> ids per output
//    [N * steps]; slerp(p0, p1, t) as Magenta's interpolate (linear when the angle is ~0).
//    encode and decode are const and keep their state (recurrent h / c and step scratch) in the
//    call: one model may serve many threads at once (tests/models_music_vae, "concurrent").
//  * Batch: enc_input [N, S, In]; targets[k] ids [N * S] in [0, depth_k); controls
//    [N, S, Ctl] (only when the decoder takes them: they are also appended to the encoder input).
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fugue/autodiff/ops/elementwise.hpp"
#include "fugue/autodiff/ops/loss.hpp"
#include "fugue/autodiff/ops/reduce.hpp"
#include "fugue/autodiff/ops/shape.hpp"
#include "fugue/core/host_span.hpp"
#include "fugue/models/music_vae/concepts.hpp"
#include "fugue/models/music_vae/decoders.hpp"
#include "fugue/models/music_vae/layers.hpp"
#include "fugue/models/music_vae/schedules.hpp"
#include "fugue/nn/module.hpp"
#include "fugue/ops/concat.hpp"
#include "fugue/train/metrics.hpp"

namespace fugue::models::music_vae {

template <Scalar T, Backend B>
struct Batch {
  Tensor<T, B> enc_input;                 // [N, S, In]
  std::vector<std::vector<int>> targets;  // per output: ids [N * S]
  Tensor<T, B> controls;                  // [N, S, Ctl] or undefined
  index_t size() const { return enc_input.dim(0); }
  index_t steps() const { return enc_input.dim(1); }
};

struct LossOptions {
  double beta = 0;           // KL weight (kl_beta(step, ...))
  double free_bits = 0;      // in bits
  double sampling_prob = 0;  // scheduled sampling probability (SamplingSchedule(step))
  Philox rng{0x5a5a, 0};
  bool sample_z = true;  // false: z = mu (evaluation)
};

template <Scalar T, Backend B>
struct LossResult {
  ad::Var<T, B> loss;
  double r_loss = 0, kl = 0, kl_cost = 0;  // batch means (nats)
  std::vector<ad::Var<T, B>> logits;       // per decoder output: [N * S, depth_k]
  index_t substituted = 0;                 // scheduled-sampling substitutions
};

// Teacher-forced next-step accuracy of a loss result on its batch (argmax == target, all
// steps and outputs): a host pass over the logits, for evaluation and progress reports.
template <Scalar T, Backend B>
train::Accuracy teacher_forced_accuracy(const LossResult<T, B>& r, const Batch<T, B>& b) {
  FUGUE_CHECK(r.logits.size() == b.targets.size(), "teacher_forced_accuracy: ", r.logits.size(),
              " decoder outputs for ", b.targets.size(), " target tracks");
  train::Accuracy a;
  for (std::size_t k = 0; k < r.logits.size(); ++k)
    a.add(train::argmax_hits(r.logits[k].value(), std::span<const int>(b.targets[k])),
          std::int64_t(b.targets[k].size()));
  return a;
}

// One-hot of the previous token at every step: row t holds targets[t - 1], row 0 is zero.
template <Scalar T, Backend B>
Tensor<T, B> shifted_one_hot(const std::vector<int>& ids, index_t n, index_t steps, index_t depth) {
  FUGUE_CHECK(index_t(ids.size()) == n * steps, "targets hold ", ids.size(), " ids, expected ", n, " x ", steps);
  auto t = Tensor<T, B>::zeros({n, steps, depth});
  HostSpan<T, B> ts(t);
  for (index_t r = 0; r < n; ++r)
    for (index_t s = 1; s < steps; ++s) {
      const int id = ids[std::size_t(r * steps + s - 1)];
      FUGUE_CHECK(id >= 0 && id < depth, "target id ", id, " at sequence ", r, " step ", s - 1, " outside [0, ", depth,
                  ")");
      ts[(r * steps + s) * depth + id] = T(1);
    }
  ts.commit();
  return t;
}

// Encoder and Decoder are checked against the plug-point concepts (concepts.hpp): a decoder
// not conditioned on z (cond_extent != Z) or an encoder without the calls the model makes is a
// compile error naming LatentDecoder / SequenceEncoder.
template <Scalar T, Backend B, class Encoder, class Decoder, index_t Z>
  requires SequenceEncoder<Encoder, T, B> && LatentDecoder<Decoder, T, B, Z>
class MusicVAE {
 public:
  static constexpr index_t latent = Z;
  static constexpr index_t control_extent = Decoder::control_extent;
  static constexpr index_t input_extent = Encoder::input_extent;
  using encoder_type = Encoder;
  using decoder_type = Decoder;
  using tensor_type = Tensor<T, B>;
  using var_type = ad::Var<T, B>;

  explicit MusicVAE(std::uint64_t seed = 0x3a1e)
      : encoder(Philox{seed, 0}),
        mu(Philox{seed, 1 << 20}),
        sigma(Philox{seed, 2 << 20}),
        decoder(Philox{seed, 3 << 20}) {}

  LossResult<T, B> loss(ad::Tape<T, B>& tape, const Batch<T, B>& b, const LossOptions& o) {
    const index_t n = b.size(), steps = b.steps();
    check_batch(b);
    const tensor_type* ctl = control_extent ? &b.controls : nullptr;
    auto enc_in = tape.constant(b.enc_input);
    if (ctl) enc_in = ad::concat(std::vector<var_type>{enc_in, tape.constant(*ctl)}, -1);
    auto h = encoder(tape, enc_in);
    auto m = mu(tape, h);
    auto s = ad::softplus(sigma(tape, h));
    var_type z = m;
    if (o.sample_z) z = ad::add(m, ad::mul(s, tape.constant(tensor_type::normal({n, Z}, o.rng))));
    std::vector<tensor_type> prevs;
    LossResult<T, B> r;
    for (std::size_t k = 0; k < Decoder::num_outputs; ++k)
      prevs.push_back(shifted_one_hot<T, B>(b.targets[k], n, steps, Decoder::output_depths[k]));
    if constexpr (requires { decoder.scheduled_inputs(z.value(), prevs[0], 0.0, o.rng, ctl); }) {
      if (o.sampling_prob > 0) {
        auto [mod, count] =
            decoder.scheduled_inputs(z.value(), prevs[0], o.sampling_prob, Philox{o.rng.seed, o.rng.stream + 1}, ctl);
        prevs[0] = std::move(mod);
        r.substituted = count;
      }
    } else {
      FUGUE_CHECK(o.sampling_prob <= 0, "scheduled sampling is implemented for flat categorical decoders only");
    }
    auto logits = decoder.logits(tape, z, prevs, ctl);
    var_type rsum;
    for (std::size_t k = 0; k < logits.size(); ++k) {
      auto ce = ad::softmax_cross_entropy(logits[k], std::span<const int>(b.targets[k]), ad::Reduction::sum);
      rsum = k == 0 ? ce : ad::add(rsum, ce);
    }
    auto r_mean = ad::scale(rsum, T(1) / T(n));
    auto kl = ad::gaussian_kl(m, s);  // [N]
    auto cost = ad::relu(ad::add_scalar(kl, -T(free_bits_nats(o.free_bits))));
    auto kl_mean = ad::mean(cost);
    r.loss = ad::add(r_mean, ad::scale(kl_mean, T(o.beta)));
    r.r_loss = double(r_mean.value().item());
    r.kl = double(ops::mean(kl.value()).item());
    r.kl_cost = double(kl_mean.value().item());
    r.logits = std::move(logits);
    return r;
  }

  tensor_type encode(const tensor_type& x, const tensor_type* controls = nullptr) const {
    FUGUE_CHECK(x.rank() == 3 && x.dim(2) == input_extent - control_extent, "MusicVAE::encode: input ", x.shape().str(),
                ", expected [N, steps, ", input_extent - control_extent, "]");
    if (control_extent) {
      FUGUE_CHECK(controls && controls->rank() == 3 && controls->dim(2) == control_extent,
                  "MusicVAE::encode: controls [N, steps, ", control_extent, "] required");
      return mu.forward(encoder.forward(ops::concat_last(x, *controls)));
    }
    return mu.forward(encoder.forward(x));
  }

  std::vector<std::vector<int>> decode(const tensor_type& z, index_t steps, double temperature, Philox rng,
                                       const tensor_type* controls = nullptr) const {
    FUGUE_CHECK(z.rank() == 2 && z.dim(1) == Z, "MusicVAE::decode: z ", z.shape().str(), ", expected [N, ", Z, "]");
    return decoder.sample(z, steps, {}, temperature, rng, controls);
  }

  // z ~ N(0, I) for n sequences.
  static tensor_type prior(index_t n, Philox rng) { return tensor_type::normal({n, Z}, rng); }

  template <class F>
  void visit_parameters(F&& f, std::string_view prefix = {}) {
    encoder.visit_parameters(f, nn::join_name(prefix, "encoder"));
    mu.visit_parameters(f, nn::join_name(prefix, "mu"));
    sigma.visit_parameters(f, nn::join_name(prefix, "sigma"));
    decoder.visit_parameters(f, nn::join_name(prefix, "decoder"));
  }
  std::size_t parameter_count() {
    std::size_t c = 0;
    visit_parameters([&](const std::string&, ad::Parameter<T, B>& p) { c += std::size_t(p.value.numel()); });
    return c;
  }

  Encoder encoder;
  DenseTF<T, B, Encoder::output_extent, Z> mu, sigma;
  Decoder decoder;

 private:
  void check_batch(const Batch<T, B>& b) const {
    FUGUE_CHECK(b.enc_input.rank() == 3 && b.enc_input.dim(2) == input_extent - control_extent,
                "MusicVAE: encoder input ", b.enc_input.shape().str(), ", expected [N, steps, ",
                input_extent - control_extent, "]");
    FUGUE_CHECK(b.targets.size() == Decoder::num_outputs, "MusicVAE: ", b.targets.size(), " target tracks for ",
                Decoder::num_outputs, " decoder outputs");
    if (control_extent)
      FUGUE_CHECK(b.controls.rank() == 3 && b.controls.dim(0) == b.size() && b.controls.dim(1) == b.steps() &&
                      b.controls.dim(2) == control_extent,
                  "MusicVAE: controls ", b.controls.shape().str(), ", expected [", b.size(), ", ", b.steps(), ", ",
                  control_extent, "]");
  }
};

// Spherical interpolation between two latent codes (Magenta's trained_model.interpolate).
template <Scalar T, Backend B>
Tensor<T, B> slerp(const Tensor<T, B>& p0, const Tensor<T, B>& p1, double t) {
  FUGUE_CHECK(p0.shape() == p1.shape(), "slerp: shapes ", p0.shape().str(), " and ", p1.shape().str());
  const auto a = p0.contiguous(), b = p1.contiguous();
  const index_t n = a.numel();
  const HostReadSpan<T, B> as(a), bs(b);
  double na = 0, nb = 0, dot = 0;
  for (index_t i = 0; i < n; ++i) {
    na += double(as[i]) * as[i];
    nb += double(bs[i]) * bs[i];
    dot += double(as[i]) * bs[i];
  }
  const double c = std::clamp(dot / std::sqrt(na * nb), -1.0, 1.0), omega = std::acos(c), so = std::sin(omega);
  const double wa = so < 1e-9 ? 1 - t : std::sin((1 - t) * omega) / so, wb = so < 1e-9 ? t : std::sin(t * omega) / so;
  auto out = Tensor<T, B>::empty(a.shape());
  HostSpan<T, B> os(out, false);
  for (index_t i = 0; i < n; ++i) os[i] = T(wa * as[i] + wb * bs[i]);
  os.commit();
  return out;
}

}  // namespace fugue::models::music_vae
