// libFuzzer target for fugue/music's MIDI reader and what runs on its output.
// Contract checked: any byte string either parses or throws fugue::error (nothing else,
// no crash, bounded time/memory); a parsed file survives write -> read with the same
// number of notes; the MusicVAE (melody, drums, trio, groove, multitrack) and Music
// Transformer extractors accept whatever parses.
#include <cstdint>
#include <cstdlib>
#include <span>

#include "fugue/core/error.hpp"
#include "fugue/music/drums.hpp"
#include "fugue/music/groove.hpp"
#include "fugue/music/melody.hpp"
#include "fugue/music/midi.hpp"
#include "fugue/music/multitrack.hpp"
#include "fugue/music/performance.hpp"
#include "fugue/music/quantize.hpp"
#include "fugue/music/trio.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fugue::music;
  NoteSequence ns;
  try {
    ns = read_midi(std::span<const uint8_t>(data, size));
  } catch (const fugue::error&) {
    return 0;
  }
  try {
    auto again = read_midi(write_midi(ns));
    if (again.notes.size() != ns.notes.size()) std::abort();  // writer/reader disagree
  } catch (const fugue::error&) {
    // e.g. times too far out to write as 4-byte deltas: refused, not crashed
  }
  try {
    int pieces = 0;
    for (const auto& piece : split_on_time_changes(ns)) {
      (void)melody_windows(piece);
      (void)drum_windows(piece);
      (void)trio_windows(piece);
      if (++pieces == 8) break;
    }
  } catch (const fugue::error&) {
  }
  try {
    (void)encode_music_transformer(ns);
  } catch (const fugue::error&) {
  }
  try {
    (void)groove_windows(ns);
    (void)multitrack_measures(ns);
  } catch (const fugue::error&) {
  }
  return 0;
}
