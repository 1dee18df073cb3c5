// fugue/music/performance.hpp — performance events (note-on/off, time shift, velocity)
// and the Music Transformer 310-id vocabulary.
//
// Contract (note-seq Performance / PerformanceOneHotEncoding semantics):
//  * extract_performance(qns, ...) on a quantized sequence (metric or absolute): notes
//    sorted by (start time, pitch); their onsets and offsets merged by (step, note index,
//    onset first); time advances by TIME_SHIFT events of at most max_shift_steps; a
//    VELOCITY event precedes a NOTE_ON whenever the velocity bin changes (the first note
//    always gets one when velocity bins are used).
//  * velocity bin = (v - 1) / ceil(127 / bins) + 1; decoded velocity = 1 + (bin-1)*size.
//  * PerformanceVocab lays events out as [NOTE_ON min..max][NOTE_OFF min..max]
//    [TIME_SHIFT 1..max_shift][VELOCITY 1..bins], plus `reserved` leading ids.
//    music_transformer_vocab(): pitches 21..108, 100 shifts of 10 ms, 32 bins, 2 reserved
//    (0 PAD, 1 EOS) -> 310 ids. encode_music_transformer(ns) quantizes at 100 steps/s.
//  * performance_to_sequence inverts events back to notes (unclosed notes end at the end).
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <tuple>
#include <vector>

#include "fugue/core/error.hpp"
#include "fugue/music/note_sequence.hpp"
#include "fugue/music/quantize.hpp"

namespace fugue::music {

enum class PerfType : int { NoteOn = 1, NoteOff = 2, TimeShift = 3, Velocity = 4 };

struct PerfEvent {
  PerfType type;
  int value;
  bool operator==(const PerfEvent&) const = default;
};

inline int velocity_bin_size(int num_bins) { return (127 + num_bins - 1) / num_bins; }
inline int velocity_to_bin(int velocity, int num_bins) {
  FUGUE_CHECK(velocity >= 1 && velocity <= 127, "velocity ", velocity, " outside 1..127");
  return (velocity - 1) / velocity_bin_size(num_bins) + 1;
}
inline int bin_to_velocity(int bin, int num_bins) { return 1 + (bin - 1) * velocity_bin_size(num_bins); }

struct PerformanceOptions {
  int num_velocity_bins = 0;  // 0: no velocity events
  int max_shift_steps = 100;
  int64_t start_step = 0;
  int instrument = -1;  // -1: all instruments
};

inline std::vector<PerfEvent> extract_performance(const NoteSequence& qns, const PerformanceOptions& o = {}) {
  FUGUE_CHECK(qns.is_quantized(), "extract_performance needs a quantized sequence");
  FUGUE_CHECK(o.max_shift_steps > 0, "max_shift_steps must be positive");
  std::vector<const Note*> notes;
  for (const auto& n : qns.notes)
    if (n.quantized_start_step >= o.start_step && (o.instrument < 0 || n.instrument == o.instrument))
      notes.push_back(&n);
  std::stable_sort(notes.begin(), notes.end(), [](const Note* a, const Note* b) {
    return std::tie(a->start_time, a->pitch) < std::tie(b->start_time, b->pitch);
  });
  std::vector<std::tuple<int64_t, std::size_t, bool>> marks;
  marks.reserve(notes.size() * 2);
  for (std::size_t i = 0; i < notes.size(); ++i) {
    marks.emplace_back(notes[i]->quantized_start_step, i, false);
    marks.emplace_back(notes[i]->quantized_end_step, i, true);
  }
  std::sort(marks.begin(), marks.end());
  std::vector<PerfEvent> ev;
  int64_t cur = o.start_step;
  int cur_bin = 0;
  for (auto [step, idx, off] : marks) {
    if (step > cur) {
      while (step > cur + o.max_shift_steps) {
        ev.push_back({PerfType::TimeShift, o.max_shift_steps});
        cur += o.max_shift_steps;
      }
      ev.push_back({PerfType::TimeShift, static_cast<int>(step - cur)});
      cur = step;
    }
    if (o.num_velocity_bins && !off) {
      int bin = velocity_to_bin(std::max(1, notes[idx]->velocity), o.num_velocity_bins);
      if (bin != cur_bin) {
        cur_bin = bin;
        ev.push_back({PerfType::Velocity, bin});
      }
    }
    ev.push_back({off ? PerfType::NoteOff : PerfType::NoteOn, notes[idx]->pitch});
  }
  return ev;
}

// Events -> notes. `seconds_per_step` converts steps; unmatched note-offs are ignored.
inline NoteSequence performance_to_sequence(const std::vector<PerfEvent>& events, double seconds_per_step,
                                            int num_velocity_bins, int instrument = 0, int program = 0,
                                            bool is_drum = false, int default_velocity = 64) {
  NoteSequence ns;
  int64_t step = 0;
  int velocity = default_velocity;
  std::map<int, std::vector<std::pair<int64_t, int>>> open;
  for (const auto& e : events) {
    switch (e.type) {
      case PerfType::NoteOn:
        FUGUE_CHECK(e.value >= 0 && e.value < 128, "pitch ", e.value, " outside 0..127");
        open[e.value].push_back({step, velocity});
        break;
      case PerfType::NoteOff: {
        auto it = open.find(e.value);
        if (it == open.end() || it->second.empty()) break;
        auto [s, v] = it->second.front();
        it->second.erase(it->second.begin());
        // a zero-length note lasts one step, as quantization would have made it
        add_note(ns, e.value, v, s * seconds_per_step, std::max(step, s + 1) * seconds_per_step, instrument, program,
                 is_drum);
        break;
      }
      case PerfType::TimeShift:
        FUGUE_CHECK(e.value > 0, "time shift must be positive");
        step += e.value;
        break;
      case PerfType::Velocity:
        FUGUE_CHECK(num_velocity_bins > 0 && e.value >= 1 && e.value <= num_velocity_bins, "velocity bin ", e.value,
                    " outside 1..", num_velocity_bins);
        velocity = bin_to_velocity(e.value, num_velocity_bins);
        break;
    }
  }
  for (auto& [p, list] : open)
    for (auto [s, v] : list)
      add_note(ns, p, v, s * seconds_per_step, std::max(step, s + 1) * seconds_per_step, instrument, program, is_drum);
  ns.total_time = std::max(ns.total_time, step * seconds_per_step);
  sort_notes(ns);
  return ns;
}

// One-hot layout of performance events, with `reserved` ids before it.
struct PerformanceVocab {
  int min_pitch = 0, max_pitch = 127;
  int max_shift_steps = 100;
  int num_velocity_bins = 0;
  int reserved = 0;

  int num_pitches() const { return max_pitch - min_pitch + 1; }
  int size() const { return reserved + 2 * num_pitches() + max_shift_steps + num_velocity_bins; }
  int encode(const PerfEvent& e) const {
    int np = num_pitches();
    switch (e.type) {
      case PerfType::NoteOn:
        FUGUE_CHECK(e.value >= min_pitch && e.value <= max_pitch, "note-on pitch ", e.value, " outside vocabulary");
        return reserved + e.value - min_pitch;
      case PerfType::NoteOff:
        FUGUE_CHECK(e.value >= min_pitch && e.value <= max_pitch, "note-off pitch ", e.value, " outside vocabulary");
        return reserved + np + e.value - min_pitch;
      case PerfType::TimeShift:
        FUGUE_CHECK(e.value >= 1 && e.value <= max_shift_steps, "time shift ", e.value, " outside vocabulary");
        return reserved + 2 * np + e.value - 1;
      case PerfType::Velocity:
        FUGUE_CHECK(e.value >= 1 && e.value <= num_velocity_bins, "velocity bin ", e.value, " outside vocabulary");
        return reserved + 2 * np + max_shift_steps + e.value - 1;
    }
    FUGUE_FAIL("unknown performance event type");
  }
  PerfEvent decode(int id) const {
    int np = num_pitches();
    FUGUE_CHECK(id >= reserved && id < size(), "performance id ", id, " outside [", reserved, ", ", size(), ")");
    int i = id - reserved;
    if (i < np) return {PerfType::NoteOn, min_pitch + i};
    if ((i -= np) < np) return {PerfType::NoteOff, min_pitch + i};
    if ((i -= np) < max_shift_steps) return {PerfType::TimeShift, i + 1};
    return {PerfType::Velocity, i - max_shift_steps + 1};
  }
};

inline PerformanceVocab music_transformer_vocab() { return PerformanceVocab{21, 108, 100, 32, 2}; }
inline constexpr int kMusicTransformerSteps = 100;  // steps per second
inline constexpr int32_t kPadId = 0, kEosId = 1;

// Music Transformer (score2perf) target ids for a NoteSequence: absolute quantization at
// 100 steps/s, 32 velocity bins, pitches 21..108 (others are dropped first).
inline std::vector<int32_t> encode_music_transformer(const NoteSequence& ns, bool add_eos = false) {
  auto vocab = music_transformer_vocab();
  NoteSequence f = ns;
  f.notes.clear();
  for (const auto& n : ns.notes)
    if (n.pitch >= vocab.min_pitch && n.pitch <= vocab.max_pitch) f.notes.push_back(n);
  auto q = quantize_absolute(f, kMusicTransformerSteps);
  PerformanceOptions o;
  o.num_velocity_bins = vocab.num_velocity_bins;
  o.max_shift_steps = vocab.max_shift_steps;
  std::vector<int32_t> ids;
  for (const auto& e : extract_performance(q, o)) ids.push_back(vocab.encode(e));
  if (add_eos) ids.push_back(kEosId);
  return ids;
}

inline NoteSequence decode_music_transformer(const std::vector<int32_t>& ids) {
  auto vocab = music_transformer_vocab();
  std::vector<PerfEvent> ev;
  for (int32_t id : ids) {
    if (id == kEosId) break;
    if (id == kPadId) continue;
    ev.push_back(vocab.decode(id));
  }
  return performance_to_sequence(ev, 1.0 / kMusicTransformerSteps, vocab.num_velocity_bins);
}

}  // namespace fugue::music
