// fugue/music/piano_roll.hpp — a piano-roll view of a quantized NoteSequence, and a PNG
// rendering of it.
//
// Contract: piano_roll(qns, min_pitch, max_pitch) gives a [steps, pitches] grid (row-major,
// steps = total_quantized_steps) with `active` = velocity/127 while a note sounds (max over
// overlapping notes) and `onsets` = 1 at each note's first step; notes outside the pitch
// range are ignored. render_piano_roll_png draws time left to right, pitch bottom to top,
// `scale` pixels per cell: onsets dark red, sustains shaded by velocity, drum notes blue,
// a grey line every bar (steps_per_bar) and every C. piano_roll_image / render_piano_roll_png add
// (labels = true, the default) a pitch axis naming each C (C4 = MIDI 60) and the bar numbers.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "fugue/core/error.hpp"
#include "fugue/music/note_sequence.hpp"
#include "fugue/io/glyphs.hpp"
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

// The grid of render_piano_roll_rgb with, when `labels`, a pitch axis on the left (each C named,
// C4 = MIDI 60) and the bar numbers under the bar lines (1 = the first bar); labels that would
// overlap the previous one are left out.
inline io::RgbImage piano_roll_image(const PianoRoll& r, int scale = 4, int steps_per_bar = 16, bool labels = true) {
  uint32_t w = 0, h = 0;
  std::vector<uint8_t> grid = render_piano_roll_rgb(r, scale, steps_per_bar, w, h);
  const int left = labels ? io::text_width("C-1") + 5 : 0, bottom = labels ? 7 + 5 : 0;
  io::RgbImage img(w + uint32_t(left), h + uint32_t(bottom));
  for (uint32_t y = 0; y < h; ++y)
    std::copy_n(grid.data() + std::size_t(y) * w * 3, std::size_t(w) * 3, img.at(uint32_t(left), y));
  if (!labels) return img;
  const std::array<uint8_t, 3> ink{70, 70, 70};
  int last_bottom = -1000;
  for (int p = r.max_pitch; p >= r.min_pitch; --p) {
    if (p % 12 != 0) continue;
    const std::string name = "C" + std::to_string(p / 12 - 1);
    const int y = (r.max_pitch - p) * scale + scale / 2 - 3;
    if (y < last_bottom + 2) continue;
    io::draw_text(img, left - 3 - io::text_width(name), std::clamp(y, 0, int(h) - 7), name, ink);
    last_bottom = y + 7;
  }
  if (steps_per_bar > 0) {
    int last_right = -1000;
    for (int64_t t = 0; t < r.steps; t += steps_per_bar) {
      const std::string n = std::to_string(t / steps_per_bar + 1);
      const int x = left + int(t) * scale + 1;
      if (x < last_right + 4) continue;
      io::draw_text(img, x, int(h) + 3, n, ink);
      last_right = x + io::text_width(n);
    }
  }
  return img;
}

inline void render_piano_roll_png(const PianoRoll& r, const std::string& path, int scale = 4, int steps_per_bar = 16,
                                  bool labels = true) {
  io::write_png(path, piano_roll_image(r, scale, steps_per_bar, labels));
}

}  // namespace fugue::music
