// fugue/music/dataset.hpp — a folder of MIDI files -> shuffled training batches.
//
// Contract:
//  * load_corpus(dirs, held_out_fraction, seed): every *.mid / *.midi below the folders
//    (sorted paths), parsed with read_midi_file; unreadable files are counted, not fatal.
//    The split is by piece: the sorted list is shuffled with `seed` and the first
//    round(fraction * n) pieces are held out, so no window of a held-out piece is trained on.
//  * melody_examples / drum_examples: a piece is split at tempo/meter changes and run
//    through melody_windows / drum_windows (MusicVAE's 2-bar converters as the cat-mel_2bar
//    and cat-drums_2bar configs build them: melodies from programs 0-31 only), encoded as
//    class ids (90 / 512 classes); with an rng, melodies are first transposed by a
//    uniform shift in [transpose_min, transpose_max] (notes leaving 21..108 are dropped)
//    and at most max_windows_per_piece random windows are kept (MusicVAE's 5).
//  * WindowBatcher: per epoch, pieces in a seeded random order, windows pooled and
//    shuffled, emitted as [batch, steps] int32 batches (the last partial batch dropped).
//    The same seed gives the same batches.
#pragma once

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "fugue/core/error.hpp"
#include "fugue/music/drums.hpp"
#include "fugue/music/melody.hpp"
#include "fugue/music/midi.hpp"
#include "fugue/music/note_sequence.hpp"
#include "fugue/music/quantize.hpp"
#include "fugue/music/rng.hpp"

namespace fugue::music {

struct Piece {
  std::string path;
  NoteSequence ns;
};

struct Corpus {
  std::vector<Piece> train, held_out;
  std::size_t unreadable = 0;
  std::size_t size() const { return train.size() + held_out.size(); }
};

inline std::vector<std::string> list_midi_files(const std::vector<std::string>& dirs) {
  namespace fs = std::filesystem;
  std::vector<std::string> out;
  for (const auto& d : dirs) {
    std::error_code ec;
    if (!fs::is_directory(d, ec)) continue;
    for (auto it = fs::recursive_directory_iterator(d, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      if (!it->is_regular_file()) continue;
      auto ext = it->path().extension().string();
      std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
      if (ext == ".mid" || ext == ".midi") out.push_back(it->path().string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

inline Corpus load_corpus(const std::vector<std::string>& dirs, double held_out_fraction = 0.1, uint64_t seed = 0) {
  FUGUE_CHECK(held_out_fraction >= 0 && held_out_fraction <= 1, "held_out_fraction must be in [0, 1]");
  auto files = list_midi_files(dirs);
  SplitMix64 rng(seed);
  rng.shuffle(files);
  auto n_held = static_cast<std::size_t>(std::llround(held_out_fraction * static_cast<double>(files.size())));
  Corpus c;
  for (std::size_t i = 0; i < files.size(); ++i) {
    try {
      Piece p{files[i], read_midi_file(files[i])};
      (i < n_held ? c.held_out : c.train).push_back(std::move(p));
    } catch (const fugue::error&) {
      ++c.unreadable;
    }
  }
  return c;
}

struct ExampleOptions {
  int transpose_min = -5, transpose_max = 5;
  int max_windows_per_piece = 5;                           // 0: all
  MelodyConverterOptions melody = cat_mel_2bar_options();  // as Magenta's cat-mel_2bar (programs 0-31)
  DrumConverterOptions drums{};
};

namespace detail {
template <class W>
void keep_random_subset(std::vector<W>& w, int max_keep, SplitMix64* rng) {
  if (!rng || max_keep <= 0 || static_cast<int>(w.size()) <= max_keep) return;
  rng->shuffle(w);
  w.resize(static_cast<std::size_t>(max_keep));
}
}  // namespace detail

inline std::vector<std::vector<int32_t>> melody_examples(const NoteSequence& ns, const ExampleOptions& o = {},
                                                         SplitMix64* rng = nullptr) {
  NoteSequence src = ns;
  if (rng) transpose(src, rng->uniform_int(o.transpose_min, o.transpose_max), o.melody.min_pitch, o.melody.max_pitch);
  std::vector<std::vector<int>> windows;
  for (const auto& piece : split_on_time_changes(src))
    for (auto& w : melody_windows(piece, o.melody)) windows.push_back(std::move(w));
  detail::keep_random_subset(windows, o.max_windows_per_piece, rng);
  MelodyOneHot enc{o.melody.min_pitch, o.melody.max_pitch};
  std::vector<std::vector<int32_t>> out;
  for (const auto& w : windows) out.push_back(enc.encode(w));
  return out;
}

inline std::vector<std::vector<int32_t>> drum_examples(const NoteSequence& ns, const ExampleOptions& o = {},
                                                       SplitMix64* rng = nullptr) {
  std::vector<std::vector<uint32_t>> windows;
  for (const auto& piece : split_on_time_changes(ns))
    for (auto& w : drum_windows(piece, o.drums)) windows.push_back(std::move(w));
  detail::keep_random_subset(windows, o.max_windows_per_piece, rng);
  std::vector<std::vector<int32_t>> out;
  for (const auto& w : windows) out.push_back(drums_to_ids(w));
  return out;
}

struct Batch {
  int batch = 0, steps = 0;
  std::vector<int32_t> ids;  // [batch * steps]
};

enum class WindowKind { Melody, Drums };

class WindowBatcher {
 public:
  WindowBatcher(const std::vector<Piece>& pieces, WindowKind kind, int batch_size, uint64_t seed, bool augment = true,
                ExampleOptions opt = {})
      : pieces_(&pieces), kind_(kind), batch_(batch_size), rng_(seed), augment_(augment), opt_(std::move(opt)) {
    FUGUE_CHECK(batch_size > 0, "batch size must be positive");
  }

  // Fills `out` with the next batch; returns false at the end of an epoch (then call
  // again to start the next one). An epoch with fewer windows than a batch yields none.
  bool next(Batch& out) {
    if (pos_ == 0 && pool_.empty()) fill();
    if (pos_ + static_cast<std::size_t>(batch_) > pool_.size()) {
      pool_.clear();
      pos_ = 0;
      ++epoch_;
      return false;
    }
    const int steps = static_cast<int>(pool_[pos_].size());
    out.batch = batch_;
    out.steps = steps;
    out.ids.clear();
    for (int b = 0; b < batch_; ++b) {
      FUGUE_CHECK(static_cast<int>(pool_[pos_].size()) == steps, "windows of different lengths in one batch");
      out.ids.insert(out.ids.end(), pool_[pos_].begin(), pool_[pos_].end());
      ++pos_;
    }
    return true;
  }
  int epoch() const { return epoch_; }
  std::size_t windows_this_epoch() {
    if (pool_.empty()) fill();
    return pool_.size();
  }

 private:
  void fill() {
    std::vector<std::size_t> order(pieces_->size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    rng_.shuffle(order);
    for (auto i : order) {
      const auto& ns = (*pieces_)[i].ns;
      auto w = kind_ == WindowKind::Melody ? melody_examples(ns, opt_, augment_ ? &rng_ : nullptr)
                                           : drum_examples(ns, opt_, augment_ ? &rng_ : nullptr);
      for (auto& x : w) pool_.push_back(std::move(x));
    }
    rng_.shuffle(pool_);
    pos_ = 0;
  }

  const std::vector<Piece>* pieces_;
  WindowKind kind_;
  int batch_;
  SplitMix64 rng_;
  bool augment_;
  ExampleOptions opt_;
  std::vector<std::vector<int32_t>> pool_;
  std::size_t pos_ = 0;
  int epoch_ = 0;
};

}  // namespace fugue::music
