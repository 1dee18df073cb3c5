// The eight Magenta configs as named types: their parameter counts equal the spec's §7 figures,
// which the spec derived from the reference code's layer structure (LSTM (in + H) 4H + 4H per
// layer and direction; mu/sigma Dense; state initialiser Dense to 2 sum(H); output Dense).
// Each model is really built and its parameters enumerated by name, so this checks the
// composition, not a formula.
#include <catch2/catch.hpp>

#include <set>

#include "fugue/models/music_vae.hpp"

using namespace fugue;
namespace mv = fugue::models::music_vae;

template <class M>
std::size_t count_and_check_names() {
  M m;
  std::set<std::string> names;
  std::size_t n = 0;
  m.visit_parameters([&](const std::string& name, ad::Parameter<float>& p) {
    INFO(name);
    CHECK(names.insert(name).second);  // hierarchical names are unique
    n += std::size_t(p.value.numel());
  });
  CHECK(n == m.parameter_count());
  return n;
}

TEST_CASE("music_vae: parameter counts of the Magenta configs equal the spec", "[music_vae][counts]") {
  CHECK(count_and_check_names<mv::configs::cat_mel_2bar_small<float>>() == 4'423'770);
  CHECK(count_and_check_names<mv::configs::cat_mel_2bar_big<float>>() == 134'571'098);
  CHECK(count_and_check_names<mv::configs::cat_mel_2bar_med_chords<float>>() == 17'478'234);
  CHECK(count_and_check_names<mv::configs::cat_drums_2bar_small<float>>() == 4'636'672);
  CHECK(count_and_check_names<mv::configs::cat_drums_2bar_big<float>>() == 137'582'080);
  CHECK(count_and_check_names<mv::configs::flat_mel_16bar<float>>() == 235'250'778);
  CHECK(count_and_check_names<mv::configs::hierdec_mel_16bar<float>>() == 176'061'530);
  CHECK(count_and_check_names<mv::configs::hierdec_trio_16bar<float>>() == 230'975'156);
}

TEST_CASE("music_vae: parameter names follow the module tree", "[music_vae][counts]") {
  mv::configs::cat_mel_2bar_small<float> m;
  std::vector<std::string> names;
  m.visit_parameters([&](const std::string& name, ad::Parameter<float>&) { names.push_back(name); });
  const std::vector<std::string> expected{"encoder.lstm.0.fw.kernel",
                                          "encoder.lstm.0.fw.bias",
                                          "encoder.lstm.0.bw.kernel",
                                          "encoder.lstm.0.bw.bias",
                                          "mu.weight",
                                          "mu.bias",
                                          "sigma.weight",
                                          "sigma.bias",
                                          "decoder.init.weight",
                                          "decoder.init.bias",
                                          "decoder.lstm.0.kernel",
                                          "decoder.lstm.0.bias",
                                          "decoder.lstm.1.kernel",
                                          "decoder.lstm.1.bias",
                                          "decoder.output.weight",
                                          "decoder.output.bias"};
  CHECK(names == expected);
}
