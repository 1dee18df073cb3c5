// fugue/models/music_vae/model_file.hpp — MusicVAE model files that say what they hold
// (io/model_file.hpp).
//
// Contract
//  * card<Model>(config, train): family "music_vae", the config's name, hparams
//    {"model": {latent, input_depth, control_depth, encoder_width, output_depths}, "train":
//    TrainConfig as JSON} and features {"steps": train.steps} (the sequence length the model was
//    trained on).
//  * save(model, path, config, train): the parameters and that card, written atomically.
//  * load(model, path, config): refuses a file of another family, config or model size with a
//    fugue::error naming the difference, then loads every tensor (all or nothing); returns the
//    file's card (its "train" member says how the model was trained).
#pragma once

#include <filesystem>
#include <string>

#include "fugue/io/model_file.hpp"
#include "fugue/models/music_vae/configs.hpp"

namespace fugue::models::music_vae {

inline constexpr const char* kFamily = "music_vae";

inline json::Value to_json(const SamplingSchedule& s) {
  static constexpr const char* names[] = {"none", "inverse_sigmoid", "exponential", "constant"};
  json::Value v = json::Value::object();
  v.set("kind", names[int(s.kind)]);
  v.set("rate", s.rate);
  return v;
}

inline json::Value to_json(const TrainConfig& c) {
  json::Value v = json::Value::object();
  v.set("batch_size", c.batch_size);
  v.set("steps", c.steps);
  v.set("free_bits", c.free_bits);
  v.set("max_beta", c.max_beta);
  v.set("beta_rate", c.beta_rate);
  v.set("sampling", to_json(c.sampling));
  v.set("learning_rate", c.learning_rate);
  v.set("decay_rate", c.decay_rate);
  v.set("min_learning_rate", c.min_learning_rate);
  v.set("grad_clip", c.grad_clip);
  v.set("grad_norm_clip_to_zero", c.grad_norm_clip_to_zero);
  v.set("transpose_min", c.transpose_min);
  v.set("transpose_max", c.transpose_max);
  return v;
}

// The sizes that fix a MusicVAE's tensor shapes, as the card's hparams.model.
template <class Model>
json::Value model_sizes() {
  json::Value m = json::Value::object();
  m.set("latent", Model::latent);
  m.set("input_depth", Model::input_extent);
  m.set("control_depth", Model::control_extent);
  m.set("encoder_width", Model::encoder_type::output_extent);
  json::Value depths = json::Value::array();
  for (index_t d : Model::decoder_type::output_depths) depths.push_back(d);
  m.set("output_depths", std::move(depths));
  return m;
}

template <class Model>
io::ModelCard card(std::string config, const TrainConfig& train = {}) {
  io::ModelCard c;
  c.family = kFamily;
  c.config = std::move(config);
  c.hparams.set("model", model_sizes<Model>());
  c.hparams.set("train", to_json(train));
  c.features.set("steps", train.steps);
  return c;
}

template <class Model>
void save(Model& model, const std::filesystem::path& path, std::string config, const TrainConfig& train = {}) {
  io::save_model(model, card<Model>(std::move(config), train), path);
}

template <class Model>
io::ModelCard load(Model& model, const std::filesystem::path& path, std::string config) {
  return io::load_model(model, path, card<Model>(std::move(config)));
}

}  // namespace fugue::models::music_vae
