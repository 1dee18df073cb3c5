// libFuzzer target for fugue/io/safetensors.hpp: parsing arbitrary bytes from memory must
// either give a consistent SafetensorsFile or throw fugue::error; anything else (crash, other
// exception, sanitizer report, runaway allocation) is a bug. Every tensor of a file that
// parses is loaded through each conversion path, and a file that loads completely is written
// back and re-read, which must reproduce the same bytes. The model-card reader
// (io/model_file.hpp, and DDSP's options from a card) runs on every file that parses: it must
// give a card or throw fugue::error.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>

#include "fugue/io/model_file.hpp"
#include "fugue/io/safetensors.hpp"
#include "fugue/models/ddsp/model_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fugue::io;
  try {
    const auto f = SafetensorsFile::view_memory(std::span<const std::uint8_t>(data, size), "fuzz");
    std::uint64_t total = 0;
    for (const auto& t : f.tensors()) {
      if (t.end > f.data_size() || t.begin > t.end) std::abort();
      total += t.nbytes();
    }
    if (total != f.data_size()) std::abort();
    try {
      const ModelCard card = card_of(f);
      if (!card.hparams.is_object() || !card.features.is_object() || card.parameters < 0) std::abort();
      try {
        (void)fugue::models::ddsp::feature_options(card);
        (void)fugue::models::ddsp::model_options(card);
      } catch (const fugue::error&) {
      }
    } catch (const fugue::error&) {
    }
    SafetensorsWriter w;
    for (const auto& [k, v] : f.metadata()) w.set_metadata(k, v);
    for (const auto& t : f.tensors()) {
      const auto raw = f.raw(t.name);
      if (raw.size() != t.nbytes()) std::abort();
      try {
        const auto x = f.load<float>(t.name, Convert::rounding);
        if (std::uint64_t(x.numel()) * dtype_size(t.dtype) != t.nbytes()) std::abort();
        (void)f.load<double>(t.name);
      } catch (const fugue::error&) {
      }
      try {
        (void)f.load_integers(t.name);
      } catch (const fugue::error&) {
      }
      w.add_raw(t.name, t.dtype, t.shape, raw);
    }
    // Re-encode canonically and read back: same names, dtypes, shapes, bytes and metadata.
    const auto bytes = w.bytes();
    const auto g = SafetensorsFile::view_memory(std::span<const std::byte>(bytes), "fuzz-rewrite");
    if (g.size() != f.size() || g.metadata() != f.metadata()) std::abort();
    for (const auto& t : f.tensors()) {
      const auto& u = g.info(t.name);
      if (u.dtype != t.dtype || u.shape != t.shape || g.raw(t.name) != f.raw(t.name)) std::abort();
    }
  } catch (const fugue::error&) {
  }
  return 0;
}
