// fugue/optim/training_checkpoint.hpp — one file holding a model, its optimizer and the trainer's
// counters, as the model trainers (models/*/trainer.hpp) save and resume it.
//
// Contract
//  * save_training_checkpoint(path, model, opt, format, batches, seed): one safetensors file,
//    written atomically (temp file + fsync + rename: an interrupted save keeps the previous
//    file), holding "model.*" (io::add_parameters), "optim.*" (add_state) and the metadata
//    trainer.format, trainer.step (opt.steps()), trainer.batches, trainer.seed.
//  * load_training_checkpoint(path, model, opt, format, kind) restores model and optimizer and
//    returns {batches, seed}. A file without that metadata raises fugue::error "<path>: not a
//    <kind> training checkpoint (no '<key>' metadata)"; another format "<path>: unknown
//    checkpoint format '<format>'"; another model's tensors the error of io::load_parameters,
//    naming the tensor; unparsable counters a fugue::error naming the key.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "fugue/io/safetensors.hpp"
#include "fugue/optim/checkpoint.hpp"

namespace fugue::optim {

struct TrainingCounters {
  std::int64_t batches = 0;
  std::uint64_t seed = 0;
};

template <class Model, Scalar T, Backend B>
void save_training_checkpoint(const std::filesystem::path& path, Model& model, const Optimizer<T, B>& opt,
                              std::string_view format, std::int64_t batches, std::uint64_t seed) {
  io::SafetensorsWriter w;
  io::add_parameters(w, model, "model");
  add_state(w, opt, "optim");
  w.set_metadata("trainer.format", std::string(format));
  w.set_metadata("trainer.step", std::to_string(opt.steps()));
  w.set_metadata("trainer.batches", std::to_string(batches));
  w.set_metadata("trainer.seed", std::to_string(seed));
  w.save(path);
}

template <class Model, Scalar T, Backend B>
TrainingCounters load_training_checkpoint(const std::filesystem::path& path, Model& model, Optimizer<T, B>& opt,
                                          std::string_view format, std::string_view kind) {
  const auto f = io::SafetensorsFile::open(path);
  const auto& md = f.metadata();
  auto get = [&](const char* key) -> std::string {
    auto it = md.find(key);
    FUGUE_CHECK(it != md.end(), path.string(), ": not a ", kind, " training checkpoint (no '", key, "' metadata)");
    return it->second;
  };
  FUGUE_CHECK(get("trainer.format") == format, path.string(), ": unknown checkpoint format '", get("trainer.format"),
              "'");
  io::LoadOptions lo;
  lo.prefix = "model";
  io::load_parameters(model, f, lo);
  load_state(opt, f, "optim");
  TrainingCounters c;
  try {
    c.batches = std::stoll(get("trainer.batches"));
    c.seed = std::stoull(get("trainer.seed"));
  } catch (const std::logic_error&) {  // std::invalid_argument / std::out_of_range
    FUGUE_FAIL(path.string(), ": trainer.batches / trainer.seed metadata is not a number");
  }
  return c;
}

}  // namespace fugue::optim
