// fugue/optim/checkpoint.hpp — optimizer state in safetensors files.
//
// Contract:
//  * save_state(opt, path) writes opt.state_dict() (tensors + metadata) atomically.
//    load_state(opt, path) restores it (all checks of Optimizer::load_state_dict apply;
//    the file's dtype must be T's).
//  * add_state(writer, opt, prefix) / load_state(opt, file, prefix) put the state under
//    "<prefix>." in a file shared with other content, e.g. one training checkpoint holding
//    "model.*" (io::add_parameters) and "optim.*": one atomic file, so a crash can never pair
//    a new model with an old optimizer state.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "fugue/io/safetensors.hpp"
#include "fugue/optim/optimizer.hpp"

namespace fugue::optim {

template <Scalar T, Backend B>
void add_state(io::SafetensorsWriter& w, const Optimizer<T, B>& opt, std::string_view prefix = {}) {
  const std::string pre = prefix.empty() ? std::string() : std::string(prefix) + ".";
  const StateDict<T, B> sd = opt.state_dict();
  for (const auto& [name, t] : sd.tensors) w.add(pre + name, t);
  for (const auto& [k, v] : sd.metadata) w.set_metadata(pre + k, v);
}

template <Scalar T, Backend B>
void save_state(const Optimizer<T, B>& opt, const std::filesystem::path& path) {
  io::SafetensorsWriter w;
  add_state(w, opt);
  w.save(path);
}

template <Scalar T, Backend B>
void load_state(Optimizer<T, B>& opt, const io::SafetensorsFile& file, std::string_view prefix = {}) {
  const std::string pre = prefix.empty() ? std::string() : std::string(prefix) + ".";
  StateDict<T, B> sd;
  for (const auto& info : file.tensors())
    if (info.name.rfind(pre, 0) == 0)
      sd.tensors.emplace_back(info.name.substr(pre.size()), file.load<T, B>(info.name, io::Convert::same_dtype));
  for (const auto& [k, v] : file.metadata())
    if (k.rfind(pre, 0) == 0) sd.metadata.emplace(k.substr(pre.size()), v);
  opt.load_state_dict(sd);
}

template <Scalar T, Backend B>
void load_state(Optimizer<T, B>& opt, const std::filesystem::path& path) {
  load_state(opt, io::SafetensorsFile::open(path));
}

}  // namespace fugue::optim
