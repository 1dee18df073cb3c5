// fugue/music/multitrack.hpp — Multitrack MusicVAE's 490-token measure encoding.
//
// Contract (Magenta's music_vae data_hierarchical.MultiInstrumentPerformanceConverter):
//  * tokens 0-359: performance events at 24 steps/quarter (NOTE_ON p = p, NOTE_OFF p =
//    128+p, TIME_SHIFT s = 255+s for s in 1..96, VELOCITY b = 351+b for 8 bins);
//    360+p = program p, 488 = drums, 489 = END.
//  * One measure (4/4, 96 steps) -> one track per instrument: [program] + events + [END];
//    tracks sorted by (is_drum, program); notes begun before the measure are dropped,
//    notes running past it are clipped to it. Rejected (nullopt) when it has fewer than
//    min_tracks or more than max_tracks tracks, fewer than min_total_events events, or a
//    track longer than max_events tokens.
//  * MultitrackMeasure.tokens is [max_tracks * max_events] with -1 for zero padding rows;
//    a missing track is a single END token; lengths[i] = tokens of track i (filler: 1).
//  * decode_multitrack: per track, cut at the first END; the first program token sets the
//    program (488 = drums); track i -> instrument i; 120 qpm.
#pragma once

#include <algorithm>
#include <optional>
#include <set>
#include <tuple>
#include <vector>

#include "fugue/core/error.hpp"
#include "fugue/music/note_sequence.hpp"
#include "fugue/music/performance.hpp"
#include "fugue/music/quantize.hpp"

namespace fugue::music {

struct MultitrackOptions {
  int steps_per_quarter = 24;
  int quarters_per_bar = 4;
  int num_velocity_bins = 8;
  int max_tracks = 8;
  int max_events = 64;
  int min_tracks = 2;
  int min_total_events = 8;
};

inline constexpr int kMultitrackProgramBase = 360;
inline constexpr int kMultitrackDrumToken = 488;
inline constexpr int kMultitrackEnd = 489;
inline constexpr int kMultitrackDepth = 490;

inline PerformanceVocab multitrack_vocab(const MultitrackOptions& o = {}) {
  return PerformanceVocab{0, 127, o.steps_per_quarter * o.quarters_per_bar, o.num_velocity_bins, 0};
}

struct MultitrackMeasure {
  std::vector<int32_t> tokens;   // [max_tracks * max_events], -1 = padding
  std::vector<int32_t> lengths;  // [max_tracks]
};

// Encodes bar `bar` of a sequence quantized at o.steps_per_quarter with 4/4 meter.
inline std::optional<MultitrackMeasure> encode_multitrack_measure(const NoteSequence& qns, int64_t bar,
                                                                  const MultitrackOptions& o = {}) {
  FUGUE_CHECK(qns.is_metric_quantized() && qns.quantization.steps_per_quarter == o.steps_per_quarter,
              "multitrack encoding needs a sequence quantized at ", o.steps_per_quarter, " steps per quarter");
  const int64_t spb = int64_t{o.steps_per_quarter} * o.quarters_per_bar;
  FUGUE_CHECK(steps_per_bar_float(qns) == double(spb), "multitrack encoding needs ", spb, " steps per bar");
  const int64_t b0 = bar * spb, b1 = b0 + spb;
  NoteSequence m;
  m.quantization = qns.quantization;
  std::set<std::tuple<bool, int, int>> tracks;  // (is_drum, program, instrument)
  for (const auto& n : qns.notes) {
    if (n.quantized_start_step < b0 || n.quantized_start_step >= b1) continue;
    Note c = n;
    c.quantized_start_step -= b0;
    c.quantized_end_step = std::min(n.quantized_end_step, b1) - b0;
    m.notes.push_back(c);
    tracks.insert({n.is_drum, n.program, n.instrument});
  }
  const int ntracks = static_cast<int>(tracks.size());
  if (ntracks < o.min_tracks || ntracks > o.max_tracks) return std::nullopt;
  auto vocab = multitrack_vocab(o);
  MultitrackMeasure out;
  out.tokens.assign(static_cast<std::size_t>(o.max_tracks * o.max_events), -1);
  out.lengths.assign(static_cast<std::size_t>(o.max_tracks), 1);
  int total = 0, t = 0;
  for (const auto& [drum, program, inst] : tracks) {
    PerformanceOptions po;
    po.num_velocity_bins = o.num_velocity_bins;
    po.max_shift_steps = static_cast<int>(spb);
    po.instrument = inst;
    // (is_drum, program) may be shared by two instruments: filter on all three.
    NoteSequence one;
    one.quantization = m.quantization;
    for (const auto& n : m.notes)
      if (n.instrument == inst && n.is_drum == drum && n.program == program) one.notes.push_back(n);
    auto ev = extract_performance(one, po);
    if (static_cast<int>(ev.size()) > o.max_events - 2) return std::nullopt;
    total += static_cast<int>(ev.size());
    auto* row = &out.tokens[static_cast<std::size_t>(t * o.max_events)];
    int k = 0;
    row[k++] = drum ? kMultitrackDrumToken : kMultitrackProgramBase + program;
    for (const auto& e : ev) row[k++] = vocab.encode(e);
    row[k++] = kMultitrackEnd;
    out.lengths[static_cast<std::size_t>(t)] = k;
    ++t;
  }
  if (total < o.min_total_events) return std::nullopt;
  for (; t < o.max_tracks; ++t) out.tokens[static_cast<std::size_t>(t * o.max_events)] = kMultitrackEnd;
  return out;
}

// All encodable measures of an unquantized sequence (split at time changes, 4/4 only).
inline std::vector<MultitrackMeasure> multitrack_measures(const NoteSequence& ns, const MultitrackOptions& o = {}) {
  std::vector<MultitrackMeasure> out;
  for (const auto& piece : split_on_time_changes(ns)) {
    NoteSequence q;
    try {
      q = quantize(piece, o.steps_per_quarter);
    } catch (const fugue::error&) {
      continue;
    }
    const int64_t spb = int64_t{o.steps_per_quarter} * o.quarters_per_bar;
    if (steps_per_bar_float(q) != double(spb)) continue;
    std::set<int64_t> bars;  // only bars with onsets can hold tracks
    for (const auto& n : q.notes) bars.insert(n.quantized_start_step / spb);
    for (int64_t b : bars)
      if (auto mm = encode_multitrack_measure(q, b, o)) out.push_back(std::move(*mm));
  }
  return out;
}

inline NoteSequence decode_multitrack(const std::vector<int32_t>& tokens, const MultitrackOptions& o = {},
                                      double qpm = 120.0) {
  FUGUE_CHECK(tokens.size() == static_cast<std::size_t>(o.max_tracks * o.max_events), "multitrack tokens must be ",
              o.max_tracks, " x ", o.max_events);
  auto vocab = multitrack_vocab(o);
  const double sec = 60.0 / qpm / o.steps_per_quarter;
  NoteSequence ns;
  ns.tempos = {{0.0, qpm}};
  for (int t = 0; t < o.max_tracks; ++t) {
    int program = -1;
    bool drum = false;
    std::vector<PerfEvent> ev;
    for (int k = 0; k < o.max_events; ++k) {
      int32_t id = tokens[static_cast<std::size_t>(t * o.max_events + k)];
      if (id < 0) continue;
      FUGUE_CHECK(id < kMultitrackDepth, "multitrack token ", id, " outside [0, 490)");
      if (id == kMultitrackEnd) break;
      if (id >= kMultitrackProgramBase) {
        if (program < 0) {
          drum = id == kMultitrackDrumToken;
          program = drum ? 0 : id - kMultitrackProgramBase;
        }
        continue;
      }
      ev.push_back(vocab.decode(id));
    }
    if (ev.empty()) continue;
    auto part = performance_to_sequence(ev, sec, o.num_velocity_bins, t, std::max(program, 0), drum);
    for (auto& n : part.notes) ns.notes.push_back(n);
    ns.total_time = std::max(ns.total_time, part.total_time);
  }
  return ns;
}

}  // namespace fugue::music
