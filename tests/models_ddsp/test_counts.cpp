// DDSP's published configs as named types: parameter counts equal the spec's §4.4 figures (derived
// from the reference code's layer structure, see fugue/models/ddsp/configs.hpp). Each model is
// really built and its parameters enumerated by name, so this checks the composition.
#include <catch2/catch.hpp>

#include <set>

#include "fugue/models/ddsp/configs.hpp"

using namespace fugue;
namespace dd = fugue::models::ddsp;

template <class M>
std::pair<std::size_t, std::size_t> count(M& m) {
  std::set<std::string> names;
  std::size_t decoder = 0, other = 0;
  m.visit_parameters([&](const std::string& name, ad::Parameter<float>& p) {
    INFO(name);
    CHECK(names.insert(name).second);
    (name.rfind("decoder.", 0) == 0 ? decoder : other) += std::size_t(p.value.numel());
  });
  CHECK(index_t(decoder + other) == m.parameter_count());
  return {decoder, other};  // other: the reverb's, or the encoder's
}

TEST_CASE("ddsp: parameter counts of the DDSP configs equal the spec", "[ddsp][counts]") {
  {
    dd::configs::solo_instrument<float> m;
    const auto [d, r] = count(m);
    CHECK(d == 4'801'150);
    CHECK(r == 48'000);
  }
  {
    dd::configs::tiny_instrument<float> m;
    const auto [d, r] = count(m);
    CHECK(d == 232'314);
    CHECK(r == 48'000);
  }
  {
    dd::configs::vst_16k<float> m(dd::configs::vst_16k_options());
    const auto [d, r] = count(m);
    CHECK(d == 1'873'278);
    CHECK(r == 16'000);
  }
}

TEST_CASE("ddsp: the NSynth autoencoder's encoder and decoder counts equal the spec", "[ddsp][counts]") {
  dd::configs::nsynth_ae<float> m;
  const auto [d, e] = count(m);
  CHECK(d == 6'407'334);
  CHECK(e == 843'852);
  CHECK(nn::count_parameters(m.encoder()) == 843'852);
}

TEST_CASE("ddsp: the GRU of the solo decoder has the spec's 2,362,368 parameters", "[ddsp][counts]") {
  dd::configs::solo_instrument<float> m;
  CHECK(nn::count_parameters(m.decoder().gru()) == 2'362'368);
}
