// fugue/music.hpp — the symbolic-music module (fugue/music/) in one include (docs/music.md).
//
// Contract: includes every public header of fugue/music (NoteSequence, quantization, MIDI
// files, the MusicVAE / GrooVAE / multitrack / Music Transformer encodings, chords,
// piano rolls and PNGs, the MIDI-folder dataset). No other effect.
#pragma once

#include "fugue/music/chords.hpp"
#include "fugue/music/dataset.hpp"
#include "fugue/music/drums.hpp"
#include "fugue/music/groove.hpp"
#include "fugue/music/melody.hpp"
#include "fugue/music/melody_stats.hpp"
#include "fugue/music/midi.hpp"
#include "fugue/music/multitrack.hpp"
#include "fugue/music/note_sequence.hpp"
#include "fugue/music/performance.hpp"
#include "fugue/music/piano_roll.hpp"
#include "fugue/music/quantize.hpp"
#include "fugue/music/rng.hpp"
#include "fugue/music/trio.hpp"
