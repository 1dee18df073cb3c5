// fugue/music/drums.hpp — drum tracks and MusicVAE's 9-class drum encodings.
//
// Contract (note-seq DrumTrack / extract_drum_tracks / MultiDrumOneHotEncoding semantics):
//  * A DrumTrack holds, per step, the set of drum pitches struck there (a bitmask over
//    the 9 classes once mapped). extract_drum_tracks takes all is_drum notes with
//    velocity > 0 (all instruments together), starts on the bar before the first onset,
//    ends at a gap of >= gap_bars of empty steps, pads to a bar, drops tracks shorter
//    than min_bars, truncates past max_steps.
//  * Classes (k, pitches; the first pitch is used when decoding): kick 36 35; snare 38
//    27 28 31 32 33 34 37 39 40 56 65 66 75 85; closed hi-hat 42 44 54 68 69 70 71 73 78
//    80 22; open hi-hat 46 67 72 74 79 81 26; low tom 45 29 41 43 61 64 84; mid tom 48
//    47 60 63 77 86 87; high tom 50 30 62 76 83; crash 49 52 55 57 58; ride 51 53 59 82.
//  * Output encoding: class id = sum of 2^k over active classes (512 classes).
//  * Roll input: per step 9 multi-hot bits + a 10th bit set when the step is empty.
//  * drum_windows(ns) is DrumsConverter.to_tensors: quantize at 4 spq, 16 steps/bar,
//    keep mapped drum notes, extract (min 1 bar, gap 1 bar, max 100 bars), slice 2-bar
//    windows with a 1-bar hop, de-duplicate.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "fugue/core/error.hpp"
#include "fugue/music/melody.hpp"
#include "fugue/music/note_sequence.hpp"
#include "fugue/music/quantize.hpp"

namespace fugue::music {

inline constexpr int kNumDrumClasses = 9;

// pitch -> class (or -1), for a table of class pitch lists.
struct DrumMap {
  std::vector<std::vector<int>> classes;
  std::array<int, 128> class_of{};

  explicit DrumMap(std::vector<std::vector<int>> c) : classes(std::move(c)) {
    class_of.fill(-1);
    for (std::size_t k = 0; k < classes.size(); ++k)
      for (int p : classes[k]) {
        FUGUE_CHECK(p >= 0 && p < 128, "drum pitch ", p, " outside 0..127");
        if (class_of[static_cast<std::size_t>(p)] < 0) class_of[static_cast<std::size_t>(p)] = static_cast<int>(k);
      }
  }
  int num_classes() const { return static_cast<int>(classes.size()); }
  int pitch_of(int k) const { return classes.at(static_cast<std::size_t>(k)).front(); }
};

// MusicVAE's REDUCED_DRUM_PITCH_CLASSES (= note-seq's default drum type pitches).
inline const DrumMap& reduced_drum_map() {
  static const DrumMap m({{36, 35},
                          {38, 27, 28, 31, 32, 33, 34, 37, 39, 40, 56, 65, 66, 75, 85},
                          {42, 44, 54, 68, 69, 70, 71, 73, 78, 80, 22},
                          {46, 67, 72, 74, 79, 81, 26},
                          {45, 29, 41, 43, 61, 64, 84},
                          {48, 47, 60, 63, 77, 86, 87},
                          {50, 30, 62, 76, 83},
                          {49, 52, 55, 57, 58},
                          {51, 53, 59, 82}});
  return m;
}

// One drum event: a bitmask over classes (bit k = class k struck).
struct DrumTrack {
  std::vector<uint32_t> events;
  int64_t start_step = 0;
  int steps_per_bar = 16;
  std::size_t size() const { return events.size(); }
  int64_t end_step() const { return start_step + static_cast<int64_t>(events.size()); }
};

struct DrumExtractOptions {
  double gap_bars = 1.0;
  int min_bars = 1;
  std::optional<int64_t> max_steps_truncate;
  bool pad_end = true;
};

// Drum tracks of a metrically quantized sequence; notes whose pitch has no class are
// ignored (they are removed before extraction in MusicVAE's converter).
inline std::vector<DrumTrack> extract_drum_tracks(const NoteSequence& qns, const DrumMap& map = reduced_drum_map(),
                                                  const DrumExtractOptions& o = {}) {
  FUGUE_CHECK(qns.is_metric_quantized(), "extract_drum_tracks needs a metrically quantized sequence");
  const int spb = steps_per_bar(qns);
  std::vector<std::pair<int64_t, int>> hits;  // (step, class)
  for (const auto& n : qns.notes) {
    if (!n.is_drum || n.velocity == 0) continue;
    int k = map.class_of[static_cast<std::size_t>(n.pitch & 127)];
    if (k < 0) continue;
    hits.push_back({n.quantized_start_step, k});
  }
  std::sort(hits.begin(), hits.end());
  std::vector<DrumTrack> out;
  int64_t search = 0;
  std::size_t first = 0;  // hits before `first` start before `search`
  while (true) {
    while (first < hits.size() && hits[first].first < search) ++first;
    if (first == hits.size()) break;
    DrumTrack d;
    d.steps_per_bar = spb;
    int64_t tstart = hits[first].first - ((hits[first].first - search) % spb);
    int64_t gap_start = 0;
    for (std::size_t i = first; i < hits.size(); ++i) {
      int64_t idx = hits[i].first - tstart;
      if (!d.events.empty() && static_cast<double>(idx - gap_start) >= o.gap_bars * spb) break;
      if (static_cast<int64_t>(d.events.size()) < idx + 1) d.events.resize(static_cast<std::size_t>(idx) + 1, 0u);
      d.events[static_cast<std::size_t>(idx)] |= 1u << hits[i].second;
      gap_start = idx + 1;
    }
    d.start_step = tstart;
    std::size_t len = d.events.size();
    if (o.pad_end) len += (spb - len % spb) % spb;
    d.events.resize(len, 0u);
    int64_t end = d.end_step();
    search = end + (((search - end) % spb) + spb) % spb;
    if (static_cast<int64_t>(d.size()) < int64_t{spb} * o.min_bars) continue;
    if (o.max_steps_truncate && static_cast<int64_t>(d.size()) > *o.max_steps_truncate) {
      int64_t l = *o.max_steps_truncate;
      if (o.pad_end) l -= *o.max_steps_truncate % spb;
      d.events.resize(static_cast<std::size_t>(l));
    }
    out.push_back(std::move(d));
  }
  return out;
}

// 512-class output ids (the bitmask itself) and the 10-wide roll input.
inline std::vector<int32_t> drums_to_ids(const std::vector<uint32_t>& events) {
  std::vector<int32_t> out;
  out.reserve(events.size());
  for (auto e : events) {
    FUGUE_CHECK(e < (1u << kNumDrumClasses), "drum event mask ", e, " outside 9 classes");
    out.push_back(static_cast<int32_t>(e));
  }
  return out;
}

inline std::vector<float> drums_to_roll(const std::vector<uint32_t>& events) {
  std::vector<float> roll(events.size() * (kNumDrumClasses + 1), 0.0f);
  for (std::size_t t = 0; t < events.size(); ++t) {
    FUGUE_CHECK(events[t] < (1u << kNumDrumClasses), "drum event mask outside 9 classes");
    for (int k = 0; k < kNumDrumClasses; ++k)
      if (events[t] >> k & 1u) roll[t * (kNumDrumClasses + 1) + static_cast<std::size_t>(k)] = 1.0f;
    if (events[t] == 0) roll[t * (kNumDrumClasses + 1) + kNumDrumClasses] = 1.0f;
  }
  return roll;
}

inline std::vector<uint32_t> ids_to_drums(const std::vector<int32_t>& ids) {
  std::vector<uint32_t> out;
  for (int32_t i : ids) {
    FUGUE_CHECK(i >= 0 && i < (1 << kNumDrumClasses), "drum class ", i, " outside [0, 512)");
    out.push_back(static_cast<uint32_t>(i));
  }
  return out;
}

// Drum events -> one-step drum notes on instrument 9 (class -> first pitch).
inline NoteSequence drums_to_sequence(const std::vector<uint32_t>& events, int steps_per_quarter = 4,
                                      double qpm = 120.0, int velocity = 80, const DrumMap& map = reduced_drum_map()) {
  NoteSequence ns;
  ns.tempos = {{0.0, qpm}};
  const double sec = 60.0 / qpm / steps_per_quarter;
  for (std::size_t t = 0; t < events.size(); ++t)
    for (int k = 0; k < map.num_classes(); ++k)
      if (events[t] >> k & 1u) add_note(ns, map.pitch_of(k), velocity, t * sec, (t + 1) * sec, 9, 0, true);
  ns.total_time = std::max(ns.total_time, events.size() * sec);
  return ns;
}

struct DrumConverterOptions {
  int slice_bars = 2;
  int steps_per_quarter = 4, quarters_per_bar = 4;
  int max_bars = 100;
  double gap_bars = 1.0;
  bool dedupe = true;
};

// DrumsConverter.to_tensors for one constant-tempo/meter piece: drum event windows.
inline std::vector<std::vector<uint32_t>> drum_windows(const NoteSequence& ns, const DrumConverterOptions& o = {},
                                                       const DrumMap& map = reduced_drum_map()) {
  NoteSequence q;
  try {
    q = quantize(ns, o.steps_per_quarter);
  } catch (const fugue::error&) {
    return {};
  }
  const int spb = o.steps_per_quarter * o.quarters_per_bar;
  if (steps_per_bar_float(q) != spb) return {};
  DrumExtractOptions eo;
  eo.gap_bars = o.gap_bars;
  eo.min_bars = 1;
  eo.max_steps_truncate = int64_t{spb} * o.max_bars;
  eo.pad_end = true;
  std::vector<std::vector<int>> lists;
  for (auto& d : extract_drum_tracks(q, map, eo)) lists.emplace_back(d.events.begin(), d.events.end());
  std::vector<std::vector<uint32_t>> out;
  for (auto& w : detail::slice_and_dedupe(lists, o.slice_bars * spb, spb, o.dedupe))
    out.emplace_back(w.begin(), w.end());
  return out;
}

}  // namespace fugue::music
