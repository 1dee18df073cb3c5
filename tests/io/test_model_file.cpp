// Self-describing model files (io/model_file.hpp): the card round trip, and every refusal
// naming what differs (family, config, a model size, a tensor), on a small module.
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include "fugue/autodiff/parameter.hpp"
#include "fugue/io/model_file.hpp"
#include "fugue/version.hpp"
#include "../scratch_dir.hpp"

namespace fs = std::filesystem;
using fugue::Tensor;
using namespace fugue::io;

namespace {

struct Scratch : fugue_test::ScratchDir {
  Scratch() : ScratchDir("model_file") {}
};

template <class T>
struct Toy {
  fugue::ad::Parameter<T> weight, bias;
  explicit Toy(fugue::index_t width = 3, double offset = 0) {
    weight.value = Tensor<T>::from(std::vector<T>{T(1 + offset), T(-2), T(0.5), T(4), T(5), T(6)}, {2, 3});
    if (width != 3) weight.value = Tensor<T>::zeros({2, width});
    bias.value = Tensor<T>::from(std::vector<T>{T(0.25), T(-0.75)}, {2});
  }
  template <class F>
  void visit_parameters(F&& f, std::string_view prefix = {}) {
    f(std::string(prefix.empty() ? "" : std::string(prefix) + ".") + "weight", weight);
    f(std::string(prefix.empty() ? "" : std::string(prefix) + ".") + "bias", bias);
  }
};

ModelCard toy_card(std::string config = "toy_small", std::int64_t width = 3) {
  ModelCard c;
  c.family = "toy";
  c.config = std::move(config);
  fugue::json::Value model = fugue::json::Value::object();
  model.set("width", width);
  c.hparams.set("model", model);
  c.hparams.set("learning_rate", 1e-3);
  c.features.set("sample_rate", 16000);
  return c;
}

}  // namespace

TEST_CASE("model file: the card and the tensors round-trip; version and parameter count are recorded",
          "[io][model_file]") {
  Scratch s;
  const fs::path p = s.dir / "toy.safetensors";
  Toy<float> saved(3, 0.5);
  save_model(saved, toy_card(), p);
  const ModelCard c = read_card(p);
  CHECK(c.family == "toy");
  CHECK(c.config == "toy_small");
  CHECK(c.version == std::string(fugue::version()));
  CHECK(c.parameters == 8);
  CHECK(c.hparams == toy_card().hparams);
  CHECK(c.features == toy_card().features);

  Toy<float> loaded(3, 0.0);
  REQUIRE(loaded.weight.value.to_vector() != saved.weight.value.to_vector());
  const ModelCard got = load_model(loaded, p, toy_card());
  CHECK(got.parameters == 8);
  CHECK(loaded.weight.value.to_vector() == saved.weight.value.to_vector());
  CHECK(loaded.bias.value.to_vector() == saved.bias.value.to_vector());

  Toy<double> wide(3, 0.0);  // float32 on disk widens exactly into a float64 model
  load_model(wide, p, toy_card());
  CHECK(wide.weight.value.to_vector()[0] == 1.5);
}

TEST_CASE("model file: another family, config, model size or tensor shape is refused by name", "[io][model_file]") {
  Scratch s;
  const fs::path p = s.dir / "toy.safetensors";
  Toy<float> m;
  save_model(m, toy_card(), p);
  Toy<float> target(3, 2.0);
  const auto before = target.weight.value.to_vector();

  ModelCard other = toy_card();
  other.family = "ddsp";
  CHECK_THROWS_WITH(load_model(target, p, other),
                    Catch::Contains("family: expected 'ddsp', the file holds a 'toy' model"));
  CHECK_THROWS_WITH(load_model(target, p, toy_card("toy_big")),
                    Catch::Contains("config: expected 'toy_big', the file holds 'toy_small'"));
  CHECK_THROWS_WITH(load_model(target, p, toy_card("toy_small", 4)),
                    Catch::Contains("hparams.model.width: expected 4, the file has 3"));
  Toy<float> narrow(4);
  CHECK_THROWS_WITH(load_model(narrow, p, toy_card()), Catch::Contains("tensor 'weight': shape mismatch"));
  CHECK(target.weight.value.to_vector() == before);  // nothing was overwritten by a refused load
}

TEST_CASE("model file: a plain safetensors file or a damaged card is not a model file", "[io][model_file]") {
  Scratch s;
  Toy<float> m;
  const fs::path plain = s.dir / "plain.safetensors";
  save_parameters(m, plain);
  CHECK_THROWS_WITH(read_card(plain), Catch::Contains("not a fugue model file (no fugue.family"));

  const fs::path broken = s.dir / "broken.safetensors";
  save_parameters(m, broken, {{"fugue.family", "toy"}, {"fugue.config", "x"}});
  CHECK_THROWS_WITH(read_card(broken), Catch::Contains("no fugue.hparams"));

  const fs::path bad_json = s.dir / "bad_json.safetensors";
  save_parameters(m, bad_json,
                  {{"fugue.family", "toy"},
                   {"fugue.config", "x"},
                   {"fugue.hparams", "{\"model\": "},
                   {"fugue.features", "{}"},
                   {"fugue.version", "0.1.0"},
                   {"fugue.parameters", "8"}});
  CHECK_THROWS_WITH(read_card(bad_json), Catch::Contains("fugue.hparams") && Catch::Contains("malformed JSON"));

  auto card_with = [&](const char* key, const char* value) {
    SafetensorsWriter::Metadata md{{"fugue.family", "toy"},  {"fugue.config", "x"},      {"fugue.hparams", "{}"},
                                   {"fugue.features", "{}"}, {"fugue.version", "0.1.0"}, {"fugue.parameters", "8"}};
    md[key] = value;
    const fs::path p = s.dir / (std::string(key) + ".safetensors");
    save_parameters(m, p, md);
    return p;
  };
  CHECK_NOTHROW(read_card(card_with("fugue.parameters", "8")));  // the template itself is a valid card
  CHECK_THROWS_WITH(read_card(card_with("fugue.features", "[]")),
                    Catch::Contains("fugue.features is an array, not a JSON object"));
  CHECK_THROWS_WITH(read_card(card_with("fugue.parameters", "eight")),
                    Catch::Contains("fugue.parameters is 'eight', not a parameter count"));
  CHECK_THROWS_WITH(read_card(card_with("fugue.parameters", "-1")), Catch::Contains("not a parameter count"));

  ModelCard nameless = toy_card();
  nameless.config.clear();
  CHECK_THROWS_WITH(save_model(m, nameless, s.dir / "nameless.safetensors"),
                    Catch::Contains("needs a family and a config name"));
  CHECK_FALSE(fs::exists(s.dir / "nameless.safetensors"));
}

TEST_CASE("model file: cards written by the independent Python encoder of the fuzz corpus", "[io][model_file]") {
  const fs::path dir = FUGUE_SAFETENSORS_CORPUS;
  const ModelCard c = read_card(dir / "valid_card_ddsp.safetensors");
  CHECK(c.family == "ddsp");
  CHECK(c.config == "tiny");
  CHECK(c.parameters == 3);
  CHECK(c.features.find("loudness")->as_string() == "rms_power");
  CHECK(c.hparams.find("options")->find("noise_seed")->as_int() == 42);
  CHECK_THROWS_AS(read_card(dir / "valid_card_damaged.safetensors"), fugue::error);
}
