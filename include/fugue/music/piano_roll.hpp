// fugue/music/piano_roll.hpp — a piano-roll view of a quantized NoteSequence, and a PNG
// rendering of it.
//
// Contract: piano_roll(qns, min_pitch, max_pitch) gives a [steps, pitches] grid (row-major,
// steps = total_quantized_steps) with `active` = velocity/127 while a note sounds (max over
// overlapping notes) and `onsets` = 1 at each note's first step; notes outside the pitch
// range are ignored. render_piano_roll_png draws time left to right, pitch bottom to top,
// `scale` pixels per cell: onsets dark red, sustains shaded by velocity, drum notes blue,
// a grey line every bar (steps_per_bar) and every C.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "fugue/core/error.hpp"
#include "fugue/music/note_sequence.hpp"
#include "fugue/io/png.hpp"

namespace fugue::music {

struct PianoRoll {
  int64_t steps = 0;
  int min_pitch = 0, max_pitch = 127;
  std::vector<float> active;    // [steps * pitches]
  std::vector<uint8_t> onsets;  // [steps * pitches]
  std::vector<uint8_t> drums;   // [steps * pitches], 1 where a drum note sounds
  int pitches() const { return max_pitch - min_pitch + 1; }
  std::size_t at(int64_t t, int p) const { return static_cast<std::size_t>(t) * pitches() + (p - min_pitch); }
};

inline PianoRoll piano_roll(const NoteSequence& qns, int min_pitch = 0, int max_pitch = 127,
                            int64_t max_steps = int64_t{1} << 22) {
  FUGUE_CHECK(qns.is_quantized(), "piano_roll needs a quantized sequence");
  FUGUE_CHECK(0 <= min_pitch && min_pitch <= max_pitch && max_pitch <= 127, "bad piano-roll pitch range");
  PianoRoll r;
  r.min_pitch = min_pitch;
  r.max_pitch = max_pitch;
  r.steps = std::max<int64_t>(qns.total_quantized_steps, 0);
  for (const auto& n : qns.notes) r.steps = std::max(r.steps, n.quantized_end_step);
  FUGUE_CHECK(r.steps <= max_steps, "piano roll of ", r.steps, " steps exceeds ", max_steps);
  std::size_t cells = static_cast<std::size_t>(r.steps) * r.pitches();
  r.active.assign(cells, 0.0f);
  r.onsets.assign(cells, 0);
  r.drums.assign(cells, 0);
  for (const auto& n : qns.notes) {
    if (n.pitch < min_pitch || n.pitch > max_pitch) continue;
    for (int64_t t = n.quantized_start_step; t < n.quantized_end_step; ++t) {
      auto i = r.at(t, n.pitch);
      r.active[i] = std::max(r.active[i], n.velocity / 127.0f);
      if (n.is_drum) r.drums[i] = 1;
    }
    if (n.quantized_start_step < n.quantized_end_step) r.onsets[r.at(n.quantized_start_step, n.pitch)] = 1;
  }
  return r;
}

inline std::vector<uint8_t> render_piano_roll_rgb(const PianoRoll& r, int scale, int steps_per_bar, uint32_t& w,
                                                  uint32_t& h) {
  FUGUE_CHECK(scale >= 1 && scale <= 16 && r.steps > 0, "bad piano-roll rendering arguments");
  w = static_cast<uint32_t>(r.steps * scale);
  h = static_cast<uint32_t>(r.pitches() * scale);
  std::vector<uint8_t> rgb(std::size_t{w} * h * 3, 255);
  for (int64_t t = 0; t < r.steps; ++t)
    for (int p = r.min_pitch; p <= r.max_pitch; ++p) {
      auto i = r.at(t, p);
      uint8_t c[3] = {255, 255, 255};
      if (r.active[i] > 0) {
        auto shade = static_cast<uint8_t>(230 - 150 * r.active[i]);
        if (r.drums[i])
          c[0] = c[1] = shade, c[2] = 230;
        else
          c[0] = 240, c[1] = c[2] = shade;
        if (r.onsets[i]) r.drums[i] ? (c[0] = 0, c[1] = 0, c[2] = 140) : (c[0] = 140, c[1] = 0, c[2] = 0);
      } else if ((steps_per_bar > 0 && t % steps_per_bar == 0) || p % 12 == 0) {
        c[0] = c[1] = c[2] = 215;
      }
      int y0 = (r.max_pitch - p) * scale, x0 = static_cast<int>(t) * scale;
      for (int y = y0; y < y0 + scale; ++y)
        for (int x = x0; x < x0 + scale; ++x) {
          auto o = (std::size_t(y) * w + std::size_t(x)) * 3;
          rgb[o] = c[0], rgb[o + 1] = c[1], rgb[o + 2] = c[2];
        }
    }
  return rgb;
}

inline void render_piano_roll_png(const PianoRoll& r, const std::string& path, int scale = 4, int steps_per_bar = 16) {
  uint32_t w = 0, h = 0;
  auto rgb = render_piano_roll_rgb(r, scale, steps_per_bar, w, h);
  io::write_png_rgb(path, w, h, rgb);
}

}  // namespace fugue::music
