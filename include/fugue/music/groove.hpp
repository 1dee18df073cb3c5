// fugue/music/groove.hpp — GrooVAE's hits / velocities / offsets drum representation.
//
// Contract (Magenta's music_vae GrooveConverter; docs/music.md, "Known differences from the references"):
//  * 9 drum classes (roland_drum_map() for training; reduced_drum_map() at inference);
//    per 16th-note step t and class k the loudest note starting there gives
//    h = 1, v = velocity / 127, o = 2 * (grid_time(t) - onset) / step_length, with steps
//    from note-seq rounding (so o is in (-1, 1]; positive = played early).
//    Row layout [h0..h8, v0..v8, o0..o8] -> 27 floats per step.
//  * groove_windows(ns): one tempo and time signature (missing = 4/4) with 16 steps per
//    bar, else no windows. The sequence is padded to the end of the bar of its last onset,
//    cut into windows of split_bars bars with hop = window (or hop_bars), all of them
//    (max_windows = 0, as Magenta: its configs pass max_tensors_per_notesequence=20, but
//    GrooveConverter.to_tensors overrides the base method that would apply it) or at most
//    max_windows; a sequence shorter than a window gives one zero-padded window.
//  * Input transforms (encoder copy only), in this order: note dropout, tapify, humanize,
//    fixed velocities, add_instruments (see GrooveTransforms).
//  * groove_to_sequence: hits > 0.5 become notes at (t - clip(o/2, +-0.5)) * step length,
//    one step long, velocity clip(round(v * 127)), pitch = class's first pitch, is_drum,
//    instrument 9, 120 qpm unless told.
#pragma once

#include <algorithm>
#include <cmath>
#include <vector>

#include "fugue/core/error.hpp"
#include "fugue/music/drums.hpp"
#include "fugue/music/note_sequence.hpp"
#include "fugue/music/quantize.hpp"
#include "fugue/music/rng.hpp"

namespace fugue::music {

inline constexpr int kGrooveClasses = 9;
inline constexpr int kGrooveWidth = 3 * kGrooveClasses;  // 27

inline const DrumMap& roland_drum_map() {
  static const DrumMap m(
      {{36}, {38, 37, 40}, {42, 22, 44}, {46, 26}, {43, 58}, {47, 45}, {50, 48}, {49, 52, 55, 57}, {51, 53, 59}});
  return m;
}

struct GrooveOptions {
  int split_bars = 2;
  int hop_bars = 0;        // 0: hop = window
  int max_windows = 0;     // 0: every window (Magenta); n > 0: the first n
  bool drums_only = true;  // consider is_drum notes only
};

struct GrooveTransforms {
  double max_note_dropout = 0.0;     // p ~ U(0, max); a hit drops with prob max(0.2, 1-v) * p
  bool tapify = false;               // loudest class per step moves to channel 3 (open hi-hat)
  bool humanize = false;             // velocities and offsets -> 0
  bool fixed_velocities = false;     // velocities -> 0
  std::vector<int> add_instruments;  // classes zeroed in the input
};

// [steps * 27] windows of the target representation.
inline std::vector<std::vector<float>> groove_windows(const NoteSequence& ns, const GrooveOptions& o = {},
                                                      const DrumMap& map = roland_drum_map()) {
  FUGUE_CHECK(map.num_classes() == kGrooveClasses, "GrooVAE needs a 9-class drum map");
  NoteSequence q;
  try {
    q = quantize(ns, 4);  // throws on a tempo or meter change (repeats of one are fine, as note-seq)
  } catch (const fugue::error&) {
    return {};
  }
  if (steps_per_bar_float(q) != 16.0) return {};
  const double step_len = 60.0 / q.tempos[0].qpm / 4.0;
  int64_t last = -1;
  for (const auto& n : q.notes)
    if ((!o.drums_only || n.is_drum) && map.class_of[static_cast<std::size_t>(n.pitch & 127)] >= 0)
      last = std::max(last, n.quantized_start_step);
  if (last < 0) return {};
  const int64_t win = int64_t{o.split_bars} * 16;
  const int64_t hop = o.hop_bars > 0 ? int64_t{o.hop_bars} * 16 : win;
  FUGUE_CHECK(win > 0 && hop > 0 && o.max_windows >= 0,
              "groove windows need split_bars > 0, hop_bars >= 0 and max_windows >= 0");
  // Only the steps the first max_windows windows can reach are materialized.
  int64_t steps = (last / 16 + 1) * 16;
  if (o.max_windows > 0) steps = std::min(steps, hop * (o.max_windows - 1) + win);
  std::vector<float> all(static_cast<std::size_t>(steps) * kGrooveWidth, 0.0f);
  for (const auto& n : q.notes) {
    if (o.drums_only && !n.is_drum) continue;
    int k = map.class_of[static_cast<std::size_t>(n.pitch & 127)];
    if (k < 0 || n.velocity == 0 || n.quantized_start_step >= steps) continue;
    float* r = &all[static_cast<std::size_t>(n.quantized_start_step) * kGrooveWidth];
    float v = static_cast<float>(n.velocity) / 127.0f;
    if (r[k] > 0 && r[kGrooveClasses + k] >= v) continue;  // keep the loudest
    r[k] = 1.0f;
    r[kGrooveClasses + k] = v;
    double grid = static_cast<double>(n.quantized_start_step) * step_len;
    r[2 * kGrooveClasses + k] = static_cast<float>(2.0 * (grid - n.start_time) / step_len);
  }
  std::vector<std::vector<float>> out;
  if (steps < win) {
    all.resize(static_cast<std::size_t>(win) * kGrooveWidth, 0.0f);
    out.push_back(std::move(all));
    return out;
  }
  for (int64_t s = 0; s + win <= steps && (o.max_windows == 0 || static_cast<int>(out.size()) < o.max_windows);
       s += hop)
    out.emplace_back(all.begin() + s * kGrooveWidth, all.begin() + (s + win) * kGrooveWidth);
  return out;
}

// The encoder-side copy of a [steps * 27] window.
inline std::vector<float> groove_transform_input(std::vector<float> x, const GrooveTransforms& t,
                                                 SplitMix64* rng = nullptr) {
  FUGUE_CHECK(x.size() % kGrooveWidth == 0, "groove tensor size ", x.size(), " is not a multiple of 27");
  const std::size_t steps = x.size() / kGrooveWidth;
  constexpr int H = 0, V = kGrooveClasses, O = 2 * kGrooveClasses;
  if (t.max_note_dropout > 0) {
    FUGUE_CHECK(rng != nullptr, "note dropout needs a random generator");
    double p = rng->uniform01() * t.max_note_dropout;
    for (std::size_t s = 0; s < steps; ++s)
      for (int k = 0; k < kGrooveClasses; ++k) {
        float* r = &x[s * kGrooveWidth];
        if (r[H + k] <= 0) continue;
        if (rng->uniform01() < std::max(0.2, 1.0 - r[V + k]) * p) r[H + k] = r[V + k] = r[O + k] = 0.0f;
      }
  }
  if (t.tapify) {
    for (std::size_t s = 0; s < steps; ++s) {
      float* r = &x[s * kGrooveWidth];
      int best = 0;
      for (int k = 1; k < kGrooveClasses; ++k)
        if (r[V + k] > r[V + best]) best = k;
      float h = r[H + best], v = r[V + best], off = r[O + best];
      std::fill(r, r + kGrooveWidth, 0.0f);
      r[H + 3] = h;
      r[V + 3] = v;
      r[O + 3] = off;
    }
  }
  for (std::size_t s = 0; s < steps; ++s) {
    float* r = &x[s * kGrooveWidth];
    if (t.humanize)
      for (int k = 0; k < kGrooveClasses; ++k) r[V + k] = r[O + k] = 0.0f;
    if (t.fixed_velocities)
      for (int k = 0; k < kGrooveClasses; ++k) r[V + k] = 0.0f;
    for (int k : t.add_instruments) {
      FUGUE_CHECK(k >= 0 && k < kGrooveClasses, "add_instruments class ", k, " outside 0..8");
      r[H + k] = r[V + k] = r[O + k] = 0.0f;
    }
  }
  return x;
}

inline NoteSequence groove_to_sequence(const std::vector<float>& x, double qpm = 120.0,
                                       const DrumMap& map = reduced_drum_map()) {
  FUGUE_CHECK(x.size() % kGrooveWidth == 0, "groove tensor size ", x.size(), " is not a multiple of 27");
  NoteSequence ns;
  ns.tempos = {{0.0, qpm}};
  const double step_len = 60.0 / qpm / 4.0;
  const std::size_t steps = x.size() / kGrooveWidth;
  for (std::size_t s = 0; s < steps; ++s)
    for (int k = 0; k < kGrooveClasses; ++k) {
      const float* r = &x[s * kGrooveWidth];
      if (!(r[k] > 0.5f)) continue;
      int vel = static_cast<int>(std::clamp(std::round(r[kGrooveClasses + k] * 127.0f), 0.0f, 127.0f));
      double off = std::clamp(static_cast<double>(r[2 * kGrooveClasses + k]) / 2.0, -0.5, 0.5);
      double start = std::max(0.0, (static_cast<double>(s) - off) * step_len);
      add_note(ns, map.pitch_of(k), vel, start, start + step_len, 9, 0, true);
    }
  ns.total_time = std::max(ns.total_time, steps * step_len);
  sort_notes(ns);
  return ns;
}

}  // namespace fugue::music
