// fugue inspect MODEL: what a model file holds (family, config, parameters, version, features,
// hyperparameters, and with --tensors every tensor), read from its header only.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>
#include <map>
#include <string>

#include "fugue/io/model_file.hpp"
#include "fugue/version.hpp"

namespace fugue::cli {

struct InspectArgs {
  std::string path;
  bool json = false;
  bool tensors = false;
};

inline std::string thousands(std::int64_t n) {
  std::string s = std::to_string(n);
  for (int i = int(s.size()) - 3; i > (n < 0 ? 1 : 0); i -= 3) s.insert(std::size_t(i), ",");
  return s;
}

inline void run_inspect(const InspectArgs& a) {
  const io::SafetensorsFile file = io::SafetensorsFile::open(a.path);
  if (!file.metadata(io::card_keys::family)) {
    // A training checkpoint is the common mistake: say what it is and where the model file is.
    if (auto step = file.metadata("trainer.step"))
      FUGUE_FAIL(a.path, ": a training checkpoint (step ", *step, "), not a model file: inspect the run's ",
                 "model.safetensors");
  }
  const io::ModelCard card = io::card_of(file);
  std::map<std::string, std::int64_t> dtypes;
  for (const auto& t : file.tensors()) dtypes[std::string(io::dtype_name(t.dtype))] += 1;
  std::string dtype_list;
  for (const auto& [d, n] : dtypes) dtype_list += (dtype_list.empty() ? "" : ", ") + d;
  if (a.json) {
    json::Value v = json::Value::object();
    v.set("file", a.path);
    v.set("family", card.family);
    v.set("config", card.config);
    v.set("parameters", card.parameters);
    v.set("tensors", std::int64_t(file.size()));
    v.set("version", card.version);
    v.set("features", card.features);
    v.set("hparams", card.hparams);
    std::printf("%s\n", json::dump(v).c_str());
    return;
  }
  std::printf("file        %s (%s bytes)\n", a.path.c_str(),
              thousands(std::int64_t(std::filesystem::file_size(a.path))).c_str());
  std::printf("family      %s\n", card.family.c_str());
  std::printf("config      %s\n", card.config.c_str());
  std::printf("parameters  %s in %zu tensors (%s)\n", thousands(card.parameters).c_str(), file.size(),
              dtype_list.c_str());
  std::printf(
      "written by  fugue %s%s\n", card.version.c_str(),
      card.version == fugue::version() ? "" : (" (this is fugue " + std::string(fugue::version()) + ")").c_str());
  std::printf("features    %s\n", json::dump(card.features).c_str());
  std::printf("hparams     %s\n", json::dump(card.hparams).c_str());
  if (a.tensors)
    for (const auto& t : file.tensors())
      std::printf("  %-48s %-4s %s\n", t.name.c_str(), std::string(io::dtype_name(t.dtype)).c_str(),
                  t.shape_str().c_str());
}

inline void add_inspect(CLI::App& app) {
  auto args = std::make_shared<InspectArgs>();
  CLI::App* c = app.add_subcommand("inspect", "Show what a fugue model file holds (read from its header only)");
  c->add_option("model", args->path, "A model file (.safetensors) written by fugue")
      ->required()
      ->check(CLI::ExistingFile);
  c->add_flag("--json", args->json, "Print the model card as one JSON object");
  c->add_flag("--tensors", args->tensors, "Also list every tensor: name, dtype, shape");
  c->callback([args] { run_inspect(*args); });
}

}  // namespace fugue::cli
