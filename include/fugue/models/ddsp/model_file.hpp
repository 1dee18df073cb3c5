// fugue/models/ddsp/model_file.hpp — DDSP model files that say what they hold and how to feed
// them (io/model_file.hpp).
//
// Contract
//  * card<Model>(config, options, features): family "ddsp", the config's name, hparams
//    {"model": {harmonics, noise_bands, z_dims, reverb_length, controls}, "options":
//    ModelOptions} and features: the FeatureOptions the model was trained on (sample_rate,
//    frame_rate, fmin, fmax, yin_threshold, min_confidence, fallback_f0_hz, loudness
//    "a_weighted" | "rms_power"), so inference computes the same f0 and loudness without options
//    copied by hand.
//  * save(model, path, config, features) (the model's own options go in hparams.options);
//    load(model, path, config) refuses another family, config or size naming the difference,
//    loads the tensors all or nothing and returns the file's card.
//  * feature_options(card) / model_options(card): the options back from a card; a missing or
//    mistyped member is a fugue::error naming it.
#pragma once

#include <filesystem>
#include <string>

#include "fugue/io/model_file.hpp"
#include "fugue/models/ddsp/features.hpp"
#include "fugue/models/ddsp/model.hpp"

namespace fugue::models::ddsp {

inline constexpr const char* kFamily = "ddsp";

inline json::Value to_json(const ModelOptions& o) {
  json::Value v = json::Value::object();
  v.set("sample_rate", o.sample_rate);
  v.set("frame_rate", o.frame_rate);
  v.set("amp_resample", o.amp_resample == dsp::AmpResample::window ? "window" : "linear");
  v.set("noise_seed", o.noise_seed);
  return v;
}

inline json::Value to_json(const FeatureOptions& o) {
  json::Value v = json::Value::object();
  v.set("sample_rate", o.sample_rate);
  v.set("frame_rate", o.frame_rate);
  v.set("f0", "yin");
  v.set("fmin", o.fmin);
  v.set("fmax", o.fmax);
  v.set("yin_threshold", o.yin_threshold);
  v.set("min_confidence", o.min_confidence);
  v.set("fallback_f0_hz", o.fallback_f0_hz);
  v.set("loudness", o.loudness == LoudnessKind::a_weighted ? "a_weighted" : "rms_power");
  return v;
}

namespace detail {
inline const json::Value& member(const json::Value& obj, std::string_view where, std::string_view key) {
  const json::Value* v = obj.is_object() ? obj.find(key) : nullptr;
  FUGUE_CHECK(v, "ddsp model card: ", where, ".", key, " is missing");
  return *v;
}
inline double number(const json::Value& obj, std::string_view where, std::string_view key) {
  const json::Value& v = member(obj, where, key);
  FUGUE_CHECK(v.is_number(), "ddsp model card: ", where, ".", key, " is ", v.kind_name(), ", not a number");
  return v.as_double();
}
inline std::string choice(const json::Value& obj, std::string_view where, std::string_view key, std::string_view a,
                          std::string_view b) {
  const json::Value& v = member(obj, where, key);
  FUGUE_CHECK(v.is_string() && (v.as_string() == a || v.as_string() == b), "ddsp model card: ", where, ".", key,
              " must be \"", a, "\" or \"", b, "\", got ", json::dump(v));
  return v.as_string();
}
}  // namespace detail

inline FeatureOptions feature_options(const io::ModelCard& c) {
  FeatureOptions o;
  o.sample_rate = detail::number(c.features, "features", "sample_rate");
  o.frame_rate = detail::number(c.features, "features", "frame_rate");
  o.fmin = detail::number(c.features, "features", "fmin");
  o.fmax = detail::number(c.features, "features", "fmax");
  o.yin_threshold = detail::number(c.features, "features", "yin_threshold");
  o.min_confidence = detail::number(c.features, "features", "min_confidence");
  o.fallback_f0_hz = detail::number(c.features, "features", "fallback_f0_hz");
  o.loudness = detail::choice(c.features, "features", "loudness", "a_weighted", "rms_power") == "a_weighted"
                   ? LoudnessKind::a_weighted
                   : LoudnessKind::rms_power;
  return o;
}

inline ModelOptions model_options(const io::ModelCard& c) {
  const json::Value& o = detail::member(c.hparams, "hparams", "options");
  ModelOptions m;
  m.sample_rate = detail::number(o, "hparams.options", "sample_rate");
  m.frame_rate = detail::number(o, "hparams.options", "frame_rate");
  m.amp_resample = detail::choice(o, "hparams.options", "amp_resample", "window", "linear") == "window"
                       ? dsp::AmpResample::window
                       : dsp::AmpResample::linear;
  const json::Value& seed = detail::member(o, "hparams.options", "noise_seed");
  FUGUE_CHECK(seed.is_integer() && seed.as_int() >= 0, "ddsp model card: hparams.options.noise_seed is ",
              json::dump(seed), ", not a non-negative integer");
  m.noise_seed = std::uint64_t(seed.as_int());
  m.hop();  // checks that the rates give a whole hop
  return m;
}

// The sizes that fix a DDSP model's tensor shapes, as the card's hparams.model.
template <class Model>
json::Value model_sizes() {
  json::Value m = json::Value::object();
  m.set("harmonics", Model::harmonics);
  m.set("noise_bands", Model::noise_bands);
  m.set("z_dims", Model::decoder_type::z_dims);
  m.set("reverb_length", Model::reverb_type::length);
  m.set("controls", Model::decoder_type::output_size);
  return m;
}

template <class Model>
io::ModelCard card(std::string config, const ModelOptions& options = {}, const FeatureOptions& features = {}) {
  io::ModelCard c;
  c.family = kFamily;
  c.config = std::move(config);
  c.hparams.set("model", model_sizes<Model>());
  c.hparams.set("options", to_json(options));
  c.features = to_json(features);
  return c;
}

template <class Model>
void save(Model& model, const std::filesystem::path& path, std::string config, const FeatureOptions& features) {
  io::save_model(model, card<Model>(std::move(config), model.options(), features), path);
}

template <class Model>
io::ModelCard load(Model& model, const std::filesystem::path& path, std::string config) {
  return io::load_model(model, path, card<Model>(std::move(config), model.options()));
}

}  // namespace fugue::models::ddsp
