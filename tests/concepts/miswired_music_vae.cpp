// A custom MusicVAE variant for expect_concept_error.cmake (test concepts_miswired_music_vae).
// As is it is well wired and must compile (the whole model is instantiated); with
//  * -DFUGUE_MISWIRED=1 its decoder is conditioned on 48 dims while z has 32: the compile must
//    fail naming LatentDecoder (the conditioning-width match is part of that concept);
//  * -DFUGUE_MISWIRED=2 its encoder has no tape-free forward (MusicVAE::encode calls it): the
//    compile must fail naming SequenceEncoder.
#include <string_view>

#include "fugue/backend/cpu.hpp"
#include "fugue/models/music_vae/model.hpp"

namespace mv = fugue::models::music_vae;
using fugue::index_t;
using B = fugue::cpu::native;

#ifndef FUGUE_MISWIRED
#define FUGUE_MISWIRED 0
#endif

// A user-written encoder: a unidirectional LSTM whose final h is the encoding.
template <class T, index_t In, index_t H>
struct ForwardLstmEncoder {
  static constexpr index_t input_extent = In, output_extent = H;
  fugue::nn::LSTM<T, B, In, H> lstm;
  explicit ForwardLstmEncoder(fugue::Philox init) : lstm(In, H, init) {}
  fugue::ad::Var<T, B> operator()(fugue::ad::Tape<T, B>& tape, const fugue::ad::Var<T, B>& x) {
    return lstm(tape, x).last_h;
  }
#if FUGUE_MISWIRED != 2
  fugue::Tensor<T, B> forward(const fugue::Tensor<T, B>& x) const {
    typename fugue::nn::LSTM<T, B, In, H>::State fin;
    lstm.forward(x, nullptr, &fin);
    return fin.h[0];
  }
#endif
  template <class F>
  void visit_parameters(F&& f, std::string_view prefix = {}) {
    lstm.visit_parameters(f, fugue::nn::join_name(prefix, "lstm"));
  }
};

constexpr index_t kZ = 32;
constexpr index_t kDecoderCond = FUGUE_MISWIRED == 1 ? 48 : kZ;

using Encoder = ForwardLstmEncoder<float, 90, 64>;
using Decoder = mv::CategoricalLstmDecoder<float, B, 90, kDecoderCond, 64, 1>;
template class mv::MusicVAE<float, B, Encoder, Decoder, kZ>;
