// fugue/music/trio.hpp — MusicVAE trio (melody + bass + drums), 692 classes per step.
//
// Contract (Magenta's music_vae TrioConverter, as hier-trio_16bar builds it; checked on the
// corpora by scripts/conformance.sh music):
//  * trio_windows(piece): one piece of constant tempo and meter (split_on_time_changes first),
//    quantized at 4 steps/quarter with 16 steps/bar (else none); total_bars = the bars of its
//    total_quantized_steps, at most max_bars.
//  * instrument type by program: 0-31 melody, 32-39 bass, is_drum drums, any other program
//    invalid; an instrument whose notes mix types is invalid. Fewer than three valid types:
//    no windows. An instrument covers the bars its notes sound in.
//  * each melody / bass instrument is extracted whole (no gap limit, pitches 21..108) and
//    left-padded to step 0 and set to the piece's length; drums likewise as a drum track
//    (9 reduced classes). An instrument that yields nothing covers no bar.
//  * a bar counts as covered by an instrument that sounds within gap_bars of it; for each
//    (melody, bass, drums) instrument triple (in instrument order) every window of
//    slice_bars starting on a bar that all three cover is kept, where the first and the last
//    gap_bars bars count as covered when any of the three sounds near them (Magenta's rule).
//  * TrioWindow holds three id rows (90, 90, 512 classes); trio_one_hot() concatenates
//    them per step into [steps, 692]. trio_to_sequence decodes: melody instrument 0
//    program 0, bass instrument 1 program 33, drums instrument 9.
#pragma once

#include <algorithm>
#include <limits>
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
  int gap_bars = 2;
  int max_bars = 1024;  // bars of a piece considered
};

namespace detail {

// One instrument's notes of a piece whose total_time is `total_steps` steps, re-quantized as
// TrioConverter's inner converters see it (note steps do not depend on the other notes).
inline NoteSequence trio_instrument(const NoteSequence& q, int instrument, int64_t total_steps) {
  NoteSequence one;
  one.quantization = q.quantization;
  one.time_signatures = q.time_signatures;
  one.tempos = q.tempos;
  one.total_quantized_steps = total_steps;
  for (const auto& n : q.notes)
    if (n.instrument == instrument) {
      one.notes.push_back(n);
      one.total_quantized_steps = std::max(one.total_quantized_steps, n.quantized_end_step);
    }
  return one;
}

// The instrument's whole-piece melody as class ids over [0, total_quantized_steps): extracted
// with no gap limit, left-padded with no-events to step 0, then set to the total length (a
// note still sounding at the old end gets its note-off there), as pad_to_total_time does.
// Empty when the instrument yields no melody.
inline std::vector<int32_t> trio_melody_row(NoteSequence one) {
  std::erase_if(one.notes, [](const Note& n) { return n.is_drum || n.pitch < 21 || n.pitch > 108; });
  MelodyExtractOptions mo;
  mo.gap_bars = std::numeric_limits<double>::infinity();
  auto melodies = extract_melodies(one, mo);
  if (melodies.empty()) return {};
  Melody m = std::move(melodies.front());
  std::vector<int> events(static_cast<std::size_t>(m.start_step), kMelodyNoEvent);
  events.insert(events.end(), m.events.begin(), m.events.end());
  Melody whole;
  whole.events = std::move(events);
  whole.set_length(static_cast<std::size_t>(one.total_quantized_steps));
  return MelodyOneHot{}.encode(whole.events);
}

// The same for a drum instrument (reduced 9-class map; 512 class ids).
inline std::vector<int32_t> trio_drum_row(const NoteSequence& one) {
  DrumExtractOptions dopt;
  dopt.gap_bars = std::numeric_limits<double>::infinity();
  auto tracks = extract_drum_tracks(one, reduced_drum_map(), dopt);
  if (tracks.empty()) return {};
  const DrumTrack& d = tracks.front();
  std::vector<int32_t> row(static_cast<std::size_t>(one.total_quantized_steps), 0);
  for (std::size_t i = 0; i < d.size(); ++i) {
    const auto t = static_cast<std::size_t>(d.start_step) + i;
    if (t < row.size()) row[t] = static_cast<int32_t>(d.events[i]);
  }
  return row;
}

}  // namespace detail

// TrioConverter._to_tensors_fn for one piece of constant tempo and meter (see the contract).
inline std::vector<TrioWindow> trio_windows(const NoteSequence& ns, const TrioOptions& o = {}) {
  NoteSequence q;
  try {
    q = quantize(ns, 4);
  } catch (const fugue::error&) {
    return {};
  }
  constexpr int spb = 16;
  if (steps_per_bar_float(q) != spb) return {};
  const int64_t total_bars = std::min<int64_t>((q.total_quantized_steps + spb - 1) / spb, o.max_bars);
  if (total_bars <= 0) return {};
  const auto bars = static_cast<std::size_t>(total_bars);

  // Instrument types (a mixed instrument is invalid) and the bars each instrument sounds in.
  enum Type : int { kUnknown, kMelody, kBass, kDrums, kInvalid };
  std::map<int, int> type_of;
  std::map<int, std::vector<char>> covered;
  for (const auto& n : q.notes) {
    if (n.instrument < 0 || n.instrument > 127) continue;
    const int t = n.is_drum ? kDrums : n.program < 32 ? kMelody : n.program < 40 ? kBass : kInvalid;
    auto [it, fresh] = type_of.emplace(n.instrument, t);
    if (!fresh && it->second != t) it->second = kInvalid;
    const int64_t first = n.quantized_start_step / spb, last = (n.quantized_end_step + spb - 1) / spb;
    auto& c = covered.try_emplace(n.instrument, bars, char{0}).first->second;
    for (int64_t b = first; b < std::min(last, total_bars); ++b) c[static_cast<std::size_t>(b)] = 1;
  }
  std::map<int, std::vector<int>> by_type;
  for (auto [inst, t] : type_of)
    if (t != kInvalid) by_type[t].push_back(inst);
  if (by_type.size() < 3) return {};

  // Each instrument's whole-piece row; one that yields nothing covers no bar.
  const int64_t total_steps = total_bars * spb;
  std::map<int, std::vector<int32_t>> rows;
  for (int t : {kMelody, kBass, kDrums})
    for (int inst : by_type[t]) {
      const NoteSequence one = detail::trio_instrument(q, inst, total_steps);
      auto row = t == kDrums ? detail::trio_drum_row(one) : detail::trio_melody_row(one);
      if (row.empty())
        std::fill(covered[inst].begin(), covered[inst].end(), char{0});
      else
        rows[inst] = std::move(row);
    }
  // A bar counts as covered when the instrument sounds within gap_bars of it.
  const auto gap = static_cast<std::size_t>(o.gap_bars);
  std::map<int, std::vector<char>> near;
  for (auto& [inst, c] : covered) {
    auto& d = near.try_emplace(inst, bars, char{0}).first->second;
    for (std::size_t j = 0; j < bars; ++j)
      for (std::size_t k = j > gap ? j - gap : 0; k < std::min(bars, j + gap + 1); ++k) d[j] |= c[k];
  }

  const auto len = static_cast<std::size_t>(o.slice_bars) * spb;
  std::vector<TrioWindow> out;
  for (int mi : by_type[kMelody])
    for (int bi : by_type[kBass])
      for (int di : by_type[kDrums]) {
        const int grp[3] = {mi, bi, di};
        std::vector<char> all(bars);
        for (std::size_t j = 0; j < bars; ++j) all[j] = near[mi][j] && near[bi][j] && near[di][j];
        // Magenta's edge rule: the first (last) gap_bars bars count as covered when any
        // instrument of the group sounds anywhere near them.
        const std::size_t edge = std::min(gap, bars);
        auto any_in = [&](std::size_t a, std::size_t b) {
          for (int inst : grp)
            for (std::size_t j = a; j < b; ++j)
              if (near[inst][j]) return char{1};
          return char{0};
        };
        if (edge > 0) {
          const char head = any_in(0, edge), tail = any_in(bars - edge, bars);
          std::fill(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(edge), head);
          std::fill(all.end() - static_cast<std::ptrdiff_t>(edge), all.end(), tail);
        }
        if (!rows.count(mi) || !rows.count(bi) || !rows.count(di)) continue;
        for (std::size_t j = 0; j + static_cast<std::size_t>(o.slice_bars) <= bars; ++j) {
          if (!std::all_of(all.begin() + static_cast<std::ptrdiff_t>(j),
                           all.begin() + static_cast<std::ptrdiff_t>(j) + o.slice_bars, [](char c) { return c; }))
            continue;
          auto slice = [&](int inst) {
            const auto& r = rows[inst];
            return std::vector<int32_t>(r.begin() + static_cast<std::ptrdiff_t>(j * spb),
                                        r.begin() + static_cast<std::ptrdiff_t>(j * spb + len));
          };
          out.push_back({slice(mi), slice(bi), slice(di)});
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
