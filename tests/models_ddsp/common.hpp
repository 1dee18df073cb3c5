// Shared helpers of the DDSP model tests: small compositions of the same templates the published
// configs use, deterministic parameter perturbation and feature tracks.
#pragma once

#include <cmath>
#include <vector>

#include "fugue/models/ddsp.hpp"

namespace ddsp_test {

using namespace fugue;
namespace dd = fugue::models::ddsp;
using B = cpu::native;

// 1 + 4 harmonics + 6 noise bands (IR 10 taps) = 11 controls.
template <class T>
using Tiny = dd::Model<T, B, dd::RnnFcDecoder<T, B, 4, 1, 3, 11>, 4, 6, dd::TrainableReverb<T, B, 8>>;
template <class T>
using TinyNoiseReverb = dd::Model<T, B, dd::RnnFcDecoder<T, B, 4, 1, 3, 11>, 4, 6, dd::NoiseReverb<T, B, 32, 4, 5>>;
// The autoencoder shape: MFCC (5 coefficients) -> GRU 3 -> z 2 -> decoder with a z stack.
template <class T>
using TinyAe = dd::Model<T, B, dd::RnnFcDecoder<T, B, 4, 1, 3, 11, 2>, 4, 6, dd::NoReverb<T, B>,
                         dd::MfccRnnEncoder<T, B, 3, 2, 5>>;
// Big enough to exercise the Nyquist mask and the partitioned reverb (5 partitions of 64).
template <class T>
using Small = dd::Model<T, B, dd::RnnFcDecoder<T, B, 16, 1, 24, 28>, 10, 17, dd::TrainableReverb<T, B, 300>>;
template <class T>
using SmallVst = dd::Model<T, B, dd::RnnFcDecoder<T, B, 16, 2, 24, 28>, 10, 17, dd::NoiseReverb<T, B, 1000, 20, 8>>;

// Adds seeded noise of the given scale to every parameter (reverb IRs included), so the model's
// output is far from its near-silent initialisation.
template <class M>
void perturb(M& m, std::uint64_t seed, double scale = 0.5) {
  std::uint64_t k = 0;
  m.visit_parameters([&](const std::string&, auto& p) {
    using T = std::remove_reference_t<decltype(*p.value.data())>;
    const Philox r{seed, k++};
    for (index_t i = 0; i < p.value.numel(); ++i)
      p.value.data()[i] += T(scale * (2 * r.uniform<double>(std::uint64_t(i)) - 1));
  });
}

// f0 sweeping lo -> hi Hz (log), loudness oscillating between -50 and -10 dB, [1, F] each.
template <class T>
std::pair<Tensor<T, B>, Tensor<T, B>> features(index_t F, double lo = 150, double hi = 2500) {
  std::vector<T> f(static_cast<std::size_t>(F)), l(static_cast<std::size_t>(F));
  for (index_t t = 0; t < F; ++t) {
    const double u = F > 1 ? double(t) / double(F - 1) : 0.0;
    f[std::size_t(t)] = T(lo * std::pow(hi / lo, u));
    l[std::size_t(t)] = T(-30 + 20 * std::sin(0.37 * double(t)));
  }
  return {Tensor<T, B>::from(f, {1, F}), Tensor<T, B>::from(l, {1, F})};
}

}  // namespace ddsp_test
