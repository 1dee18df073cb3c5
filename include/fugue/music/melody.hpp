// fugue/music/melody.hpp — monophonic melodies and MusicVAE's 90-class melody one-hot.
//
// Contract (note-seq Melody / extract_melodies / MelodyOneHotEncoding semantics):
//  * A Melody is a list of events per step: kNoEvent (-2, hold / stay silent),
//    kNoteOff (-1) or a MIDI pitch (note-on). start_step is where it begins in the source.
//  * extract_melodies(qns, opts) works per instrument on a metrically quantized sequence:
//    notes sorted by (start step, -pitch); drums and velocity-0 notes ignored; a melody
//    starts on the bar boundary before its first note; at a polyphonic onset the highest
//    pitch wins; a rest of >= gap_bars ends the melody; the final note-off is dropped and
//    the end padded to a bar (ending a held note); melodies shorter than min_bars or with
//    fewer than min_unique_pitches are dropped; longer than max_steps are truncated.
//  * MelodyOneHot: index 0 = no event, 1 = note-off, 2 + (p - min_pitch) = note-on p.
//    MusicVAE uses min 21, max 108 -> 90 classes.
//  * melody_windows(...) is OneHotMelodyConverter's to_tensors: drop notes outside the
//    pitch range / programs, quantize at 4 steps per quarter, require 16 steps per bar,
//    extract, slice windows of slice_bars with a one-bar hop, turn each window's note-offs
//    before its first note-on into no-events (note-seq's Melody does), de-duplicate (first
//    kept).
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <set>
#include <vector>

#include "fugue/core/error.hpp"
#include "fugue/music/note_sequence.hpp"
#include "fugue/music/quantize.hpp"

namespace fugue::music {

inline constexpr int kMelodyNoEvent = -2;
inline constexpr int kMelodyNoteOff = -1;

struct Melody {
  std::vector<int> events;
  int64_t start_step = 0;
  int steps_per_bar = 16;
  int steps_per_quarter = 4;

  std::size_t size() const { return events.size(); }
  int64_t end_step() const { return start_step + static_cast<int64_t>(events.size()); }

  // Lengthens (ending a held note at the old end, as note-seq does) or truncates.
  void set_length(std::size_t n) {
    std::size_t old = events.size();
    if (n > old) {
      events.resize(n, kMelodyNoEvent);
      for (std::size_t i = old; i-- > 0;) {
        if (events[i] == kMelodyNoteOff) break;
        if (events[i] != kMelodyNoEvent) {
          events[old] = kMelodyNoteOff;
          break;
        }
      }
    } else {
      events.resize(n);
    }
  }

  void add_note(int pitch, int64_t start, int64_t end) {
    FUGUE_CHECK(start < end && start >= 0, "melody note needs 0 <= start < end");
    set_length(static_cast<std::size_t>(end) + 1);
    events[static_cast<std::size_t>(start)] = pitch;
    events[static_cast<std::size_t>(end)] = kMelodyNoteOff;
    for (int64_t i = start + 1; i < end; ++i) events[static_cast<std::size_t>(i)] = kMelodyNoEvent;
  }

  int unique_pitches() const {
    std::set<int> s;
    for (int e : events)
      if (e >= 0) s.insert(e);
    return static_cast<int>(s.size());
  }
};

struct MelodyExtractOptions {
  double gap_bars = 1.0;
  int min_bars = 1;
  std::optional<int64_t> max_steps_truncate;  // MusicVAE: 100 bars * 16 = 1600
  int min_unique_pitches = 1;
  bool ignore_polyphonic_notes = true;  // else a polyphonic onset ends the search
  bool pad_end = true;
};

namespace detail {

// One Melody from `notes` (already those of one instrument at >= search_start), or an
// empty one. Returns false when a polyphonic onset aborts (ignore_polyphonic_notes off).
inline bool melody_from_notes(std::vector<const Note*> notes, int64_t search_start, int spb, int spq,
                              const MelodyExtractOptions& o, Melody& m) {
  m = Melody{};
  m.steps_per_bar = spb;
  m.steps_per_quarter = spq;
  std::stable_sort(notes.begin(), notes.end(), [](const Note* a, const Note* b) {
    if (a->quantized_start_step != b->quantized_start_step) return a->quantized_start_step < b->quantized_start_step;
    return a->pitch > b->pitch;
  });
  if (notes.empty()) return true;
  int64_t first = notes[0]->quantized_start_step;
  int64_t mstart = first - ((first - search_start) % spb);
  for (const Note* n : notes) {
    if (n->is_drum || n->velocity == 0) continue;
    int64_t s = n->quantized_start_step - mstart, e = n->quantized_end_step - mstart;
    if (m.events.empty()) {
      m.add_note(n->pitch, s, e);
      continue;
    }
    int64_t last_on = -1, last_off = static_cast<int64_t>(m.events.size());
    for (std::size_t i = m.events.size(); i-- > 0;) {
      if (m.events[i] == kMelodyNoteOff) last_off = static_cast<int64_t>(i);
      if (m.events[i] >= 0) {
        last_on = static_cast<int64_t>(i);
        break;
      }
    }
    int64_t on_distance = s - last_on, off_distance = s - last_off;
    if (on_distance == 0) {
      if (o.ignore_polyphonic_notes) continue;
      m.events.clear();
      return false;
    }
    FUGUE_CHECK(on_distance > 0, "melody extraction: notes out of order");
    if (!m.events.empty() && static_cast<double>(off_distance) >= o.gap_bars * spb) break;
    m.add_note(n->pitch, s, e);
  }
  if (m.events.empty()) return true;
  m.start_step = mstart;
  if (m.events.back() == kMelodyNoteOff) m.events.pop_back();
  std::size_t len = m.events.size();
  if (o.pad_end) len += (spb - len % spb) % spb;
  m.set_length(len);
  return true;
}

}  // namespace detail

// All melodies of a metrically quantized sequence (see the contract).
inline std::vector<Melody> extract_melodies(const NoteSequence& qns, const MelodyExtractOptions& o = {}) {
  FUGUE_CHECK(qns.is_metric_quantized(), "extract_melodies needs a metrically quantized sequence");
  const int spb = steps_per_bar(qns);
  const int spq = qns.quantization.steps_per_quarter;
  std::set<int> instruments;
  for (const auto& n : qns.notes) instruments.insert(n.instrument);
  std::vector<Melody> out;
  for (int inst : instruments) {
    int64_t search = 0;
    while (true) {
      std::vector<const Note*> notes;
      for (const auto& n : qns.notes)
        if (n.instrument == inst && n.quantized_start_step >= search) notes.push_back(&n);
      Melody m;
      if (!detail::melody_from_notes(std::move(notes), search, spb, spq, o, m)) break;
      if (m.events.empty()) break;
      int64_t end = m.end_step();
      search = end + (((search - end) % spb) + spb) % spb;
      if (static_cast<int64_t>(m.size()) < int64_t{spb} * o.min_bars) continue;
      if (o.max_steps_truncate && static_cast<int64_t>(m.size()) > *o.max_steps_truncate) {
        int64_t len = *o.max_steps_truncate;
        if (o.pad_end) len -= *o.max_steps_truncate % spb;
        m.set_length(static_cast<std::size_t>(len));
      }
      if (m.unique_pitches() < o.min_unique_pitches) continue;
      out.push_back(std::move(m));
    }
  }
  return out;
}

// MelodyOneHotEncoding over [min_pitch, max_pitch] (inclusive).
struct MelodyOneHot {
  int min_pitch = 21;
  int max_pitch = 108;
  int num_classes() const { return max_pitch - min_pitch + 3; }
  int encode(int event) const {
    if (event == kMelodyNoEvent) return 0;
    if (event == kMelodyNoteOff) return 1;
    FUGUE_CHECK(event >= min_pitch && event <= max_pitch, "melody pitch ", event, " outside [", min_pitch, ", ",
                max_pitch, "]");
    return event - min_pitch + 2;
  }
  int decode(int index) const {
    FUGUE_CHECK(index >= 0 && index < num_classes(), "melody class ", index, " outside [0, ", num_classes(), ")");
    if (index == 0) return kMelodyNoEvent;
    if (index == 1) return kMelodyNoteOff;
    return index - 2 + min_pitch;
  }
  std::vector<int32_t> encode(const std::vector<int>& events) const {
    std::vector<int32_t> out;
    out.reserve(events.size());
    for (int e : events) out.push_back(encode(e));
    return out;
  }
  std::vector<int> decode(const std::vector<int32_t>& ids) const {
    std::vector<int> out;
    out.reserve(ids.size());
    for (int32_t i : ids) out.push_back(decode(i));
    return out;
  }
};

// Class ids -> dense one-hot rows [ids.size(), depth] (row-major floats).
inline std::vector<float> one_hot(const std::vector<int32_t>& ids, int depth) {
  std::vector<float> out(ids.size() * static_cast<std::size_t>(depth), 0.0f);
  for (std::size_t t = 0; t < ids.size(); ++t) {
    if (ids[t] < 0) continue;  // padding row stays zero
    FUGUE_CHECK(ids[t] < depth, "class ", ids[t], " outside one-hot depth ", depth);
    out[t * static_cast<std::size_t>(depth) + static_cast<std::size_t>(ids[t])] = 1.0f;
  }
  return out;
}

// Melody events -> notes (note-seq Melody.to_sequence): a note runs from its onset to the
// next note-off or onset (or the end); `qpm` sets seconds per step.
inline NoteSequence melody_to_sequence(const std::vector<int>& events, int steps_per_quarter = 4, double qpm = 120.0,
                                       int velocity = 80, int instrument = 0, int program = 0) {
  NoteSequence ns;
  ns.tempos = {{0.0, qpm}};
  const double sec = 60.0 / qpm / steps_per_quarter;
  int pitch = -1;
  std::size_t on = 0;
  auto close = [&](std::size_t t) {
    if (pitch >= 0) add_note(ns, pitch, velocity, on * sec, t * sec, instrument, program);
    pitch = -1;
  };
  for (std::size_t t = 0; t < events.size(); ++t) {
    int e = events[t];
    if (e == kMelodyNoEvent) continue;
    close(t);
    if (e >= 0) {
      FUGUE_CHECK(e <= 127, "melody pitch ", e, " outside 0..127");
      pitch = e;
      on = t;
    }
  }
  close(events.size());
  ns.total_time = std::max(ns.total_time, events.size() * sec);
  return ns;
}

// note-seq's Melody turns note-offs before its first note-on into "no event" whenever one
// is built from an event list, so each window Magenta slices from a melody is cleaned so
// (a window that starts on the previous note's release begins with class 0, not 1).
inline void clear_leading_note_offs(std::vector<int>& events) {
  for (int& e : events) {
    if (e >= 0) break;
    e = kMelodyNoEvent;
  }
}

struct MelodyConverterOptions {
  int min_pitch = 21, max_pitch = 108;
  std::vector<int> valid_programs;  // empty: all; cat-mel_2bar: 0..31
  int slice_bars = 2;               // 0: no slicing
  int steps_per_quarter = 4, quarters_per_bar = 4;
  int max_bars = 100;
  double gap_bars = 1.0;
  bool dedupe = true;
};

inline std::vector<int> mel_programs() {
  std::vector<int> p(32);
  for (int i = 0; i < 32; ++i) p[static_cast<std::size_t>(i)] = i;
  return p;
}

// OneHotMelodyConverter as the cat-mel_2bar configs build it: melody programs (0-31) only.
inline MelodyConverterOptions cat_mel_2bar_options() {
  MelodyConverterOptions o;
  o.valid_programs = mel_programs();
  return o;
}

namespace detail {
// Windows of `slice_steps` events every `hop` steps of each list (0: the lists whole), each
// passed through `clean`, then de-duplicated when asked (the first of equal windows kept).
template <class Clean>
std::vector<std::vector<int>> slice_and_dedupe(const std::vector<std::vector<int>>& lists, int slice_steps, int hop,
                                               bool dedupe, Clean clean) {
  std::vector<std::vector<int>> out;
  if (slice_steps <= 0) {
    out = lists;
  } else {
    for (const auto& l : lists)
      for (std::size_t i = 0; i + static_cast<std::size_t>(slice_steps) <= l.size(); i += static_cast<std::size_t>(hop))
        out.emplace_back(l.begin() + static_cast<std::ptrdiff_t>(i),
                         l.begin() + static_cast<std::ptrdiff_t>(i) + slice_steps);
  }
  for (auto& w : out) clean(w);
  if (!dedupe) return out;
  std::set<std::vector<int>> seen;
  std::vector<std::vector<int>> unique;
  for (auto& w : out)
    if (seen.insert(w).second) unique.push_back(std::move(w));
  return unique;
}

inline std::vector<std::vector<int>> slice_and_dedupe(const std::vector<std::vector<int>>& lists, int slice_steps,
                                                      int hop, bool dedupe) {
  return slice_and_dedupe(lists, slice_steps, hop, dedupe, [](std::vector<int>&) {});
}
}  // namespace detail

// OneHotMelodyConverter.to_tensors for one unquantized piece of constant tempo/meter
// (split_on_time_changes first): the melody event windows (not yet encoded). A piece
// that does not quantize, or has the wrong bar length, yields none.
inline std::vector<std::vector<int>> melody_windows(const NoteSequence& ns, const MelodyConverterOptions& o = {}) {
  NoteSequence f = ns;
  f.notes.clear();
  for (const auto& n : ns.notes) {
    if (!o.valid_programs.empty() &&
        std::find(o.valid_programs.begin(), o.valid_programs.end(), n.program) == o.valid_programs.end())
      continue;
    if (n.pitch < o.min_pitch || n.pitch > o.max_pitch) continue;
    f.notes.push_back(n);
  }
  NoteSequence q;
  try {
    q = quantize(f, o.steps_per_quarter);
  } catch (const fugue::error&) {
    return {};
  }
  const int spb = o.steps_per_quarter * o.quarters_per_bar;
  if (steps_per_bar_float(q) != spb) return {};
  MelodyExtractOptions eo;
  eo.gap_bars = o.gap_bars;
  eo.min_bars = 1;
  eo.max_steps_truncate = int64_t{spb} * o.max_bars;
  eo.min_unique_pitches = 1;
  eo.ignore_polyphonic_notes = true;
  eo.pad_end = true;
  std::vector<std::vector<int>> lists;
  for (auto& m : extract_melodies(q, eo)) lists.push_back(std::move(m.events));
  return detail::slice_and_dedupe(lists, o.slice_bars * spb, spb, o.dedupe, clear_leading_note_offs);
}

}  // namespace fugue::music
