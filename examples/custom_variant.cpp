// A custom MusicVAE in a few lines: swap the encoder, change the sizes, pick the backend.
//
// The Magenta configs (fugue/models/music_vae/configs.hpp) are type aliases over the same
// templates; a variant is another alias. Here:
//  * a user-written encoder (a unidirectional LSTM whose final state is the encoding) in place
//    of the bidirectional one: anything with input_extent / output_extent, a taped
//    operator()(tape, x) -> [N, out], a tape-free forward(x) and visit_parameters works;
//  * a hierarchical decoder with 4 bars of 16 steps, a 1-layer 128 conductor and a 3-layer 96
//    core, z of 32;
//  * the portable scalar backend next to the SIMD one, in one binary.
// It trains each variant for a few steps on random melodies, then samples, to show the types
// are complete. A wiring mistake (say, a core whose cond width is not the conductor's) is a
// compile error naming the concept it breaks (music_vae::LatentDecoder, SequenceEncoder:
// fugue/models/music_vae/concepts.hpp).
#include <cstdio>

#include "fugue/models/music_vae.hpp"

using namespace fugue;
namespace mv = fugue::models::music_vae;

// 1. A different encoder, written by the user.
template <Scalar T, Backend B, index_t In, index_t H>
struct ForwardLstmEncoder {
  static constexpr index_t input_extent = In, output_extent = H;
  nn::LSTM<T, B, In, H, 1> lstm;
  explicit ForwardLstmEncoder(Philox init) : lstm(In, H, init) {}
  ad::Var<T, B> operator()(ad::Tape<T, B>& tape, const ad::Var<T, B>& x) { return lstm(tape, x).last_h; }
  Tensor<T, B> forward(const Tensor<T, B>& x) const {
    typename nn::LSTM<T, B, In, H, 1>::State fin;
    lstm.forward(x, nullptr, &fin);
    return fin.h[0];
  }
  template <class F>
  void visit_parameters(F&& f, std::string_view prefix = {}) {
    lstm.visit_parameters(f, nn::join_name(prefix, "lstm"));
  }
};

// 2. Other sizes and a conductor, 3. any backend.
template <Backend B>
using FourBarVae =
    mv::MusicVAE<float, B, ForwardLstmEncoder<float, B, mv::kMelodyDepth, 256>,
                 mv::HierarchicalLstmDecoder<float, B, /*Z*/ 32, /*conductor H*/ 128, /*layers*/ 1, /*bars*/ 4,
                                             mv::CategoricalLstmDecoder<float, B, mv::kMelodyDepth, 128, 96, 3>>,
                 32>;

template <Backend B>
void run(const char* label) {
  FourBarVae<B> model(7);
  mv::TrainConfig hp = mv::configs::cat_mel_2bar_small_hparams();
  hp.sampling = {};  // scheduled sampling is for flat decoders
  mv::Trainer<FourBarVae<B>, float, B> trainer(model, hp, 1);
  std::vector<int32_t> ids(8 * 64);
  for (std::size_t i = 0; i < ids.size(); ++i) ids[i] = i % 8 == 0 ? int32_t(40 + i % 13) : 0;  // a note per half bar
  const auto batch = mv::melody_batch<float, B>(ids, 8, 64);
  mv::StepStats s;
  for (int i = 0; i < 5; ++i) s = trainer.step(batch);
  const auto sample = model.decode(FourBarVae<B>::prior(1, Philox{3, 0}), 64, 0.5, Philox{4, 0});
  std::printf("%-8s %zu parameters, loss after 5 steps %.2f (KL %.2f), sampled %zu steps; first ids:", label,
              model.parameter_count(), s.loss, s.kl, sample[0].size());
  for (int i = 0; i < 8; ++i) std::printf(" %d", sample[0][std::size_t(i)]);
  std::printf("\n");
}

int main() {
  run<cpu::native>(cpu::native::name().data());
  run<cpu::simd<cpu::scalar_arch>>("scalar");
}
