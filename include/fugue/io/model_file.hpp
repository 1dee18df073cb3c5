// fugue/io/model_file.hpp — self-describing model files: safetensors whose metadata says which
// model they hold and how to use it.
//
// Contract
//  * ModelCard: family ("music_vae", "ddsp", ...); config (the named config, e.g.
//    "cat_mel_2bar_small", or the name a user gives a variant); hparams (a JSON object: the full
//    hyperparameters; its member "model", when present, holds the sizes that fix the tensors'
//    shapes); features (a JSON object: what inference needs besides the weights, e.g. sample
//    rate, frame rate, f0 / loudness settings; empty when nothing); version (the fugue version
//    that wrote the file) and parameters (the parameter count), both set by save_model.
//  * The card is the file's "__metadata__": keys fugue.family, fugue.config, fugue.hparams,
//    fugue.features (compact JSON), fugue.version, fugue.parameters (decimal); the tensors are the
//    module's parameters under their visit_parameters names.
//  * save_model(module, card, path, extra_metadata): written atomically (io/atomic_file.hpp):
//    a file that was there survives any failure.
//  * read_card(path) / card_of(file): the card, from the header only. A safetensors file without
//    fugue.family (a trainer checkpoint, a foreign file) is refused: "<path>: not a fugue model
//    file (no fugue.family in its metadata)"; a malformed card value names its key.
//  * load_model(module, path, expected): checks, in order, the family, the config and every
//    member of expected.hparams["model"] against the file's, each mismatch a fugue::error naming
//    what differs ("<path>: config: expected 'vst_16k', the file holds 'tiny_instrument'");
//    then loads the tensors all or nothing (io/safetensors.hpp load_parameters, strict: a
//    missing, extra or misshapen tensor is named). Stored float32 widens into a float64 model.
//    Returns the file's card.
#pragma once

#include <charconv>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "fugue/core/error.hpp"
#include "fugue/io/json.hpp"
#include "fugue/io/safetensors.hpp"
#include "fugue/version.hpp"

namespace fugue::io {

struct ModelCard {
  std::string family;
  std::string config;
  json::Value hparams = json::Value::object();
  json::Value features = json::Value::object();
  std::string version;
  std::int64_t parameters = 0;
};

namespace card_keys {
inline constexpr std::string_view family = "fugue.family";
inline constexpr std::string_view config = "fugue.config";
inline constexpr std::string_view hparams = "fugue.hparams";
inline constexpr std::string_view features = "fugue.features";
inline constexpr std::string_view version = "fugue.version";
inline constexpr std::string_view parameters = "fugue.parameters";
}  // namespace card_keys

inline ModelCard card_of(const SafetensorsFile& file) {
  const auto text = [&](std::string_view key) -> std::string {
    auto v = file.metadata(key);
    FUGUE_CHECK(v.has_value(), file.source(), ": not a complete fugue model file (no ", key, " in its metadata)");
    return *v;
  };
  const auto object = [&](std::string_view key) {
    json::Value v = json::parse(text(key), file.source() + ": " + std::string(key));
    FUGUE_CHECK(v.is_object(), file.source(), ": ", key, " is ", v.kind_name(), ", not a JSON object");
    return v;
  };
  FUGUE_CHECK(file.metadata(card_keys::family).has_value(), file.source(),
              ": not a fugue model file (no fugue.family in its metadata)");
  ModelCard c;
  c.family = text(card_keys::family);
  c.config = text(card_keys::config);
  c.hparams = object(card_keys::hparams);
  c.features = object(card_keys::features);
  c.version = text(card_keys::version);
  const std::string count = text(card_keys::parameters);
  const auto [end, ec] = std::from_chars(count.data(), count.data() + count.size(), c.parameters);
  FUGUE_CHECK(ec == std::errc() && end == count.data() + count.size() && c.parameters >= 0, file.source(), ": ",
              card_keys::parameters, " is '", count, "', not a parameter count");
  return c;
}

inline ModelCard read_card(const std::filesystem::path& path) { return card_of(SafetensorsFile::open(path)); }

template <ParameterVisitable M>
void save_model(M& model, ModelCard card, const std::filesystem::path& path,
                const SafetensorsWriter::Metadata& extra_metadata = {}) {
  FUGUE_CHECK(!card.family.empty() && !card.config.empty(), "save_model(", path.string(),
              "): the card needs a family and a config name");
  FUGUE_CHECK(card.hparams.is_object() && card.features.is_object(), "save_model(", path.string(),
              "): the card's hparams and features must be JSON objects");
  SafetensorsWriter w;
  std::int64_t count = 0;
  model.visit_parameters([&](const std::string& name, auto& p) {
    w.add(name, p.value);
    count += std::int64_t(p.value.numel());
  });
  w.set_metadata(extra_metadata);
  w.set_metadata(std::string(card_keys::family), card.family);
  w.set_metadata(std::string(card_keys::config), card.config);
  w.set_metadata(std::string(card_keys::hparams), json::dump(card.hparams));
  w.set_metadata(std::string(card_keys::features), json::dump(card.features));
  w.set_metadata(std::string(card_keys::version), std::string(fugue::version()));
  w.set_metadata(std::string(card_keys::parameters), std::to_string(count));
  w.save(path);
}

template <ParameterVisitable M>
ModelCard load_model(M& model, const std::filesystem::path& path, const ModelCard& expected) {
  const SafetensorsFile file = SafetensorsFile::open(path);
  ModelCard found = card_of(file);
  FUGUE_CHECK(found.family == expected.family, file.source(), ": family: expected '", expected.family,
              "', the file holds a '", found.family, "' model");
  FUGUE_CHECK(found.config == expected.config, file.source(), ": config: expected '", expected.config,
              "', the file holds '", found.config, "'");
  if (const json::Value* want = expected.hparams.find("model")) {
    const json::Value* have = found.hparams.find("model");
    FUGUE_CHECK(have && have->is_object(), file.source(), ": hparams.model: the file has none");
    for (std::size_t i = 0; i < want->size(); ++i) {
      const json::Value* h = have->find(want->key(i));
      FUGUE_CHECK(h && *h == want->value(i), file.source(), ": hparams.model.", want->key(i), ": expected ",
                  json::dump(want->value(i)), ", the file has ", h ? json::dump(*h) : std::string("none"));
    }
  }
  LoadOptions opt;
  opt.convert = Convert::exact;
  load_parameters(model, file, opt);
  return found;
}

}  // namespace fugue::io
