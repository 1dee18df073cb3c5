// fugue/music/note_sequence.hpp — the symbolic-music container every music header works on.
//
// Contract: a NoteSequence is plain data (no invariants enforced on construction) in
// note-seq's terms: notes with pitch 0-127, velocity 0-127, start/end in seconds, program
// 0-127, is_drum, and an `instrument` id (one per (track, channel, program) of a MIDI file);
// tempo, time-signature and key-signature events; chord-symbol annotations ("C", "Am7",
// "N.C."); MIDI control changes (kept for the sustain pedal). Once quantized
// (quantize.hpp), notes and events also carry integer steps and `quantization` says how
// (steps per quarter, or steps per second for absolute quantization).
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "fugue/core/error.hpp"

namespace fugue::music {

inline constexpr double kDefaultQpm = 120.0;
inline constexpr int kDefaultTicksPerQuarter = 220;  // note-seq's STANDARD_PPQ

struct Note {
  int pitch = 60;
  int velocity = 100;
  double start_time = 0.0;  // seconds
  double end_time = 0.0;    // seconds
  int program = 0;
  bool is_drum = false;
  int instrument = 0;
  // Filled by quantization; -1 before.
  int64_t quantized_start_step = -1;
  int64_t quantized_end_step = -1;
};

struct TempoChange {
  double time = 0.0;
  double qpm = kDefaultQpm;
};

struct TimeSignature {
  double time = 0.0;
  int numerator = 4;
  int denominator = 4;
};

// key: tonic pitch class 0-11 (0 = C); mode: 0 major, 1 minor.
struct KeySignature {
  double time = 0.0;
  int key = 0;
  int mode = 0;
};

struct ChordAnnotation {
  double time = 0.0;
  std::string figure;  // chord symbol; "N.C." = no chord
  int64_t quantized_step = -1;
};

struct ControlChange {
  double time = 0.0;
  int number = 0;
  int value = 0;
  int program = 0;
  bool is_drum = false;
  int instrument = 0;
  int64_t quantized_step = -1;
};

struct QuantizationInfo {
  int steps_per_quarter = 0;    // > 0 for metric quantization
  double steps_per_second = 0;  // > 0 for absolute quantization
};

struct NoteSequence {
  std::vector<Note> notes;
  std::vector<TempoChange> tempos;
  std::vector<TimeSignature> time_signatures;
  std::vector<KeySignature> key_signatures;
  std::vector<ChordAnnotation> chords;
  std::vector<ControlChange> control_changes;
  double total_time = 0.0;
  int ticks_per_quarter = kDefaultTicksPerQuarter;
  QuantizationInfo quantization;
  int64_t total_quantized_steps = -1;

  bool is_quantized() const { return quantization.steps_per_quarter > 0 || quantization.steps_per_second > 0; }
  bool is_metric_quantized() const { return quantization.steps_per_quarter > 0; }

  // Sets total_time to the latest note end (what MIDI readers report).
  void update_total_time() {
    double t = 0.0;
    for (const auto& n : notes) t = std::max(t, n.end_time);
    total_time = t;
  }
};

// Adds a note and keeps total_time up to date; returns it for chaining tweaks.
inline Note& add_note(NoteSequence& ns, int pitch, int velocity, double start, double end, int instrument = 0,
                      int program = 0, bool is_drum = false) {
  FUGUE_CHECK(pitch >= 0 && pitch <= 127, "note pitch ", pitch, " outside 0..127");
  FUGUE_CHECK(velocity >= 0 && velocity <= 127, "note velocity ", velocity, " outside 0..127");
  FUGUE_CHECK(end >= start && start >= 0.0, "note times must satisfy 0 <= start <= end, got ", start, ", ", end);
  Note n;
  n.pitch = pitch;
  n.velocity = velocity;
  n.start_time = start;
  n.end_time = end;
  n.instrument = instrument;
  n.program = program;
  n.is_drum = is_drum;
  ns.notes.push_back(n);
  ns.total_time = std::max(ns.total_time, end);
  return ns.notes.back();
}

// Transposes the non-drum notes by `semitones`; notes leaving [min_pitch, max_pitch] are
// deleted (note-seq's NoteSequenceAugmenter behaviour). Returns the number deleted.
inline std::size_t transpose(NoteSequence& ns, int semitones, int min_pitch = 0, int max_pitch = 127) {
  std::size_t before = ns.notes.size();
  std::vector<Note> kept;
  kept.reserve(before);
  for (auto n : ns.notes) {
    if (!n.is_drum) {
      n.pitch += semitones;
      if (n.pitch < min_pitch || n.pitch > max_pitch) continue;
    }
    kept.push_back(n);
  }
  ns.notes = std::move(kept);
  return before - ns.notes.size();
}

// Sorts notes by (start, pitch, end, instrument, velocity, program, is_drum): a total
// order on what a note holds, so two sequences with the same notes compare equal.
inline void sort_notes(NoteSequence& ns) {
  std::stable_sort(ns.notes.begin(), ns.notes.end(), [](const Note& a, const Note& b) {
    return std::tie(a.start_time, a.pitch, a.end_time, a.instrument, a.velocity, a.program, a.is_drum) <
           std::tie(b.start_time, b.pitch, b.end_time, b.instrument, b.velocity, b.program, b.is_drum);
  });
}

}  // namespace fugue::music
