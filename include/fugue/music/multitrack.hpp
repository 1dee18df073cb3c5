// fugue/music/multitrack.hpp — Multitrack MusicVAE's 490-token measure encoding.
//
// Contract (Magenta's music_vae data_hierarchical.MultiInstrumentPerformanceConverter, as
// hier-multiperf_vel_1bar builds it; checked on the corpora by scripts/conformance.sh music):
//  * tokens 0-359: performance events at 24 steps/quarter (NOTE_ON p = p, NOTE_OFF p =
//    128+p, TIME_SHIFT s = 255+s for s in 1..96, VELOCITY b = 351+b for 8 bins);
//    360+p = program p, 488 = drums, 489 = END.
//  * multitrack_measures(ns): per piece of constant tempo and meter, the sustain pedal
//    applied, cut into one-bar subsequences in seconds (a note belongs to the bar it starts
//    in, clipped at its end), each quantized at 24 steps/quarter; a piece with a bar that
//    does not quantize to 96 steps per bar yields nothing.
//  * encode_multitrack_bar(qbar): one track per instrument, sorted by (is_drum, program), then
//    instrument; each track's performance is cut to the bar, padded with time shifts to the
//    bar's 96 steps, round-tripped through notes (MetricPerformance.to_sequence: tied and
//    zero-length notes fall away, simultaneous onsets reorder by pitch) and padded again;
//    the track is [program] + events + [END] (the drum token when no note survived: note-seq
//    reads the track's kind back from its notes). Rejected (nullopt) when it has fewer than
//    min_tracks or more than max_tracks tracks, fewer than min_total_events events, or a
//    track longer than max_events tokens.
//  * MultitrackMeasure.tokens is [max_tracks * max_events] with -1 for zero padding rows;
//    a missing track is a single END token; lengths[i] = tokens of track i (filler: 1).
//  * decode_multitrack: per track, cut at the first END; the first program token sets the
//    program (488 = drums); track i -> instrument i; 120 qpm.
#pragma once

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <vector>

#include "fugue/core/error.hpp"
#include "fugue/core/unfused.hpp"
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
namespace detail {

// note-seq's MetricPerformance, in steps: the events of `notes` (quantized; ordered by start
// time, then pitch, as Performance sorts them), with time shifts of at most max_shift.
inline std::vector<PerfEvent> metric_performance(std::vector<Note> notes, int max_shift, int num_velocity_bins) {
  NoteSequence one;
  one.quantization.steps_per_quarter = 1;  // any metric grid: only the steps are read
  one.notes = std::move(notes);
  PerformanceOptions po;
  po.num_velocity_bins = num_velocity_bins;
  po.max_shift_steps = max_shift;
  return extract_performance(one, po);
}

inline int64_t performance_steps(const std::vector<PerfEvent>& ev) {
  int64_t steps = 0;
  for (const auto& e : ev)
    if (e.type == PerfType::TimeShift) steps += e.value;
  return steps;
}

// Performance.set_length: lengthens with time shifts (growing a last partial one first) or
// trims whole events from the end, splitting the time shift that crosses the new end.
inline void set_performance_length(std::vector<PerfEvent>& ev, int64_t steps, int max_shift) {
  int64_t have = performance_steps(ev);
  if (steps > have) {
    int64_t add = steps - have;
    if (!ev.empty() && ev.back().type == PerfType::TimeShift && ev.back().value < max_shift) {
      const int64_t grow = std::min<int64_t>(add, max_shift - ev.back().value);
      ev.back().value += static_cast<int>(grow);
      add -= grow;
    }
    for (; add >= max_shift; add -= max_shift) ev.push_back({PerfType::TimeShift, max_shift});
    if (add > 0) ev.push_back({PerfType::TimeShift, static_cast<int>(add)});
    return;
  }
  int64_t trim = have - steps, trimmed = 0;
  while (!ev.empty() && trimmed < trim) {
    if (ev.back().type != PerfType::TimeShift) {
      ev.pop_back();
    } else if (trimmed + ev.back().value > trim) {
      ev.back().value -= static_cast<int>(trim - trimmed);
      trimmed = trim;
    } else {
      trimmed += ev.back().value;
      ev.pop_back();
    }
  }
}

// The first segment of split_performance(ev, steps): events up to `steps`, where at the
// boundary only note-offs stay (anything else opens the next segment, which is dropped).
inline std::vector<PerfEvent> first_segment(const std::vector<PerfEvent>& ev, int64_t steps) {
  std::vector<PerfEvent> out;
  int64_t cur = 0;
  for (const auto& e : ev) {
    if (e.type == PerfType::TimeShift) {
      if (cur + e.value > steps) {
        if (steps - cur > 0) out.push_back({PerfType::TimeShift, static_cast<int>(steps - cur)});
        break;
      }
      out.push_back(e);
      cur += e.value;
    } else if (cur == steps && e.type != PerfType::NoteOff) {
      break;
    } else {
      out.push_back(e);
    }
  }
  return out;
}

// MetricPerformance.to_sequence followed by quantization, in steps: note-offs close the
// pitch's oldest open note, zero-length notes are dropped, notes left open end at the last
// step; a note starts with the velocity of the latest velocity event (100 before any).
inline std::vector<Note> performance_notes(const std::vector<PerfEvent>& ev, int num_velocity_bins) {
  std::vector<Note> notes;
  std::map<int, std::vector<std::pair<int64_t, int>>> open;  // pitch -> (start step, velocity)
  int64_t step = 0;
  int velocity = 100;
  auto add = [&](int pitch, int64_t start, int v, int64_t end) {
    if (end == start) return;
    Note n;
    n.pitch = pitch;
    n.velocity = v;
    n.quantized_start_step = start;
    n.quantized_end_step = end;
    n.start_time = static_cast<double>(start);
    n.end_time = static_cast<double>(end);
    notes.push_back(n);
  };
  for (const auto& e : ev) {
    if (e.type == PerfType::TimeShift) {
      step += e.value;
    } else if (e.type == PerfType::Velocity) {
      velocity = bin_to_velocity(e.value, num_velocity_bins);
    } else if (e.type == PerfType::NoteOn) {
      open[e.value].push_back({step, velocity});
    } else if (auto it = open.find(e.value); it != open.end() && !it->second.empty()) {
      auto [start, v] = it->second.front();
      it->second.erase(it->second.begin());
      add(e.value, start, v, step);
    }
  }
  for (auto& [pitch, list] : open)
    for (auto [start, v] : list) add(pitch, start, v, step);
  return notes;
}

// The iteration order of a CPython (3.11) set of small non-negative ints added in `keys`
// order: open addressing with 9 linear probes then perturbed probing, a table of 8 slots
// growing 4x (to the used count times 4) when 3/5 full. Magenta sorts a measure's tracks
// stably by (is_drum, program) starting from such a set of instrument numbers, so tracks
// that share both keep this order.
inline std::vector<int> python_set_order(const std::vector<int>& keys) {
  constexpr std::size_t kLinearProbes = 9, kPerturbShift = 5;
  std::vector<long long> table(8, -1);  // -1: empty slot
  std::size_t used = 0;
  auto insert_clean = [&](std::vector<long long>& t, long long key) {
    const std::size_t mask = t.size() - 1;
    std::size_t perturb = static_cast<std::size_t>(key), i = perturb & mask;
    while (true) {
      for (std::size_t j = 0; j <= (i + kLinearProbes <= mask ? kLinearProbes : 0); ++j)
        if (t[i + j] < 0) {
          t[i + j] = key;
          return;
        }
      perturb >>= kPerturbShift;
      i = (i * 5 + 1 + perturb) & mask;
    }
  };
  for (int k : keys) {
    if (std::find(table.begin(), table.end(), static_cast<long long>(k)) != table.end()) continue;
    insert_clean(table, k);
    ++used;
    if (used * 5 >= (table.size() - 1) * 3) {  // resize to the smallest power of two > used * 4
      std::size_t size = 8;
      while (size <= used * 4) size <<= 1;
      std::vector<long long> grown(size, -1);
      for (long long key : table)
        if (key >= 0) insert_clean(grown, key);
      table = std::move(grown);
    }
  }
  std::vector<int> order;
  for (long long key : table)
    if (key >= 0) order.push_back(static_cast<int>(key));
  return order;
}

// One instrument's track of a measure, as _quantized_subsequence_to_tensors builds it:
// performance (trimmed to the measure), set to the measure's length, its first segment
// round-tripped through notes (clip_tied_notes), set to the measure's length again.
struct MeasureTrack {
  std::vector<PerfEvent> events;
  bool empty = false;  // no note survived the round trip
};
inline MeasureTrack measure_track(std::vector<Note> notes, int64_t spb, int num_velocity_bins) {
  const int max_shift = static_cast<int>(spb);
  auto ev = metric_performance(std::move(notes), max_shift, num_velocity_bins);
  set_performance_length(ev, spb, max_shift);
  auto kept = performance_notes(first_segment(ev, spb), num_velocity_bins);
  MeasureTrack out;
  out.empty = kept.empty();
  out.events = metric_performance(std::move(kept), max_shift, num_velocity_bins);
  set_performance_length(out.events, spb, max_shift);
  return out;
}

}  // namespace detail

// One measure: the notes of a one-bar subsequence quantized at o.steps_per_quarter (note
// times relative to the bar), as MultiInstrumentPerformanceConverter encodes it.
inline std::optional<MultitrackMeasure> encode_multitrack_bar(const NoteSequence& qbar,
                                                              const MultitrackOptions& o = {}) {
  FUGUE_CHECK(qbar.is_metric_quantized() && qbar.quantization.steps_per_quarter == o.steps_per_quarter,
              "multitrack encoding needs a sequence quantized at ", o.steps_per_quarter, " steps per quarter");
  const int64_t spb = int64_t{o.steps_per_quarter} * o.quarters_per_bar;
  FUGUE_CHECK(steps_per_bar_float(qbar) == double(spb), "multitrack encoding needs ", spb, " steps per bar");
  // One track per instrument, ordered by (is_drum, program); ties keep the order of the
  // Python set of instrument numbers Magenta builds from the notes in onset order.
  std::map<int, std::vector<Note>> by_instrument;
  std::vector<const Note*> by_onset;
  for (const auto& n : qbar.notes) {
    FUGUE_CHECK(n.instrument >= 0, "multitrack: note with negative instrument ", n.instrument);
    by_instrument[n.instrument].push_back(n);
    by_onset.push_back(&n);
  }
  const int ntracks = static_cast<int>(by_instrument.size());
  if (ntracks < o.min_tracks || ntracks > o.max_tracks) return std::nullopt;
  std::stable_sort(by_onset.begin(), by_onset.end(),
                   [](const Note* a, const Note* b) { return a->start_time < b->start_time; });
  std::vector<int> instruments;
  for (const Note* n : by_onset) instruments.push_back(n->instrument);
  std::vector<std::tuple<bool, int, int>> order;  // (is_drum, program, instrument)
  for (int inst : detail::python_set_order(instruments)) {
    const Note& first = by_instrument[inst].front();
    order.push_back({first.is_drum, first.program, inst});
  }
  std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
    return std::tie(std::get<0>(a), std::get<1>(a)) < std::tie(std::get<0>(b), std::get<1>(b));
  });
  auto vocab = multitrack_vocab(o);
  MultitrackMeasure out;
  out.tokens.assign(static_cast<std::size_t>(o.max_tracks * o.max_events), -1);
  out.lengths.assign(static_cast<std::size_t>(o.max_tracks), 1);
  int total = 0, t = 0;
  for (const auto& [drum, program, inst] : order) {
    const auto track = detail::measure_track(by_instrument[inst], spb, o.num_velocity_bins);
    if (static_cast<int>(track.events.size()) > o.max_events - 2) return std::nullopt;
    total += static_cast<int>(track.events.size());
    auto* row = &out.tokens[static_cast<std::size_t>(t * o.max_events)];
    int k = 0;
    // A track whose notes all fell away is labelled drums: note-seq reads (is_drum, program)
    // back from the round trip's notes, and "all notes are drums" holds for none.
    row[k++] = drum || track.empty ? kMultitrackDrumToken : kMultitrackProgramBase + program;
    for (const auto& e : track.events) row[k++] = vocab.encode(e);
    row[k++] = kMultitrackEnd;
    out.lengths[static_cast<std::size_t>(t)] = k;
    ++t;
  }
  if (total < o.min_total_events) return std::nullopt;
  for (; t < o.max_tracks; ++t) out.tokens[static_cast<std::size_t>(t * o.max_events)] = kMultitrackEnd;
  return out;
}

// All encodable measures of an unquantized sequence: per piece of constant tempo and meter,
// the sustain pedal applied, cut into one-bar subsequences in seconds (notes belong to the
// bar they start in, clipped at its end), each quantized; a piece with a bar that does not
// quantize to steps_per_quarter * quarters_per_bar steps yields nothing.
inline std::vector<MultitrackMeasure> multitrack_measures(const NoteSequence& ns, const MultitrackOptions& o = {}) {
  std::vector<MultitrackMeasure> out;
  for (auto piece : split_on_time_changes(ns)) {
    apply_sustain(piece);
    const double qpm = piece.tempos.empty() ? kDefaultQpm : piece.tempos.front().qpm;
    const double hop = 60.0 * o.quarters_per_bar / qpm;
    // A piece longer than quantization allows (kMaxQuantizedSteps) is refused like one that
    // does not quantize, before its bars are listed (a hostile file's times can be huge).
    if (!(piece.total_time / hop * double(o.steps_per_quarter * o.quarters_per_bar) <= double(kMaxQuantizedSteps)))
      continue;
    // numpy.arange(hop, total_time, hop) (start + i * step), then the end.
    std::vector<double> splits{0.0};
    for (int64_t i = 0;; ++i) {
      const double t = mul_add_unfused(static_cast<double>(i), hop, hop);
      if (!(t < piece.total_time)) break;
      splits.push_back(t);
    }
    if (piece.total_time > splits.back()) splits.push_back(piece.total_time);
    if (splits.size() < 2) continue;
    std::vector<MultitrackMeasure> measures;
    bool ok = true;
    for (const auto& bar : extract_subsequences(piece, splits)) {
      NoteSequence q;
      try {
        q = quantize(bar, o.steps_per_quarter);
      } catch (const fugue::error&) {
        ok = false;
        break;
      }
      if (steps_per_bar_float(q) != double(o.steps_per_quarter * o.quarters_per_bar)) {
        ok = false;
        break;
      }
      if (auto m = encode_multitrack_bar(q, o)) measures.push_back(std::move(*m));
    }
    if (ok) out.insert(out.end(), measures.begin(), measures.end());
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
