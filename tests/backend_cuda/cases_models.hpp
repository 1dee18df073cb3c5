// Conformance cases for whole models on every backend: small MusicVAE variants (flat categorical
// decoder with scheduled sampling, chord-conditioned, hierarchical with a conductor over a
// two-track split core) built from the same seed on each backend. Each case compares the loss
// terms, every parameter's gradient, the encoding, sampled tokens (temperature 1 and argmax),
// slerp, and the parameters after two Trainer steps (Adam, clipping) with cpu::native.
#pragma once

#include <fugue/models/music_vae/model.hpp>
#include <fugue/models/music_vae/trainer.hpp>

#include "conformance.hpp"

namespace conformance {

namespace mvae = fugue::models::music_vae;

// A one-hot encoder input [n, steps, depth] and the targets, from Philox ids.
template <class T, class B>
mvae::Batch<T, B> random_music_batch(index_t n, index_t steps, const std::vector<index_t>& depths, index_t in_depth,
                                     index_t ctl, std::uint64_t stream) {
  mvae::Batch<T, B> b;
  const Philox rng{77, stream};
  std::vector<T> x(std::size_t(n * steps * in_depth), T(0));
  for (std::size_t k = 0; k < depths.size(); ++k) {
    std::vector<int> ids(std::size_t(n * steps));
    for (std::size_t i = 0; i < ids.size(); ++i)
      ids[i] = int(rng.uniform<double>(k * ids.size() + i) * double(depths[k]));
    if (k == 0)
      for (std::size_t i = 0; i < ids.size(); ++i) x[i * std::size_t(in_depth) + std::size_t(ids[i] % in_depth)] = T(1);
    b.targets.push_back(ids);
  }
  b.enc_input = Tensor<T, B>::from(x, {n, steps, in_depth});
  if (ctl) b.controls = random_tensor<T, B>({n, steps, ctl}, stream + 1, 0, 1);
  return b;
}

template <class T, class B, class Model>
Arrays<T> music_vae_case(index_t n, index_t steps, const std::vector<index_t>& depths, double sampling_prob,
                         std::uint64_t stream) {
  Model model(0x3a1e + stream);
  const auto batch = random_music_batch<T, B>(n, steps, depths, Model::input_extent - Model::control_extent,
                                              Model::control_extent, stream);
  const auto* ctl = Model::control_extent ? &batch.controls : nullptr;
  ad::Tape<T, B> tape;
  mvae::LossOptions o;
  o.beta = 0.3, o.free_bits = 1, o.sampling_prob = sampling_prob, o.rng = Philox{9, stream};
  auto r = model.loss(tape, batch, o);
  tape.backward(r.loss);
  Arrays<T> out{{r.loss.value().item(), T(r.r_loss), T(r.kl), T(r.kl_cost),
                 T(mvae::teacher_forced_accuracy(r, batch).value()), T(r.substituted)}};
  model.visit_parameters([&](const std::string&, auto& p) { out.push_back(p.grad.to_vector()); });
  const auto mu = model.encode(batch.enc_input, ctl);
  out.push_back(mu.to_vector());
  const auto z = Model::prior(n, Philox{5, stream});
  for (double temperature : {1.0, 0.0}) {
    auto ids = model.decode(z, steps, temperature, Philox{6, stream}, ctl);
    for (auto& track : ids) out.push_back(std::vector<T>(track.begin(), track.end()));
  }
  out.push_back(mvae::slerp(mu, z, 0.3).to_vector());
  mvae::TrainConfig hp;
  hp.sampling = mvae::SamplingSchedule::constant(sampling_prob);
  mvae::Trainer<Model, T, B> trainer(model, hp, stream);
  for (int s = 0; s < 2; ++s) {
    const auto st = trainer.step(batch);
    out.push_back({T(st.loss), T(st.grad_norm)});
  }
  model.visit_parameters([&](const std::string&, auto& p) { out.push_back(p.value.to_vector()); });
  return out;
}

template <class T, class Backends>
void model_cases() {
  const std::string ty = sizeof(T) == 4 ? " f32" : " f64";
  check<T, Backends>(
      "model MusicVAE flat (BiLSTM 16 -> z 8 -> 2-layer LSTM 12), scheduled sampling 0.5" + ty,
      [&]<class B>() {
        using M = mvae::MusicVAE<T, B, mvae::BidirectionalLstmEncoder<T, B, 20, 16>,
                                 mvae::CategoricalLstmDecoder<T, B, 20, 8, 12, 2>, 8>;
        return music_vae_case<T, B, M>(3, 6, {20}, 0.5, 601);
      },
      loose<T>());
  check<T, Backends>(
      "model MusicVAE chord-conditioned (controls 5)" + ty,
      [&]<class B>() {
        using M = mvae::MusicVAE<T, B, mvae::BidirectionalLstmEncoder<T, B, 14 + 5, 10>,
                                 mvae::CategoricalLstmDecoder<T, B, 14, 6, 10, 1, 5>, 6>;
        return music_vae_case<T, B, M>(2, 5, {14}, 0.0, 602);
      },
      loose<T>());
  check<T, Backends>(
      "model MusicVAE hierarchical (conductor 2 x 3 steps) over a 2-track split core" + ty,
      [&]<class B>() {
        using Core = mvae::SplitMultiOutDecoder<mvae::CategoricalLstmDecoder<T, B, 9, 10, 8, 1>,
                                                mvae::CategoricalLstmDecoder<T, B, 7, 10, 8, 1>>;
        using M = mvae::MusicVAE<T, B, mvae::BidirectionalLstmEncoder<T, B, 9, 8, 2>,
                                 mvae::HierarchicalLstmDecoder<T, B, 6, 10, 2, 2, Core>, 6>;
        return music_vae_case<T, B, M>(2, 6, {9, 7}, 0.0, 603);
      },
      loose<T>());
}

}  // namespace conformance
