// A custom DDSP variant for expect_concept_error.cmake (test concepts_miswired_ddsp). As is it
// is well wired and must compile (the whole model is instantiated); with
//  * -DFUGUE_MISWIRED=1 its reverb has no apply(tape, audio) (the model's audio path calls it):
//    the compile must fail naming ReverbStage;
//  * -DFUGUE_MISWIRED=2 its encoder's z width (3) is not the decoder's (2): the compile must
//    fail naming AudioEncoder.
#include <string_view>
#include <vector>

#include "fugue/backend/cpu.hpp"
#include "fugue/models/ddsp/model.hpp"

namespace dd = fugue::models::ddsp;
using fugue::index_t;
using B = fugue::cpu::native;

#ifndef FUGUE_MISWIRED
#define FUGUE_MISWIRED 0
#endif

// A user-written reverb stage: a dry pass-through (as NoReverb), the reverbs.hpp contract.
template <class T>
struct DryReverb {
  static constexpr index_t length = 0;
  explicit DryReverb(fugue::Philox = {}) {}
#if FUGUE_MISWIRED != 1
  fugue::ad::Var<T, B> apply(fugue::ad::Tape<T, B>&, const fugue::ad::Var<T, B>& audio) { return audio; }
#endif
  fugue::Tensor<T, B> render(const fugue::Tensor<T, B>& audio) const { return audio; }
  std::vector<T> impulse_response() const { return {}; }
  template <class F>
  void visit_parameters(F&&, std::string_view = {}) {}
};

constexpr index_t kHarmonics = 4, kNoiseBands = 6, kZ = 2;
constexpr index_t kEncoderZ = FUGUE_MISWIRED == 2 ? 3 : kZ;

using Decoder = dd::RnnFcDecoder<float, B, 8, 1, 12, 1 + kHarmonics + kNoiseBands, kZ>;
using Encoder = dd::MfccRnnEncoder<float, B, 8, kEncoderZ>;
template class dd::Model<float, B, Decoder, kHarmonics, kNoiseBands, DryReverb<float>, Encoder>;
