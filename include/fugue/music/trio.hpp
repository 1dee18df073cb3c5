// fugue/music/trio.hpp — MusicVAE trio (melody + bass + drums), 692 classes per step.
//
// Contract (modelled on Magenta's music_vae TrioConverter; docs/music_vae.md, "Data"):
//  * instrument type by program: 0-31 melody, 32-39 bass, is_drum drums; others unused.
//    An instrument whose notes mix types is invalid (the piece yields nothing).
//  * at 4 steps/quarter, 16 steps/bar: each melody/bass instrument is extracted as
//    melodies (gap 2 bars, pitch 21..108), drums as drum tracks (gap 2 bars); a window of
//    slice_bars (16) starting on a bar (1-bar hop) is kept for every (melody, bass)
//    instrument pair when a melody of each and a drum track cover it whole.
//  * TrioWindow holds three id rows (90, 90, 512 classes); trio_one_hot() concatenates
//    them per step into [steps, 692]. trio_to_sequence decodes: melody instrument 0
//    program 0, bass instrument 1 program 33, drums instrument 9.
//  Not bit-identical to TrioConverter's window bookkeeping (documented in docs/music.md).
#pragma once

#include <map>
#include <set>
#include <vector>

#include "fugue/core/error.hpp"
#include "fugue/music/drums.hpp"
#include "fugue/music/melody.hpp"
#include "fugue/music/note_sequence.hpp"
#include "fugue/music/quantize.hpp"

namespace fugue::music {

inline constexpr int kTrioDepth = 90 + 90 + 512;

struct TrioWindow {
  std::vector<int32_t> melody, bass, drums;  // class ids per step
};

struct TrioOptions {
  int slice_bars = 16;
  double gap_bars = 2.0;
};

inline std::vector<TrioWindow> trio_windows(const NoteSequence& ns, const TrioOptions& o = {}) {
  NoteSequence q;
  try {
    q = quantize(ns, 4);
  } catch (const fugue::error&) {
    return {};
  }
  if (steps_per_bar_float(q) != 16.0) return {};
  const int spb = 16;
  enum Type { kMel, kBass, kDrum, kNone };
  std::map<int, int> type_of;  // instrument -> type
  for (const auto& n : q.notes) {
    int t = n.is_drum ? kDrum : n.program < 32 ? kMel : n.program < 40 ? kBass : kNone;
    auto [it, fresh] = type_of.emplace(n.instrument, t);
    if (!fresh && it->second != t) return {};  // mixed types
  }
  MelodyOneHot mel;
  // Per-instrument step -> class maps over the extracted melodies, plus coverage.
  struct Track {
    std::map<int64_t, int32_t> cls;
    std::vector<std::pair<int64_t, int64_t>> spans;
  };
  std::map<int, Track> tracks;
  MelodyExtractOptions mo;
  mo.gap_bars = o.gap_bars;
  mo.min_unique_pitches = 1;
  for (auto [inst, type] : type_of) {
    if (type != kMel && type != kBass) continue;
    NoteSequence one;
    one.quantization = q.quantization;
    one.time_signatures = q.time_signatures;
    for (const auto& n : q.notes)
      if (n.instrument == inst && n.pitch >= 21 && n.pitch <= 108) one.notes.push_back(n);
    Track tr;
    for (const auto& m : extract_melodies(one, mo)) {
      tr.spans.push_back({m.start_step, m.end_step()});
      for (std::size_t i = 0; i < m.size(); ++i) tr.cls[m.start_step + int64_t(i)] = mel.encode(m.events[i]);
    }
    tracks[inst] = std::move(tr);
  }
  Track drums;
  DrumExtractOptions dopt;
  dopt.gap_bars = o.gap_bars;
  for (const auto& d : extract_drum_tracks(q, reduced_drum_map(), dopt)) {
    drums.spans.push_back({d.start_step, d.end_step()});
    for (std::size_t i = 0; i < d.size(); ++i) drums.cls[d.start_step + int64_t(i)] = int32_t(d.events[i]);
  }
  const int64_t len = int64_t{o.slice_bars} * spb;
  auto covers = [&](const Track& t, int64_t s) {
    for (auto [a, b] : t.spans)
      if (a <= s && s + len <= b) return true;
    return false;
  };
  auto row = [&](const Track& t, int64_t s) {
    std::vector<int32_t> r(static_cast<std::size_t>(len), 0);
    for (int64_t i = 0; i < len; ++i)
      if (auto it = t.cls.find(s + i); it != t.cls.end()) r[static_cast<std::size_t>(i)] = it->second;
    return r;
  };
  std::vector<TrioWindow> out;
  for (int64_t s = 0; s + len <= q.total_quantized_steps + spb; s += spb) {
    if (!covers(drums, s)) continue;
    for (auto& [mi, mt] : tracks) {
      if (type_of[mi] != kMel || !covers(mt, s)) continue;
      for (auto& [bi, bt] : tracks) {
        if (type_of[bi] != kBass || !covers(bt, s)) continue;
        out.push_back({row(mt, s), row(bt, s), row(drums, s)});
      }
    }
  }
  return out;
}

inline std::vector<float> trio_one_hot(const TrioWindow& w) {
  FUGUE_CHECK(w.melody.size() == w.bass.size() && w.bass.size() == w.drums.size(), "trio rows differ in length");
  std::vector<float> out(w.melody.size() * kTrioDepth, 0.0f);
  for (std::size_t t = 0; t < w.melody.size(); ++t) {
    FUGUE_CHECK(
        w.melody[t] >= 0 && w.melody[t] < 90 && w.bass[t] >= 0 && w.bass[t] < 90 && w.drums[t] >= 0 && w.drums[t] < 512,
        "trio class out of range at step ", t);
    float* r = &out[t * kTrioDepth];
    r[w.melody[t]] = 1.0f;
    r[90 + w.bass[t]] = 1.0f;
    r[180 + w.drums[t]] = 1.0f;
  }
  return out;
}

inline NoteSequence trio_to_sequence(const TrioWindow& w, double qpm = 120.0) {
  MelodyOneHot mel;
  auto ns = melody_to_sequence(mel.decode(w.melody), 4, qpm, 80, 0, 0);
  auto bass = melody_to_sequence(mel.decode(w.bass), 4, qpm, 80, 1, 33);
  auto drums = drums_to_sequence(ids_to_drums(w.drums), 4, qpm);
  for (auto& n : bass.notes) ns.notes.push_back(n);
  for (auto& n : drums.notes) ns.notes.push_back(n);
  ns.total_time = std::max({ns.total_time, bass.total_time, drums.total_time});
  return ns;
}

}  // namespace fugue::music
