// The model encodings: melody, drums, trio, chords, GrooVAE, multitrack, Music Transformer,
// piano roll and PNG. Expected values are the specs' worked examples, or worked out by hand
// from the rules in the headers' contracts (each case says which).
#include <catch2/catch.hpp>

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <fstream>
#include <iterator>

#include "fugue/music/chords.hpp"
#include "fugue/music/drums.hpp"
#include "fugue/music/groove.hpp"
#include "fugue/music/melody.hpp"
#include "fugue/music/melody_stats.hpp"
#include "fugue/music/multitrack.hpp"
#include "fugue/music/performance.hpp"
#include "fugue/music/piano_roll.hpp"
#include "fugue/io/png.hpp"
#include "fugue/music/trio.hpp"

using namespace fugue::music;

namespace {
constexpr double kStep = 0.125;  // one 16th at 120 qpm
Note& note_at(NoteSequence& ns, int pitch, int s, int e, int inst = 0, int program = 0, bool drum = false,
              int vel = 100) {
  return add_note(ns, pitch, vel, s * kStep, e * kStep, inst, program, drum);
}
}  // namespace

TEST_CASE("melody one-hot: spec class layout", "[music][melody]") {
  MelodyOneHot enc;
  CHECK(enc.num_classes() == 90);
  CHECK(enc.encode(kMelodyNoEvent) == 0);
  CHECK(enc.encode(kMelodyNoteOff) == 1);
  CHECK(enc.encode(21) == 2);
  CHECK(enc.encode(60) == 41);
  CHECK(enc.encode(108) == 89);
  for (int i = 0; i < 90; ++i) CHECK(enc.encode(enc.decode(i)) == i);
  CHECK_THROWS_AS(enc.encode(20), fugue::error);
  CHECK_THROWS_AS(enc.decode(90), fugue::error);
  auto oh = one_hot({0, 41, 89}, 90);
  CHECK(oh.size() == 270);
  CHECK(oh[0] == 1.0f);
  CHECK(oh[90 + 41] == 1.0f);
  CHECK(oh[180 + 89] == 1.0f);
}

TEST_CASE("melody extraction: polyphony, gaps, padding and filtering (hand-worked)", "[music][melody]") {
  NoteSequence ns;
  note_at(ns, 60, 2, 6);
  note_at(ns, 62, 6, 10);  // same onset as 67: the higher pitch wins
  note_at(ns, 67, 6, 10);
  note_at(ns, 64, 12, 20);
  note_at(ns, 110, 24, 28);  // outside 21..108: dropped before extraction
  note_at(ns, 65, 40, 44);   // 20 steps after the last note-off: a new melody
  auto q = quantize(ns, 4);
  // Unfiltered, the out-of-range 110 bridges the gap, so there is only one melody.
  CHECK(extract_melodies(q).size() == 1);
  auto windows = melody_windows(ns);
  REQUIRE(windows.size() == 1);
  std::vector<int> want(32, kMelodyNoEvent);
  want[2] = 60;
  want[6] = 67;
  want[10] = kMelodyNoteOff;
  want[12] = 64;
  want[20] = kMelodyNoteOff;  // re-added when padding ended the held note
  CHECK(windows[0] == want);
  MelodyOneHot enc;
  auto ids = enc.encode(windows[0]);
  CHECK(ids[2] == 41);
  CHECK(ids[6] == 48);
  CHECK(ids[12] == 45);

  // The second melody is one bar (65 at bar-relative step 8): too short for a 2-bar window,
  // but present unsliced.
  MelodyConverterOptions unsliced;
  unsliced.slice_bars = 0;
  auto lists = melody_windows(ns, unsliced);
  REQUIRE(lists.size() == 2);
  CHECK(lists[1].size() == 16);
  CHECK(lists[1][8] == 65);
  CHECK(lists[1][12] == kMelodyNoteOff);

  // Decoding gives the monophonic notes back.
  auto dec = melody_to_sequence(windows[0]);
  REQUIRE(dec.notes.size() == 3);
  CHECK(dec.notes[1].pitch == 67);
  CHECK(dec.notes[1].start_time == Approx(6 * kStep));
  CHECK(dec.notes[1].end_time == Approx(10 * kStep));
  CHECK(dec.notes[2].end_time == Approx(20 * kStep));
}

TEST_CASE("melody windows: one-bar hop, dedupe, programs, wrong meter", "[music][melody]") {
  NoteSequence ns;
  for (int bar = 0; bar < 4; ++bar) note_at(ns, 60, bar * 16, bar * 16 + 8);  // identical bars
  auto w = melody_windows(ns);
  CHECK(w.size() == 1);  // 3 windows at hops 0,16,32 are all the same
  MelodyConverterOptions keep;
  keep.dedupe = false;
  CHECK(melody_windows(ns, keep).size() == 3);
  MelodyConverterOptions mel;
  mel.valid_programs = mel_programs();
  for (auto& n : ns.notes) n.program = 40;  // strings: not a cat-mel program
  CHECK(melody_windows(ns, mel).empty());
  auto waltz = ns;
  waltz.time_signatures = {{0.0, 3, 4}};
  CHECK(melody_windows(waltz).empty());
}

TEST_CASE("drums: spec bitmask examples and roll input", "[music][drums]") {
  NoteSequence ns;
  note_at(ns, 35, 0, 1, 9, 0, true);
  note_at(ns, 44, 0, 1, 9, 0, true);  // kick + closed hh -> 1 + 4 = 5
  note_at(ns, 55, 4, 5, 9, 0, true);
  note_at(ns, 60, 4, 5, 9, 0, true);    // crash + mid tom -> 128 + 32 = 160
  note_at(ns, 53, 8, 9, 9, 0, true);    // ride -> 256
  note_at(ns, 40, 12, 13, 9, 0, true);  // snare -> 2
  note_at(ns, 36, 16, 17, 9, 0, true);
  note_at(ns, 60, 2, 3, 0, 0, false);  // not a drum: ignored
  note_at(ns, 90, 6, 7, 9, 0, true);   // unmapped drum pitch: ignored
  auto w = drum_windows(ns);
  REQUIRE(w.size() == 1);
  auto ids = drums_to_ids(w[0]);
  REQUIRE(ids.size() == 32);
  CHECK(ids[0] == 5);
  CHECK(ids[4] == 160);
  CHECK(ids[8] == 256);
  CHECK(ids[12] == 2);
  CHECK(ids[16] == 1);
  CHECK(ids[2] == 0);
  CHECK(ids[6] == 0);
  auto roll = drums_to_roll(w[0]);
  REQUIRE(roll.size() == 320);
  std::vector<float> empty(roll.begin() + 10, roll.begin() + 20);
  CHECK(empty == std::vector<float>{0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
  std::vector<float> step0(roll.begin(), roll.begin() + 10);
  CHECK(step0 == std::vector<float>{1, 0, 1, 0, 0, 0, 0, 0, 0, 0});
  auto back = drums_to_sequence(w[0]);
  CHECK(back.notes.size() == 7);
  CHECK(back.notes[0].pitch == 36);  // class 0 decodes to its first pitch
}

TEST_CASE("drums: a gap of one bar of empty steps ends the track", "[music][drums]") {
  NoteSequence a;
  note_at(a, 36, 0, 1, 9, 0, true);
  note_at(a, 36, 17, 18, 9, 0, true);  // 16 empty steps (1..16) in between
  auto qa = quantize(a, 4);
  CHECK(extract_drum_tracks(qa).size() == 2);
  NoteSequence b;
  note_at(b, 36, 0, 1, 9, 0, true);
  note_at(b, 36, 16, 17, 9, 0, true);  // 15 empty steps: same track
  auto qb = quantize(b, 4);
  auto tb = extract_drum_tracks(qb);
  REQUIRE(tb.size() == 1);
  CHECK(tb[0].size() == 32);
}

TEST_CASE("trio: 16-bar windows of 90 + 90 + 512 classes", "[music][trio]") {
  NoteSequence ns;
  for (int q = 0; q < 64; ++q) {  // 16 bars of quarters
    note_at(ns, 72 + (q % 5), q * 4, q * 4 + 3, 0, 0);
    note_at(ns, 36 + (q % 3), q * 4, q * 4 + 4, 1, 33);
    note_at(ns, q % 2 ? 38 : 36, q * 4, q * 4 + 1, 2, 0, true);
  }
  auto w = trio_windows(ns);
  REQUIRE(w.size() == 1);
  CHECK(w[0].melody.size() == 256);
  auto oh = trio_one_hot(w[0]);
  CHECK(oh.size() == 256 * 692);
  CHECK(kTrioDepth == 692);
  for (int t = 0; t < 256; ++t) {
    float sum = 0;
    for (int k = 0; k < 692; ++k) sum += oh[std::size_t(t) * 692 + k];
    CHECK(sum == 3.0f);
  }
  CHECK(w[0].melody[0] == 72 - 21 + 2);
  CHECK(w[0].bass[4] == 37 - 21 + 2);
  CHECK(w[0].drums[4] == 2);  // snare on the second quarter
  auto dec = trio_to_sequence(w[0]);
  int bass = 0, drums = 0;
  for (const auto& n : dec.notes) {
    bass += n.program == 33;
    drums += n.is_drum;
  }
  CHECK(bass == 64);
  CHECK(drums == 64);
  // Without a bass part there is no trio.
  NoteSequence no_bass;
  for (const auto& n : ns.notes)
    if (n.program != 33) no_bass.notes.push_back(n);
  no_bass.update_total_time();
  CHECK(trio_windows(no_bass).empty());
}

TEST_CASE("chords: triad classes and parsing", "[music][chords]") {
  CHECK(TriadChords::num_classes == 49);
  CHECK(TriadChords::encode("N.C.") == 0);
  CHECK(TriadChords::encode("C") == 1);
  CHECK(TriadChords::encode("B") == 12);
  CHECK(TriadChords::encode("Am") == 22);
  CHECK(TriadChords::encode("Cm") == 13);
  CHECK(TriadChords::encode("Bbaug") == 35);
  CHECK(TriadChords::encode("F#dim") == 43);
  CHECK(TriadChords::encode("G7") == 8);
  CHECK(TriadChords::encode("Dm7/C") == 15);
  CHECK(TriadChords::encode("Bm7b5") == 48);
  CHECK(TriadChords::encode("Ebmaj7") == 4);
  CHECK_THROWS_AS(TriadChords::encode("Csus4"), fugue::error);
  CHECK_THROWS_AS(TriadChords::encode("H"), fugue::error);
  for (int k = 0; k < 49; ++k) CHECK(TriadChords::encode(TriadChords::decode(k)) == k);
}

TEST_CASE("chords: inference recovers an arpeggiated progression and feeds chords_per_step", "[music][chords]") {
  NoteSequence ns;
  const int prog[4][3] = {{60, 64, 67}, {57, 60, 64}, {65, 69, 72}, {67, 71, 74}};  // C Am F G
  for (int bar = 0; bar < 4; ++bar)
    for (int i = 0; i < 8; ++i) note_at(ns, prog[bar][i % 3], bar * 16 + i * 2, bar * 16 + i * 2 + 2);
  auto q = quantize(ns, 4);
  auto path = infer_chords(q);
  CHECK(path == std::vector<int>{1, 22, 6, 8});
  auto per_step = chords_per_step(q, 64);
  CHECK(per_step[0] == 1);
  CHECK(per_step[16] == 22);
  CHECK(per_step[63] == 8);
}

TEST_CASE("groove: 27 values per step, offsets, shapes (spec checks 1 and 3)", "[music][groove]") {
  NoteSequence ns;
  ns.tempos = {{0.0, 120.0}};
  add_note(ns, 36, 127, 0.0, 0.1, 9, 0, true);
  add_note(ns, 42, 64, 0.26125, 0.3, 9, 0, true);  // step 2, played late
  add_note(ns, 44, 100, 0.24, 0.3, 9, 0, true);    // same class & step, louder: kept
  add_note(ns, 38, 80, 3.9, 4.0, 9, 0, true);      // step 31 (3.9 / 0.125 = 31.2)
  auto w = groove_windows(ns);
  REQUIRE(w.size() == 1);
  REQUIRE(w[0].size() == 32 * 27);
  const float* s2 = &w[0][2 * 27];
  CHECK(s2[2] == 1.0f);
  CHECK(s2[9 + 2] == Approx(100 / 127.0f));
  CHECK(s2[18 + 2] == Approx(2 * (0.25 - 0.24) / 0.125));  // early -> positive
  // the quieter 42 alone would have given the spec's -0.18
  NoteSequence late;
  add_note(late, 42, 64, 0.26125, 0.3, 9, 0, true);
  CHECK(groove_windows(late)[0][2 * 27 + 18 + 2] == Approx(-0.18f));
  GrooveOptions one_bar;
  one_bar.split_bars = 1;
  auto w1 = groove_windows(ns, one_bar);
  REQUIRE(w1.size() == 2);
  CHECK(w1[1].size() == 16 * 27);
  CHECK(w1[1][15 * 27 + 1] == 1.0f);  // the snare at step 31
  auto two_tempos = ns;
  two_tempos.tempos.push_back({1.0, 90.0});
  CHECK(groove_windows(two_tempos).empty());
}

TEST_CASE("groove: round trip within 5 ms and 4 velocity steps (spec check 2)", "[music][groove]") {
  NoteSequence ns;
  const int pitches[] = {36, 38, 42, 46, 43, 47, 50, 49, 51};  // one per Roland class, first pitch
  for (int i = 0; i < 24; ++i)
    add_note(ns, pitches[i % 9], 20 + 4 * i, 0.05 + i * 0.16 + 0.011 * ((i % 5) - 2), 0.1 + i * 0.16, 9, 0, true);
  auto w = groove_windows(ns);
  REQUIRE(w.size() == 1);
  auto back = groove_to_sequence(w[0], 120.0, roland_drum_map());
  auto orig = ns;
  sort_notes(orig);
  REQUIRE(back.notes.size() == orig.notes.size());
  for (std::size_t i = 0; i < orig.notes.size(); ++i) {
    CHECK(back.notes[i].pitch == orig.notes[i].pitch);
    CHECK(std::fabs(back.notes[i].start_time - orig.notes[i].start_time) < 0.005);
    CHECK(std::abs(back.notes[i].velocity - orig.notes[i].velocity) <= 4);
  }
}

TEST_CASE("groove: humanize, tapify, fixed velocity, add instrument, dropout", "[music][groove]") {
  NoteSequence ns;
  add_note(ns, 36, 100, 0.01, 0.1, 9, 0, true);       // step 0 kick, loud
  add_note(ns, 42, 40, -0.0 + 0.0, 0.1, 9, 0, true);  // step 0 hat, quiet
  add_note(ns, 38, 90, 0.49, 0.6, 9, 0, true);        // step 4 snare
  auto x = groove_windows(ns)[0];
  GrooveTransforms hum;
  hum.humanize = true;
  auto h = groove_transform_input(x, hum);
  for (std::size_t s = 0; s < 32; ++s)
    for (int k = 0; k < 9; ++k) {
      CHECK(h[s * 27 + k] == x[s * 27 + k]);
      CHECK(h[s * 27 + 9 + k] == 0.0f);
      CHECK(h[s * 27 + 18 + k] == 0.0f);
    }
  GrooveTransforms tap;
  tap.tapify = true;
  auto t = groove_transform_input(x, tap);
  CHECK(t[0 * 27 + 3] == 1.0f);                      // step 0 collapsed onto open hi-hat
  CHECK(t[0 * 27 + 9 + 3] == Approx(100 / 127.0f));  // with the loudest (kick) velocity
  CHECK(t[0 * 27 + 18 + 3] == x[0 * 27 + 18 + 0]);   // and its offset
  CHECK(t[0 * 27 + 0] == 0.0f);
  CHECK(t[0 * 27 + 2] == 0.0f);
  CHECK(t[4 * 27 + 3] == 1.0f);
  CHECK(t[1 * 27 + 3] == 0.0f);  // empty step stays empty
  GrooveTransforms add;
  add.add_instruments = {2};
  auto a = groove_transform_input(x, add);
  CHECK(a[2] == 0.0f);
  CHECK(a[0] == 1.0f);
  GrooveTransforms drop;
  drop.max_note_dropout = 1.0;
  SplitMix64 rng(7);
  int kept = 0, total = 0;
  for (int rep = 0; rep < 200; ++rep) {
    auto d = groove_transform_input(x, drop, &rng);
    for (int s : {0, 4})
      for (int k = 0; k < 9; ++k)
        if (x[s * 27 + k] > 0) ++total, kept += d[s * 27 + k] > 0;
  }
  CHECK(kept > 0);
  CHECK(kept < total);
  CHECK_THROWS_AS(groove_transform_input(x, drop, nullptr), fugue::error);
}

TEST_CASE("multitrack: 490-token vocabulary (spec check 2)", "[music][multitrack]") {
  auto v = multitrack_vocab();
  CHECK(v.size() == 360);
  CHECK(v.encode({PerfType::NoteOn, 60}) == 60);
  CHECK(v.encode({PerfType::NoteOff, 60}) == 188);
  CHECK(v.encode({PerfType::TimeShift, 24}) == 279);
  CHECK(v.encode({PerfType::TimeShift, 96}) == 351);
  CHECK(velocity_to_bin(100, 8) == 7);
  CHECK(v.encode({PerfType::Velocity, 7}) == 358);
  CHECK(kMultitrackProgramBase + 0 == 360);
  CHECK(kMultitrackProgramBase + 33 == 393);
  CHECK(kMultitrackDrumToken == 488);
  CHECK(kMultitrackEnd == 489);
  CHECK(kMultitrackDepth == 490);
  for (int id = 0; id < 360; ++id) CHECK(v.encode(v.decode(id)) == id);
}

TEST_CASE("multitrack: a measure encodes to [8 x 64] tokens and decodes back", "[music][multitrack]") {
  NoteSequence ns;
  const double q = 0.5;  // quarter at 120 qpm
  for (int i = 0; i < 4; ++i) {
    add_note(ns, 60 + 2 * i, 100, i * q, i * q + q, 0, 0);
    add_note(ns, 36, 90, i * q, i * q + 0.25, 1, 33);
    add_note(ns, 38, 120, i * q + 0.25, i * q + 0.3, 2, 0, true);
  }
  add_note(ns, 72, 50, 1.75, 2.5, 0, 0);  // runs into bar 2: clipped at the bar line
  auto measures = multitrack_measures(ns);
  REQUIRE(measures.size() == 1);  // bar 2 has no onsets (the tied note is clipped), so no tracks
  const auto& m = measures[0];
  REQUIRE(m.tokens.size() == 512);
  REQUIRE(m.lengths.size() == 8);
  CHECK(m.tokens[0] == 360);    // piano first (sorted by is_drum, program)
  CHECK(m.tokens[64] == 393);   // bass
  CHECK(m.tokens[128] == 488);  // drums last
  CHECK(m.tokens[192] == 489);  // filler track: a single END
  CHECK(m.lengths[3] == 1);
  CHECK(m.tokens[193] == -1);
  CHECK(m.tokens[1] == 351 + velocity_to_bin(100, 8));  // first note gets a velocity event
  CHECK(m.tokens[2] == 60);
  CHECK(m.tokens[m.lengths[0] - 1] == 489);
  auto dec = decode_multitrack(m.tokens);
  int piano = 0, bass = 0, drums = 0;
  for (const auto& n : dec.notes) {
    piano += n.instrument == 0;
    bass += n.instrument == 1 && n.program == 33;
    drums += n.instrument == 2 && n.is_drum;
    if (n.pitch == 72) CHECK(n.end_time == Approx(2.0));
  }
  CHECK(piano == 5);
  CHECK(bass == 4);
  CHECK(drums == 4);
  // Velocity comes back quantized to its bin.
  for (const auto& n : dec.notes)
    if (n.instrument == 1) CHECK(n.velocity == bin_to_velocity(velocity_to_bin(90, 8), 8));
}

TEST_CASE("music transformer: 310-id vocabulary (spec check 1)", "[music][performance]") {
  auto v = music_transformer_vocab();
  CHECK(v.size() == 310);
  CHECK(v.encode({PerfType::NoteOn, 60}) == 41);
  CHECK(v.encode({PerfType::NoteOff, 60}) == 129);
  CHECK(v.encode({PerfType::TimeShift, 1}) == 178);
  CHECK(v.encode({PerfType::TimeShift, 100}) == 277);
  CHECK(velocity_to_bin(100, 32) == 25);
  CHECK(v.encode({PerfType::Velocity, 25}) == 302);
  for (int id = 2; id < 310; ++id) CHECK(v.encode(v.decode(id)) == id);
  CHECK_THROWS_AS(v.encode({PerfType::NoteOn, 20}), fugue::error);
}

TEST_CASE("music transformer: event order, long shifts, round trip", "[music][performance]") {
  NoteSequence ns;
  add_note(ns, 64, 100, 0.0, 0.5);
  add_note(ns, 60, 100, 0.0, 0.5);
  add_note(ns, 67, 30, 2.75, 2.8);
  add_note(ns, 10, 30, 1.0, 1.1);  // below 21: dropped
  auto ids = encode_music_transformer(ns, true);
  // velocity(25), on 60, on 64, shift 50, off 60, off 64, shift 100, shift 100, shift 25,
  // velocity(8), on 67, shift 5, off 67, EOS   (worked out by hand from the contract)
  std::vector<int32_t> want{302, 41, 45, 177 + 50, 129, 133, 277, 277, 177 + 25, 277 + 8, 48, 177 + 5, 136, 1};
  CHECK(ids == want);
  auto back = decode_music_transformer(ids);
  REQUIRE(back.notes.size() == 3);
  CHECK(back.notes[2].pitch == 67);
  CHECK(back.notes[2].start_time == Approx(2.75));
  CHECK(back.notes[2].end_time == Approx(2.80));
  CHECK(back.notes[2].velocity == bin_to_velocity(8, 32));
}

// Inflates a PNG's IDAT with zlib and undoes the five scanline filters (PNG spec, section 9):
// an independent decoder for the encoder's tests.
static std::vector<uint8_t> decode_png_rgb_for_test(const std::vector<uint8_t>& png, uint32_t w, uint32_t h) {
  std::vector<uint8_t> idat;
  for (std::size_t pos = 8; pos + 12 <= png.size();) {
    const uint32_t len =
        (uint32_t(png[pos]) << 24) | (uint32_t(png[pos + 1]) << 16) | (uint32_t(png[pos + 2]) << 8) | png[pos + 3];
    if (std::string(png.begin() + long(pos) + 4, png.begin() + long(pos) + 8) == "IDAT")
      idat.insert(idat.end(), png.begin() + long(pos) + 8, png.begin() + long(pos + 8 + len));
    pos += 12 + len;
  }
  const std::size_t stride = std::size_t(w) * 3;
  std::vector<uint8_t> raw((stride + 1) * h);
  uLongf n = uLongf(raw.size());
  REQUIRE(uncompress(raw.data(), &n, idat.data(), uLong(idat.size())) == Z_OK);
  REQUIRE(n == raw.size());
  std::vector<uint8_t> out(stride * h);
  for (std::size_t y = 0; y < h; ++y) {
    const int type = raw[y * (stride + 1)];
    REQUIRE(type <= 4);
    for (std::size_t i = 0; i < stride; ++i) {
      const int x = raw[y * (stride + 1) + 1 + i];
      const int a = i >= 3 ? out[y * stride + i - 3] : 0, b = y ? out[(y - 1) * stride + i] : 0,
                c = (i >= 3 && y) ? out[(y - 1) * stride + i - 3] : 0;
      int pred = 0;
      if (type == 1) pred = a;
      if (type == 2) pred = b;
      if (type == 3) pred = (a + b) / 2;
      if (type == 4) {
        const int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
        pred = (pa <= pb && pa <= pc) ? a : (pb <= pc ? b : c);
      }
      out[y * stride + i] = uint8_t((x + pred) & 0xFF);
    }
  }
  return out;
}

TEST_CASE("piano roll and PNG: a well-formed image of the notes", "[music][png]") {
  NoteSequence ns;
  note_at(ns, 60, 0, 4);
  note_at(ns, 64, 4, 8, 0, 0, false, 60);
  note_at(ns, 36, 0, 1, 9, 0, true);
  auto q = quantize(ns, 4);
  auto roll = piano_roll(q, 30, 70);
  CHECK(roll.steps == 8);
  CHECK(roll.active[roll.at(2, 60)] == Approx(100 / 127.0f));
  CHECK(roll.onsets[roll.at(0, 60)] == 1);
  CHECK(roll.onsets[roll.at(1, 60)] == 0);
  CHECK(roll.drums[roll.at(0, 36)] == 1);
  CHECK(roll.active[roll.at(0, 64)] == 0.0f);

  uint32_t w = 0, h = 0;
  auto rgb = render_piano_roll_rgb(roll, 3, 16, w, h);
  CHECK(w == 24);
  CHECK(h == 41 * 3);
  auto png = fugue::io::encode_png_rgb(w, h, rgb);
  REQUIRE(png.size() > 8 + 25 + 12);
  CHECK(std::vector<uint8_t>(png.begin(), png.begin() + 8) ==
        std::vector<uint8_t>{0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'});
  // Walk the chunks: every CRC must match; the IDAT, inflated by zlib and unfiltered, must give
  // back every pixel (lossless).
  std::size_t pos = 8;
  std::vector<uint8_t> idat;
  std::vector<std::string> types;
  auto be32 = [&](std::size_t p) {
    return (uint32_t(png[p]) << 24) | (uint32_t(png[p + 1]) << 16) | (uint32_t(png[p + 2]) << 8) | png[p + 3];
  };
  while (pos + 12 <= png.size()) {
    uint32_t len = be32(pos);
    std::string type(png.begin() + long(pos) + 4, png.begin() + long(pos) + 8);
    types.push_back(type);
    CHECK(fugue::io::detail::png::crc32(&png[pos + 4], len + 4) == be32(pos + 8 + len));
    if (type == "IDAT") idat.insert(idat.end(), png.begin() + long(pos) + 8, png.begin() + long(pos + 8 + len));
    pos += 12 + len;
  }
  CHECK(types == std::vector<std::string>{"IHDR", "IDAT", "IEND"});
  CHECK(decode_png_rgb_for_test(png, w, h) == rgb);
  // The onset of pitch 60 at step 0 is dark red; an empty cell off the bar/C lines is white.
  auto px = [&](int step, int pitch) { return &rgb[((std::size_t(70 - pitch) * 3) * w + std::size_t(step) * 3) * 3]; };
  CHECK(px(0, 60)[0] == 140);
  CHECK(px(0, 60)[1] == 0);
  CHECK(px(5, 50)[0] == 255);
}

TEST_CASE("piano roll picture: a pitch axis naming each C and the bar numbers beside the grid", "[music][png]") {
  NoteSequence ns;
  note_at(ns, 60, 0, 4);
  note_at(ns, 67, 16, 20);
  const auto roll = piano_roll(quantize(ns, 4), 48, 72);  // C3 .. C5
  uint32_t w = 0, h = 0;
  const auto grid = render_piano_roll_rgb(roll, 4, 16, w, h);
  const auto plain = piano_roll_image(roll, 4, 16, false);
  CHECK(plain.width == w);
  CHECK(plain.rgb == grid);
  const auto img = piano_roll_image(roll, 4, 16);
  const uint32_t left = img.width - w;
  CHECK(left == 22);                // "C-1" is 17 pixels wide, plus 5
  CHECK(img.height == h + 12);      // one line of 7-pixel digits, plus 5
  for (uint32_t y = 0; y < h; ++y)  // the grid itself is unchanged, shifted right
    CHECK(std::equal(grid.begin() + long(y) * w * 3, grid.begin() + long(y + 1) * w * 3, img.at(left, y)));
  // Ink in the margin next to the rows of C3, C4 and C5, none beside D4 (rows of 4 pixels, top = C5).
  auto ink_left_of = [&](int pitch) {
    const int y0 = (72 - pitch) * 4;
    int dark = 0;
    for (int y = std::max(0, y0 - 2); y < std::min(int(h), y0 + 6); ++y)
      for (uint32_t x = 0; x < left; ++x) dark += img.at(x, uint32_t(y))[0] < 128;
    return dark;
  };
  CHECK(ink_left_of(48) > 0);
  CHECK(ink_left_of(60) > 0);
  CHECK(ink_left_of(72) > 0);
  CHECK(ink_left_of(62) == 0);
  // Bar numbers under the bars: "1" under step 0, "2" under step 16.
  auto ink_below = [&](int step) {
    int dark = 0;
    for (uint32_t y = h; y < img.height; ++y)
      for (uint32_t x = left + uint32_t(step) * 4; x < left + uint32_t(step) * 4 + 8; ++x)
        dark += img.at(x, y)[0] < 128;
    return dark;
  };
  CHECK(ink_below(0) > 0);
  CHECK(ink_below(16) > 0);
  CHECK(ink_below(8) == 0);
}

TEST_CASE("PNG: a piano roll compresses at least 5x below stored deflate, pixels identical", "[music][png]") {
  // 8 bars of a two-voice tune (16 steps per bar): the size of the demo's piano rolls.
  NoteSequence ns;
  for (int step = 0; step < 128; step += 2) {
    note_at(ns, 60 + (step * 7) % 12, step, step + 2);
    if (step % 8 == 0) note_at(ns, 48 + (step / 8) % 5, step, step + 8);
  }
  const auto roll = piano_roll(quantize(ns, 4), 36, 84);
  uint32_t w = 0, h = 0;
  const auto rgb = render_piano_roll_rgb(roll, 4, 16, w, h);
  const auto png = fugue::io::encode_png_rgb(w, h, rgb);
  const std::size_t raw = (std::size_t(w) * 3 + 1) * h;
  // What the stored-block encoder wrote before: signature, IHDR, IDAT (zlib header, 5 bytes per
  // 65535-byte block, Adler-32), IEND.
  const std::size_t stored = 8 + 25 + 12 + 2 + raw + 5 * ((raw + 65534) / 65535) + 4 + 12;
  INFO("image " << w << "x" << h << ": " << png.size() << " bytes, stored " << stored);
  CHECK(png.size() * 5 <= stored);
  CHECK(decode_png_rgb_for_test(png, w, h) == rgb);
}

TEST_CASE("melody windows: note-offs before a window's first note are no-events (note-seq Melody)", "[music][melody]") {
  // One melody of 6 bars (hand-worked): the note of bar 0 ends on the bar line, so the window that
  // starts at bar 1 begins on its note-off; the window at bar 3 has the same notes, preceded by a
  // plain rest. Magenta slices Melody objects, whose constructor turns leading note-offs into
  // no-events: the two windows are then equal and de-duplication keeps one.
  NoteSequence ns;
  note_at(ns, 60, 0, 16);
  note_at(ns, 62, 20, 24);
  note_at(ns, 64, 32, 40);
  note_at(ns, 62, 52, 56);
  note_at(ns, 64, 64, 72);
  note_at(ns, 60, 80, 96);
  MelodyConverterOptions all;
  all.dedupe = false;
  const auto w = melody_windows(ns, all);
  REQUIRE(w.size() == 5);            // 2-bar windows at bars 0..4
  CHECK(w[1][0] == kMelodyNoEvent);  // was the note-off of bar 0's note
  CHECK(w[1] == w[3]);
  for (const auto& win : w) {
    const auto first_on = std::find_if(win.begin(), win.end(), [](int e) { return e >= 0; });
    CHECK(std::count(win.begin(), first_on, kMelodyNoteOff) == 0);
  }
  // Inside a window (after its first note) note-offs stay: step 24 - 16 = 8 of window 1.
  CHECK(w[1][8] == kMelodyNoteOff);
  CHECK(melody_windows(ns).size() == 4);
  const auto ids = MelodyOneHot{}.encode(w[1]);
  CHECK(ids[0] == 0);
}

TEST_CASE("groove: every window by default (as GrooveConverter), a cap when asked; repeated meter is fine",
          "[music][groove]") {
  // A kick on each bar's downbeat for 50 bars: 25 two-bar windows. Magenta's config passes
  // max_tensors_per_notesequence=20, but GrooveConverter.to_tensors never applies it.
  NoteSequence ns;
  for (int bar = 0; bar < 50; ++bar) note_at(ns, 36, bar * 16, bar * 16 + 1, 9, 0, true);
  CHECK(groove_windows(ns).size() == 25);
  GrooveOptions capped;
  capped.max_windows = 20;
  CHECK(groove_windows(ns, capped).size() == 20);
  // The same 4/4 written twice (note-seq keeps both) is not a meter change.
  ns.time_signatures = {{0.0, 4, 4}, {0.0, 4, 4}};
  CHECK(groove_windows(ns).size() == 25);
  ns.time_signatures = {{0.0, 4, 4}, {8.0, 3, 4}};
  CHECK(groove_windows(ns).empty());
}

TEST_CASE("multitrack: bars are cut in seconds and tracks round-trip through notes (Magenta's converter)",
          "[music][multitrack]") {
  // At 120 qpm a bar is 2 s = 96 steps of 24 per quarter. Piano and bass play quarter notes in
  // bars 0 and 1; a piano note starts at 1.999 s: in bar 0 by the clock (split_note_sequence
  // cuts in seconds), though it quantizes onto step 96. There it is clipped to the bar (0.001 s,
  // one step after the lengthening rule), trimmed off with the bar's last step, so it appears
  // in neither bar's tokens.
  NoteSequence ns;
  for (int i = 0; i < 8; ++i) {
    add_note(ns, 62, 100, i * 0.5, i * 0.5 + 0.25, 0, 0);
    add_note(ns, 36, 90, i * 0.5, i * 0.5 + 0.25, 1, 33);
  }
  add_note(ns, 72, 100, 1.999, 2.3, 0, 0);
  // Two piano notes that quantize onto one step in the other order of their exact times:
  // after the round trip through notes they are ordered by pitch (60 before 64).
  add_note(ns, 64, 100, 2.0100, 2.2, 0, 0);
  add_note(ns, 60, 100, 2.0101, 2.2, 0, 0);
  const auto measures = multitrack_measures(ns);
  REQUIRE(measures.size() == 2);
  for (const auto& m : measures) {
    const auto piano = std::vector<int32_t>(m.tokens.begin(), m.tokens.begin() + m.lengths[0]);
    CHECK(piano.front() == 360);
    CHECK(std::count(piano.begin(), piano.end(), 72) == 0);  // note-on 72 in neither bar
  }
  const auto& bar1 = measures[1].tokens;
  const auto on60 = std::find(bar1.begin(), bar1.begin() + 64, 60),
             on64 = std::find(bar1.begin(), bar1.begin() + 64, 64);
  REQUIRE(on60 != bar1.begin() + 64);
  REQUIRE(on64 != bar1.begin() + 64);
  CHECK(on60 < on64);
  // Every track fills the bar: its time shifts sum to 96 steps.
  for (int t = 0; t < 2; ++t) {
    int steps = 0;
    for (int k = 0; k < measures[0].lengths[static_cast<std::size_t>(t)]; ++k) {
      const int32_t id = measures[0].tokens[static_cast<std::size_t>(t * 64 + k)];
      if (id >= 256 && id < 352) steps += id - 255;
    }
    CHECK(steps == 96);
  }
}

TEST_CASE("multitrack: tracks sharing (is_drum, program) keep CPython's set order; emptied tracks read as drums",
          "[music][multitrack]") {
  // list(set(keys)) as CPython 3.11 prints it (python3 -c 'print(list(set([40, 8, 16, 24, 0, 32])))').
  using detail::python_set_order;
  CHECK(python_set_order({9, 1}) == std::vector<int>{9, 1});
  CHECK(python_set_order({3, 8}) == std::vector<int>{8, 3});
  CHECK(python_set_order({17, 9, 1, 9}) == std::vector<int>{17, 9, 1});
  CHECK(python_set_order({1, 2, 3, 4, 5}) == std::vector<int>{1, 2, 3, 4, 5});
  CHECK(python_set_order({40, 8, 16, 24, 0, 32}) == std::vector<int>{0, 32, 40, 8, 16, 24});
  CHECK(python_set_order({12, 4, 20, 28, 36, 44, 52, 60, 68, 76}) ==
        std::vector<int>{4, 36, 68, 12, 44, 60, 76, 20, 52, 28});

  // Two piano instruments (3 and 8, program 0) and a bass: Magenta's set {3, 8} iterates 8 first.
  NoteSequence ns;
  for (int i = 0; i < 4; ++i) {
    add_note(ns, 60, 100, i * 0.5, i * 0.5 + 0.25, 3, 0);
    add_note(ns, 72, 100, i * 0.5, i * 0.5 + 0.25, 8, 0);
    add_note(ns, 36, 100, i * 0.5, i * 0.5 + 0.25, 1, 33);
  }
  // Instrument 5 (program 2) only plays at 1.999 s, which lands on the bar's last step and is
  // trimmed away: its track keeps only a time shift and Magenta labels it drums.
  add_note(ns, 50, 100, 1.999, 2.0, 5, 2);
  const auto measures = multitrack_measures(ns);
  REQUIRE(measures.size() == 1);
  const auto& m = measures[0];
  CHECK(m.tokens[0] == 360);
  CHECK(m.tokens[2] == 72);  // instrument 8 first: velocity event, then note-on 72
  CHECK(m.tokens[64] == 360);
  CHECK(m.tokens[66] == 60);
  CHECK(m.tokens[128] == 488);  // instrument 5 (program 2), emptied: labelled drums
  CHECK(m.tokens[129] == 255 + 96);
  CHECK(m.tokens[130] == 489);
  CHECK(m.tokens[192] == 393);  // the bass: tracks sort by the notes' (is_drum, program), 2 before 33
}

TEST_CASE("melody stats: notes per bar, rests, range and key fit of hand-worked windows", "[music][melody]") {
  constexpr int E = kMelodyNoEvent, O = kMelodyNoteOff;
  // 1 bar: C E G (a rest of 4 steps after the first note's release); all in C major.
  const std::vector<int> a{60, E, E, E, O, E, E, E, 64, E, 67, E, E, E, E, E};
  // 1 bar: one note from step 4 to 8 (12 rest steps).
  const std::vector<int> b{E, E, E, E, 61, E, E, E, O, E, E, E, E, E, E, E};
  const std::vector<int> silent(16, E);
  // 2 bars: the chromatic run 60..66, 4 steps each, released at 28. Best major scale: C# major
  // (C# D# F F# C: 5 of the 7 notes).
  std::vector<int> d(32, E);
  for (int i = 0; i < 7; ++i) d[static_cast<std::size_t>(4 * i)] = 60 + i;
  d[28] = O;
  const auto s = melody_stats({a, b, silent, d});
  CHECK(s.windows == 4);
  CHECK(s.silent == 1);
  CHECK(s.notes_per_bar == Approx((3.0 + 1.0 + 0.0 + 3.5) / 4));
  CHECK(s.rest_fraction == Approx((4.0 + 12 + 16 + 4) / 80));
  CHECK(s.pitch_range == Approx((7.0 + 0 + 6) / 3));
  CHECK(s.in_key_fraction == Approx((1.0 + 1.0 + 5.0 / 7) / 3));
  CHECK_THROWS_AS(melody_stats({std::vector<int>{}}), fugue::error);
  CHECK_THROWS_AS(melody_stats({std::vector<int>{200}}), fugue::error);
}

TEST_CASE("multitrack: hostile sequences are refused quickly, with an error where the input is wrong",
          "[music][multitrack]") {
  NoteSequence far;
  add_note(far, 60, 100, 0.0, 0.5, 0, 0);
  add_note(far, 64, 100, 0.0, 0.5, 1, 0);
  add_note(far, 67, 100, 1.0e9, 1.0e9 + 1, 0, 0);  // 1e9 s: more bars than quantization allows
  CHECK(multitrack_measures(far).empty());
  NoteSequence negative;
  add_note(negative, 60, 100, 0.0, 0.5, -1, 0);
  add_note(negative, 64, 100, 0.0, 0.5, 1, 0);
  CHECK_THROWS_WITH(multitrack_measures(negative), Catch::Contains("negative instrument"));
}
