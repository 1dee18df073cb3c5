// fugue/music/melody_stats.hpp — what a set of melody windows looks like, in four numbers.
//
// Contract: melody_stats(windows, steps_per_bar) over melody event lists (kMelodyNoEvent,
// kMelodyNoteOff or a pitch per step, as melody.hpp) returns means over the windows:
//  * notes_per_bar: note-ons per bar (a window of n steps has n / steps_per_bar bars);
//  * rest_fraction: steps where no note sounds (before the first note-on, and from a note-off
//    to the next note-on), over all steps;
//  * pitch_range: highest minus lowest note-on pitch, in semitones (windows with a note);
//  * in_key_fraction: the share of note-ons whose pitch class lies in the window's best-fitting
//    major scale (of the 12, the one holding the most of its note-ons; a minor key shares its
//    relative major's scale) (windows with a note);
// plus `windows` and `silent` (windows without a note-on). Used to compare prior samples with
// held-out data (docs/music_vae.md): samples that are sparse scraps show few notes per bar and
// a high rest fraction; random pitches show a low in-key fraction.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <vector>

#include "fugue/core/error.hpp"
#include "fugue/music/melody.hpp"

namespace fugue::music {

struct MelodyStats {
  double notes_per_bar = 0, rest_fraction = 0, pitch_range = 0, in_key_fraction = 0;
  std::size_t windows = 0, silent = 0;
};

inline MelodyStats melody_stats(const std::vector<std::vector<int>>& windows, int steps_per_bar = 16) {
  FUGUE_CHECK(steps_per_bar > 0, "melody_stats: steps_per_bar must be positive");
  constexpr std::array<int, 7> kMajor{0, 2, 4, 5, 7, 9, 11};
  MelodyStats s;
  s.windows = windows.size();
  double notes_per_bar = 0, rests = 0, steps = 0, range = 0, in_key = 0;
  for (const auto& w : windows) {
    FUGUE_CHECK(!w.empty(), "melody_stats: an empty window");
    int notes = 0, lo = 128, hi = -1;
    std::array<int, 12> pc{};
    bool sounding = false;
    for (int e : w) {
      FUGUE_CHECK(e >= kMelodyNoteOff - 1 && e <= 127, "melody_stats: event ", e, " is not a melody event");
      if (e >= 0) {
        ++notes;
        lo = std::min(lo, e);
        hi = std::max(hi, e);
        ++pc[static_cast<std::size_t>(e % 12)];
        sounding = true;
      } else if (e == kMelodyNoteOff) {
        sounding = false;
      }
      rests += sounding ? 0 : 1;
    }
    steps += double(w.size());
    notes_per_bar += notes / (double(w.size()) / steps_per_bar);
    if (notes == 0) {
      ++s.silent;
      continue;
    }
    range += hi - lo;
    int best = 0;
    for (int key = 0; key < 12; ++key) {
      int hits = 0;
      for (int d : kMajor) hits += pc[static_cast<std::size_t>((key + d) % 12)];
      best = std::max(best, hits);
    }
    in_key += double(best) / notes;
  }
  if (s.windows == 0) return s;
  const double voiced = double(s.windows - s.silent);
  s.notes_per_bar = notes_per_bar / double(s.windows);
  s.rest_fraction = rests / steps;
  s.pitch_range = voiced > 0 ? range / voiced : 0;
  s.in_key_fraction = voiced > 0 ? in_key / voiced : 0;
  return s;
}

}  // namespace fugue::music
