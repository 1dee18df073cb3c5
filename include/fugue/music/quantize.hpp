// fugue/music/quantize.hpp — quantization, time-change splitting and the sustain pedal.
//
// Contract (note-seq semantics, re-derived from its documented behaviour):
//  * quantize_to_step(t, sps) = trunc(t * sps + 0.5) (cutoff 0.5: round half up).
//  * quantize(ns, steps_per_quarter): needs one tempo and one time signature (an event at
//    t > 0 that differs from the implicit 120 qpm / 4/4 counts as a change); denominators
//    must be powers of two. Each note gets start/end steps; a note whose end rounds onto its
//    start is lengthened to one step; negative steps throw. total_quantized_steps is
//    max(quantized total_time, latest note end step). Chords/CCs get a step too. Steps
//    beyond kMaxQuantizedSteps throw (bounds every encoder's memory).
//  * quantize_absolute(ns, steps_per_second): the same rounding on an absolute grid.
//  * steps_per_bar(qns) = steps_per_quarter * 4 / denominator * numerator.
//  * split_on_time_changes(ns): cuts at every time where tempo or time signature really
//    changes; notes starting in a piece go to it (end clipped to the piece), events are
//    carried (the latest at or before a piece's start moves to its time 0).
//  * apply_sustain(ns): note-seq's apply_sustain_control_changes. Per instrument, CC 64 >= 64
//    holds note-offs of pitched notes (drums take no part) until the pedal's release or a
//    re-strike of the pitch (a re-strike at the note's own start drops it: zero length);
//    notes still held at the end end at the sequence's last note or pedal event, which then
//    becomes total_time.
// Every failure is a fugue::error.
#pragma once

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>
#include <vector>

#include "fugue/core/error.hpp"
#include "fugue/core/unfused.hpp"
#include "fugue/music/note_sequence.hpp"

namespace fugue::music {

inline constexpr double kQuantizeCutoff = 0.5;
// Largest step quantization accepts (4.6 h at 4 steps/quarter and 120 qpm, 11.6 h at 100
// steps/s). Every encoder allocates O(steps), so this bounds memory on hostile files.
inline constexpr int64_t kMaxQuantizedSteps = int64_t{1} << 22;

inline int64_t quantize_to_step(double seconds, double steps_per_second, double cutoff = kQuantizeCutoff) {
  const double steps = mul_add_unfused(seconds, steps_per_second, 1.0 - cutoff);  // as note-seq rounds
  FUGUE_CHECK(std::isfinite(steps) && std::fabs(steps) < 4.0e15, "time ", seconds, " s cannot be quantized at ",
              steps_per_second, " steps/s");
  return static_cast<int64_t>(steps);  // truncation toward zero, like Python's int()
}

inline bool is_power_of_two(int x) { return x > 0 && (x & (x - 1)) == 0; }

namespace detail {

inline void quantize_events(NoteSequence& q, double sps) {
  q.total_quantized_steps = quantize_to_step(q.total_time, sps);
  FUGUE_CHECK(q.total_quantized_steps <= kMaxQuantizedSteps, "sequence of ", q.total_time, " s is longer than ",
              kMaxQuantizedSteps, " steps");
  for (auto& n : q.notes) {
    n.quantized_start_step = quantize_to_step(n.start_time, sps);
    n.quantized_end_step = quantize_to_step(n.end_time, sps);
    FUGUE_CHECK(n.quantized_end_step <= kMaxQuantizedSteps, "note ending at ", n.end_time, " s is beyond ",
                kMaxQuantizedSteps, " steps");
    if (n.quantized_end_step == n.quantized_start_step) ++n.quantized_end_step;
    FUGUE_CHECK(n.quantized_start_step >= 0 && n.quantized_end_step >= 0, "negative note time while quantizing (start ",
                n.start_time, " s)");
    q.total_quantized_steps = std::max(q.total_quantized_steps, n.quantized_end_step);
  }
  for (auto& c : q.chords) {
    c.quantized_step = quantize_to_step(c.time, sps);
    FUGUE_CHECK(c.quantized_step >= 0 && c.quantized_step <= kMaxQuantizedSteps, "chord time out of range");
  }
  for (auto& c : q.control_changes) {
    c.quantized_step = quantize_to_step(c.time, sps);
    FUGUE_CHECK(c.quantized_step >= 0 && c.quantized_step <= kMaxQuantizedSteps, "control-change time out of range");
  }
}

}  // namespace detail

// Metric quantization; see the contract above.
inline NoteSequence quantize(const NoteSequence& ns, int steps_per_quarter) {
  FUGUE_CHECK(steps_per_quarter > 0, "steps_per_quarter must be positive, got ", steps_per_quarter);
  NoteSequence q = ns;
  q.quantization = {};
  q.quantization.steps_per_quarter = steps_per_quarter;

  if (!q.time_signatures.empty()) {
    auto ts = q.time_signatures;
    std::stable_sort(ts.begin(), ts.end(), [](auto& a, auto& b) { return a.time < b.time; });
    FUGUE_CHECK(ts[0].time == 0.0 || (ts[0].numerator == 4 && ts[0].denominator == 4),
                "multiple time signatures: implicit 4/4 changes to ", ts[0].numerator, "/", ts[0].denominator, " at ",
                ts[0].time, " s");
    for (const auto& t : ts)
      FUGUE_CHECK(t.numerator == ts[0].numerator && t.denominator == ts[0].denominator,
                  "multiple time signatures in one sequence (split it first)");
    ts.resize(1);
    ts[0].time = 0.0;
    q.time_signatures = ts;
  } else {
    q.time_signatures = {TimeSignature{0.0, 4, 4}};
  }
  FUGUE_CHECK(is_power_of_two(q.time_signatures[0].denominator), "time signature denominator ",
              q.time_signatures[0].denominator, " is not a power of two");
  FUGUE_CHECK(q.time_signatures[0].numerator > 0, "time signature numerator must be positive");

  if (!q.tempos.empty()) {
    auto tp = q.tempos;
    std::stable_sort(tp.begin(), tp.end(), [](auto& a, auto& b) { return a.time < b.time; });
    FUGUE_CHECK(tp[0].time == 0.0 || tp[0].qpm == kDefaultQpm, "multiple tempos: implicit 120 qpm changes to ",
                tp[0].qpm, " at ", tp[0].time, " s");
    for (const auto& t : tp) FUGUE_CHECK(t.qpm == tp[0].qpm, "multiple tempos in one sequence (split it first)");
    tp.resize(1);
    tp[0].time = 0.0;
    q.tempos = tp;
  } else {
    q.tempos = {TempoChange{0.0, kDefaultQpm}};
  }
  FUGUE_CHECK(q.tempos[0].qpm > 0 && std::isfinite(q.tempos[0].qpm), "tempo must be positive");
  double sps = steps_per_quarter * q.tempos[0].qpm / 60.0;
  detail::quantize_events(q, sps);
  return q;
}

// Absolute-time quantization (performance encodings).
inline NoteSequence quantize_absolute(const NoteSequence& ns, double steps_per_second) {
  FUGUE_CHECK(steps_per_second > 0, "steps_per_second must be positive");
  NoteSequence q = ns;
  q.quantization = {};
  q.quantization.steps_per_second = steps_per_second;
  detail::quantize_events(q, steps_per_second);
  return q;
}

// Steps per bar of a metrically quantized sequence (may be fractional, e.g. 7/8 at 1 spq).
inline double steps_per_bar_float(const NoteSequence& q) {
  FUGUE_CHECK(q.is_metric_quantized(), "sequence is not metrically quantized");
  TimeSignature ts = q.time_signatures.empty() ? TimeSignature{} : q.time_signatures[0];
  double quarters_per_bar = 4.0 / ts.denominator * ts.numerator;
  return q.quantization.steps_per_quarter * quarters_per_bar;
}

inline int steps_per_bar(const NoteSequence& q) {
  double s = steps_per_bar_float(q);
  FUGUE_CHECK(s == std::floor(s) && s >= 1, "non-integer steps per bar: ", s);
  return static_cast<int>(s);
}

// Subsequences between consecutive split times (ascending, first usually 0).
inline std::vector<NoteSequence> extract_subsequences(const NoteSequence& ns, const std::vector<double>& splits) {
  FUGUE_CHECK(splits.size() >= 2, "need at least two split times");
  const std::size_t n = splits.size() - 1;
  std::vector<NoteSequence> out(n);
  for (auto& s : out) {
    s.ticks_per_quarter = ns.ticks_per_quarter;
    s.total_time = 0.0;
  }
  auto piece_of = [&](double t) -> std::ptrdiff_t {  // index with splits[i] <= t < splits[i+1]
    if (t < splits[0]) return -1;
    auto it = std::upper_bound(splits.begin(), splits.end(), t);
    std::ptrdiff_t i = (it - splits.begin()) - 1;
    return i < static_cast<std::ptrdiff_t>(n) ? i : -1;
  };
  for (const auto& note : ns.notes) {
    auto i = piece_of(note.start_time);
    if (i < 0) continue;
    Note c = note;
    c.start_time -= splits[i];
    c.end_time = std::min(note.end_time, splits[i + 1]) - splits[i];
    c.quantized_start_step = c.quantized_end_step = -1;
    out[i].notes.push_back(c);
    out[i].total_time = std::max(out[i].total_time, c.end_time);
  }
  for (const auto& cc : ns.control_changes) {
    auto i = piece_of(cc.time);
    if (i < 0) continue;
    ControlChange c = cc;
    c.time -= splits[i];
    c.quantized_step = -1;
    out[i].control_changes.push_back(c);
  }
  // Carried events: each piece gets the latest event at or before its start at time 0,
  // plus every event strictly inside it, shifted.
  auto carry = [&](const auto& events, auto member) {
    using E = typename std::decay_t<decltype(events)>::value_type;
    std::vector<E> sorted = events;
    std::stable_sort(sorted.begin(), sorted.end(), [](const E& a, const E& b) { return a.time < b.time; });
    std::size_t j = 0;  // first event with time > splits[i]; linear over all pieces
    for (std::size_t i = 0; i < n; ++i) {
      while (j < sorted.size() && sorted[j].time <= splits[i]) ++j;
      auto& dst = out[i].*member;
      if (j > 0) {
        E c = sorted[j - 1];
        c.time = 0.0;
        dst.push_back(c);
      }
      for (std::size_t k = j; k < sorted.size() && sorted[k].time < splits[i + 1]; ++k) {
        E c = sorted[k];
        c.time -= splits[i];
        dst.push_back(c);
      }
    }
  };
  carry(ns.tempos, &NoteSequence::tempos);
  carry(ns.time_signatures, &NoteSequence::time_signatures);
  carry(ns.key_signatures, &NoteSequence::key_signatures);
  carry(ns.chords, &NoteSequence::chords);
  for (auto& s : out)
    for (auto& c : s.chords) c.quantized_step = -1;
  return out;
}

// Splits an unquantized sequence wherever the tempo or time signature changes.
// Returns no pieces for an empty sequence (total_time 0).
inline std::vector<NoteSequence> split_on_time_changes(const NoteSequence& ns) {
  FUGUE_CHECK(!ns.is_quantized(), "split_on_time_changes needs an unquantized sequence");
  struct Change {
    double time;
    bool is_ts;
    int num, den;
    double qpm;
  };
  std::vector<Change> changes;
  for (const auto& t : ns.time_signatures) changes.push_back({t.time, true, t.numerator, t.denominator, 0});
  for (const auto& t : ns.tempos) changes.push_back({t.time, false, 0, 0, t.qpm});
  std::stable_sort(changes.begin(), changes.end(), [](auto& a, auto& b) { return a.time < b.time; });
  int num = 4, den = 4;
  double qpm = kDefaultQpm;
  std::vector<double> splits{0.0};
  for (const auto& c : changes) {
    if (c.time >= ns.total_time) continue;
    if (c.is_ts) {
      if (c.num == num && c.den == den) continue;
      num = c.num;
      den = c.den;
    } else {
      if (c.qpm == qpm) continue;
      qpm = c.qpm;
    }
    if (c.time > splits.back()) splits.push_back(c.time);
  }
  if (ns.total_time > splits.back()) splits.push_back(ns.total_time);
  if (splits.size() < 2) return {};
  return extract_subsequences(ns, splits);
}

// Applies the sustain pedal (CC 64) as note-seq's apply_sustain_control_changes does; see the
// contract.
inline void apply_sustain(NoteSequence& ns, int threshold = 64) {
  enum Kind { kSusOn = 0, kSusOff = 1, kOn = 2, kOff = 3 };
  struct Event {
    double time;
    int kind;
    std::size_t index;  // note (kOn / kOff) or control change
  };
  // Note-ons, note-offs (drums take no part), then pedal events; sorted stably by (time, kind).
  std::vector<Event> events;
  for (int kind : {kOn, kOff})
    for (std::size_t i = 0; i < ns.notes.size(); ++i)
      if (!ns.notes[i].is_drum)
        events.push_back({kind == kOn ? ns.notes[i].start_time : ns.notes[i].end_time, kind, i});
  for (std::size_t i = 0; i < ns.control_changes.size(); ++i)
    if (ns.control_changes[i].number == 64)
      events.push_back({ns.control_changes[i].time, ns.control_changes[i].value >= threshold ? kSusOn : kSusOff, i});
  std::stable_sort(events.begin(), events.end(),
                   [](const Event& a, const Event& b) { return std::tie(a.time, a.kind) < std::tie(b.time, b.kind); });
  std::map<int, std::vector<std::size_t>> active;  // instrument -> sounding (or held) notes, oldest first
  std::map<int, bool> held;                        // instrument -> pedal down
  std::vector<char> dropped(ns.notes.size(), 0);
  double time = 0.0;
  for (const Event& e : events) {
    time = e.time;
    if (e.kind == kSusOn || e.kind == kSusOff) {
      const int inst = ns.control_changes[e.index].instrument;
      held[inst] = e.kind == kSusOn;
      if (e.kind == kSusOn) continue;
      auto& list = active[inst];
      std::erase_if(list, [&](std::size_t k) {
        if (ns.notes[k].end_time >= time) return false;
        ns.notes[k].end_time = time;  // released by the pedal
        ns.total_time = std::max(ns.total_time, time);
        return true;
      });
    } else if (e.kind == kOn) {
      const Note& n = ns.notes[e.index];
      auto& list = active[n.instrument];
      if (held[n.instrument])  // a re-strike under the pedal ends the held note of that pitch
        std::erase_if(list, [&](std::size_t k) {
          if (ns.notes[k].pitch != n.pitch) return false;
          ns.notes[k].end_time = time;
          if (ns.notes[k].start_time == ns.notes[k].end_time) dropped[k] = 1;
          return true;
        });
      list.push_back(e.index);
    } else if (!held[ns.notes[e.index].instrument]) {
      auto& list = active[ns.notes[e.index].instrument];
      if (auto it = std::find(list.begin(), list.end(), e.index); it != list.end()) list.erase(it);
    }
  }
  // Notes still held at the end end with the last event (note-seq sets total_time to it).
  for (auto& [inst, list] : active)
    for (std::size_t k : list) {
      ns.notes[k].end_time = time;
      ns.total_time = time;
    }
  std::size_t w = 0;
  for (std::size_t i = 0; i < ns.notes.size(); ++i)
    if (!dropped[i]) ns.notes[w++] = ns.notes[i];
  ns.notes.resize(w);
}

}  // namespace fugue::music
