// fugue/models/music_vae/configs.hpp — Magenta's MusicVAE configurations as named types
// (docs/music_vae.md, "Configs"), each with its training hyper-parameters.
//
// Contract: configs::<name><T, B> is a MusicVAE type; <name>_hparams() returns the matching
// TrainConfig. Parameter counts (tests/models_music_vae assert them; docs/music_vae.md, "Parameter counts"):
//   cat_mel_2bar_small 4,423,770      cat_mel_2bar_big 134,571,098
//   cat_mel_2bar_med_chords 17,478,234 cat_drums_2bar_small 4,636,672
//   cat_drums_2bar_big 137,582,080     flat_mel_16bar 235,250,778
//   hierdec_mel_16bar 176,061,530      hierdec_trio_16bar 230,975,156
// A custom variant is the same few lines with other sizes (examples/custom_variant.cpp).
#pragma once

#include <cstdint>

#include "fugue/models/music_vae/model.hpp"
#include "fugue/models/music_vae/schedules.hpp"

namespace fugue::models::music_vae {

// Training hyper-parameters of one config (docs/music_vae.md, "Configs": the table and the shared defaults).
struct TrainConfig {
  index_t batch_size = 512;
  index_t steps = 32;    // max_seq_len
  double free_bits = 0;  // bits
  double max_beta = 1.0;
  double beta_rate = 0.0;
  SamplingSchedule sampling{};
  double learning_rate = 1e-3, decay_rate = 0.9999, min_learning_rate = 1e-5;
  double grad_clip = 1.0, grad_norm_clip_to_zero = 10000;
  int transpose_min = 0, transpose_max = 0;  // augmentation
};

inline constexpr index_t kMelodyDepth = 90;
inline constexpr index_t kDrumOutputDepth = 512;
inline constexpr index_t kDrumRollDepth = 10;
inline constexpr index_t kChordDepth = 49;

namespace configs {

template <Scalar T, Backend B = cpu::native>
using cat_mel_2bar_small = MusicVAE<T, B, BidirectionalLstmEncoder<T, B, kMelodyDepth, 512>,
                                    CategoricalLstmDecoder<T, B, kMelodyDepth, 256, 256, 2>, 256>;
inline TrainConfig cat_mel_2bar_small_hparams() {
  TrainConfig c;
  c.max_beta = 0.2;
  c.beta_rate = 0.99999;
  c.sampling = SamplingSchedule::inverse_sigmoid(1000);
  c.transpose_min = -5;
  c.transpose_max = 5;
  return c;
}

template <Scalar T, Backend B = cpu::native>
using cat_mel_2bar_big = MusicVAE<T, B, BidirectionalLstmEncoder<T, B, kMelodyDepth, 2048>,
                                  CategoricalLstmDecoder<T, B, kMelodyDepth, 512, 2048, 3>, 512>;
inline TrainConfig cat_mel_2bar_big_hparams() {
  TrainConfig c = cat_mel_2bar_small_hparams();
  c.max_beta = 0.5;
  return c;
}

// Chords are per-step controls, appended to the encoder input (90 + 49) and the decoder input.
template <Scalar T, Backend B = cpu::native>
using cat_mel_2bar_med_chords = MusicVAE<T, B, BidirectionalLstmEncoder<T, B, kMelodyDepth + kChordDepth, 1024>,
                                         CategoricalLstmDecoder<T, B, kMelodyDepth, 256, 512, 3, kChordDepth>, 256>;
inline TrainConfig cat_mel_2bar_med_chords_hparams() {
  TrainConfig c;
  c.transpose_min = -3;
  c.transpose_max = 3;
  return c;
}

template <Scalar T, Backend B = cpu::native>
using cat_drums_2bar_small = MusicVAE<T, B, BidirectionalLstmEncoder<T, B, kDrumRollDepth, 512>,
                                      CategoricalLstmDecoder<T, B, kDrumOutputDepth, 256, 256, 2>, 256>;
inline TrainConfig cat_drums_2bar_small_hparams() {
  TrainConfig c;
  c.free_bits = 48;
  c.max_beta = 0.2;
  c.sampling = SamplingSchedule::inverse_sigmoid(1000);
  return c;
}

template <Scalar T, Backend B = cpu::native>
using cat_drums_2bar_big = MusicVAE<T, B, BidirectionalLstmEncoder<T, B, kDrumRollDepth, 2048>,
                                    CategoricalLstmDecoder<T, B, kDrumOutputDepth, 512, 2048, 3>, 512>;
inline TrainConfig cat_drums_2bar_big_hparams() { return cat_drums_2bar_small_hparams(); }

template <Scalar T, Backend B = cpu::native>
using flat_mel_16bar = MusicVAE<T, B, BidirectionalLstmEncoder<T, B, kMelodyDepth, 2048, 2>,
                                CategoricalLstmDecoder<T, B, kMelodyDepth, 512, 2048, 3>, 512>;
inline TrainConfig flat_mel_16bar_hparams() {
  TrainConfig c;
  c.steps = 256;
  c.free_bits = 256;
  c.max_beta = 0.2;
  return c;
}

template <Scalar T, Backend B = cpu::native>
using hierdec_mel_16bar =
    MusicVAE<T, B, BidirectionalLstmEncoder<T, B, kMelodyDepth, 2048, 2>,
             HierarchicalLstmDecoder<T, B, 512, 1024, 2, 16, CategoricalLstmDecoder<T, B, kMelodyDepth, 1024, 1024, 2>>,
             512>;
inline TrainConfig hierdec_mel_16bar_hparams() { return flat_mel_16bar_hparams(); }

template <Scalar T, Backend B = cpu::native>
using hierdec_trio_16bar = MusicVAE<
    T, B, BidirectionalLstmEncoder<T, B, 2 * kMelodyDepth + kDrumOutputDepth, 2048, 2>,
    HierarchicalLstmDecoder<T, B, 512, 1024, 2, 16,
                            SplitMultiOutDecoder<CategoricalLstmDecoder<T, B, kMelodyDepth, 1024, 1024, 2>,
                                                 CategoricalLstmDecoder<T, B, kMelodyDepth, 1024, 1024, 2>,
                                                 CategoricalLstmDecoder<T, B, kDrumOutputDepth, 1024, 1024, 2>>>,
    512>;
inline TrainConfig hierdec_trio_16bar_hparams() {
  TrainConfig c = flat_mel_16bar_hparams();
  c.batch_size = 256;
  return c;
}

}  // namespace configs
}  // namespace fugue::models::music_vae
