// MIDI files, quantization and time-change splitting.
#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>

#include "fugue/music/midi.hpp"
#include "fugue/music/quantize.hpp"
#include "midi_bytes.hpp"

using namespace fugue::music;
using fugue_test::header;
using fugue_test::track;

namespace {

NoteSequence sample_sequence() {
  NoteSequence ns;
  ns.ticks_per_quarter = 480;
  ns.tempos = {{0.0, 100.0}, {3.0, 150.0}};
  ns.time_signatures = {{0.0, 4, 4}, {3.0, 3, 4}};
  ns.key_signatures = {{0.0, 9, 1}};  // A minor
  ns.chords = {{0.0, "Am", -1}, {1.2, "E7", -1}};
  add_note(ns, 60, 90, 0.0, 0.6, 0, 0);
  add_note(ns, 64, 70, 0.6, 1.2, 0, 0);
  add_note(ns, 64, 72, 1.2, 1.5, 0, 0);  // same pitch re-struck right at the previous end
  add_note(ns, 40, 100, 0.0, 2.4, 1, 33);
  add_note(ns, 36, 110, 0.0, 0.1, 2, 0, true);
  add_note(ns, 42, 50, 3.2, 3.3, 2, 0, true);
  ControlChange cc;
  cc.time = 0.3;
  cc.number = 64;
  cc.value = 127;
  cc.instrument = 0;
  ns.control_changes.push_back(cc);
  ns.update_total_time();
  return ns;
}

void require_same_notes(NoteSequence a, NoteSequence b, double tol) {
  sort_notes(a);
  sort_notes(b);
  REQUIRE(a.notes.size() == b.notes.size());
  for (std::size_t i = 0; i < a.notes.size(); ++i) {
    INFO("note " << i);
    CHECK(a.notes[i].pitch == b.notes[i].pitch);
    CHECK(a.notes[i].velocity == b.notes[i].velocity);
    CHECK(a.notes[i].program == b.notes[i].program);
    CHECK(a.notes[i].is_drum == b.notes[i].is_drum);
    CHECK(a.notes[i].instrument == b.notes[i].instrument);
    CHECK(std::fabs(a.notes[i].start_time - b.notes[i].start_time) <= tol);
    CHECK(std::fabs(a.notes[i].end_time - b.notes[i].end_time) <= tol);
  }
}

// The two notes the hand-made running-status files hold (96 ticks per quarter at 120 qpm): 60
// ending at 0.5 s, and 64 at velocity 80 ending at 0.75 s. Sorts `ns`.
void require_two_running_status_notes(NoteSequence& ns) {
  sort_notes(ns);
  REQUIRE(ns.notes.size() == 2);
  CHECK(ns.notes[0].pitch == 60);
  CHECK(ns.notes[0].end_time == Approx(0.5));
  CHECK(ns.notes[1].pitch == 64);
  CHECK(ns.notes[1].velocity == 80);
  CHECK(ns.notes[1].end_time == Approx(0.75));
}

}  // namespace

TEST_CASE("midi: a written sequence reads back with the same notes and events", "[music][midi]") {
  auto ns = sample_sequence();
  auto bytes = write_midi(ns);
  auto back = read_midi(bytes);
  require_same_notes(ns, back, 1e-9);  // all times lie on the 480-ppq grid
  REQUIRE(back.tempos.size() == 2);
  CHECK(back.tempos[0].qpm == Approx(100.0));
  CHECK(back.tempos[1].time == Approx(3.0));
  CHECK(back.tempos[1].qpm == Approx(150.0));
  REQUIRE(back.time_signatures.size() == 2);
  CHECK(back.time_signatures[1].numerator == 3);
  REQUIRE(back.key_signatures.size() == 1);
  CHECK(back.key_signatures[0].key == 9);
  CHECK(back.key_signatures[0].mode == 1);
  REQUIRE(back.chords.size() == 2);
  CHECK(back.chords[1].figure == "E7");
  CHECK(back.chords[1].time == Approx(1.2));
  REQUIRE(back.control_changes.size() == 1);
  CHECK(back.control_changes[0].number == 64);
  CHECK(back.control_changes[0].time == Approx(0.3));
  CHECK(back.ticks_per_quarter == 480);
  CHECK(back.total_time == Approx(ns.total_time));

  // A second round trip is byte-identical: the reader's output is a writer fixed point.
  CHECK(write_midi(back) == write_midi(read_midi(write_midi(back))));
}

TEST_CASE("midi: off-grid times come back within half a tick", "[music][midi]") {
  NoteSequence ns;
  ns.ticks_per_quarter = 96;
  ns.tempos = {{0.0, 123.0}};
  for (int i = 0; i < 50; ++i) add_note(ns, 40 + i, 1 + 2 * i, 0.0137 * i * i, 0.0137 * i * i + 0.0291 * (i + 1));
  auto back = read_midi(write_midi(ns));
  double half_tick = 0.5 * 60.0 / 123.0 / 96.0;
  require_same_notes(ns, back, half_tick + 1e-9);
}

TEST_CASE("midi: drums use channel 10 and survive the round trip", "[music][midi]") {
  NoteSequence ns;
  add_note(ns, 36, 100, 0.0, 0.25, 0, 0, true);
  add_note(ns, 60, 100, 0.0, 0.25, 1, 5, false);
  auto bytes = write_midi(ns);
  bool saw_ch10_note = false;
  for (std::size_t i = 0; i + 1 < bytes.size(); ++i)
    if (bytes[i] == 0x99 && bytes[i + 1] == 36) saw_ch10_note = true;
  CHECK(saw_ch10_note);
  auto back = read_midi(bytes);
  sort_notes(back);
  REQUIRE(back.notes.size() == 2);
  CHECK(back.notes[0].is_drum);
  CHECK_FALSE(back.notes[1].is_drum);
  CHECK(back.notes[1].program == 5);
}

TEST_CASE("midi: hand-made format 0 file with running status, sysex and velocity-0 note-offs", "[music][midi]") {
  auto f = header(0, 1, 96);
  track(f, {0x00, 0xFF, 0x51, 0x03, 0x07, 0xA1, 0x20,  // 500000 us = 120 qpm
            0x00, 0xF0, 0x03, 0x43, 0x12, 0xF7,        // sysex (before any channel status)
            0x00, 0xC3, 0x18,                          // program 24 on channel 4
            0x00, 0x93, 60,   100,                     // note on
            0x00, 64,   80,                            // running status: second note on
            0x60, 60,   0,                             // 96 ticks later: vel-0 = off (running)
            0x30, 0x83, 64,   0,                       // explicit note off 48 ticks later
            0x00, 0xFF, 0x2F, 0x00});
  auto ns = read_midi(f);
  require_two_running_status_notes(ns);
  CHECK(ns.notes[0].program == 24);
  CHECK(ns.notes[0].instrument == ns.notes[1].instrument);  // one (track, channel, program)
}

TEST_CASE("midi: tempo map converts ticks to seconds piecewise", "[music][midi]") {
  auto f = header(1, 2, 100);
  track(f, {0x00, 0xFF, 0x51, 0x03, 0x0F, 0x42, 0x40,        // 1,000,000 us: 60 qpm
            0x81, 0x48, 0xFF, 0x51, 0x03, 0x07, 0xA1, 0x20,  // at tick 200: 120 qpm
            0x00, 0xFF, 0x2F, 0x00});
  track(f, {0x00, 0x90, 50, 64, 0x82, 0x2C, 0x80, 50, 0,  // tick 300
            0x00, 0xFF, 0x2F, 0x00});
  auto ns = read_midi(f);
  REQUIRE(ns.notes.size() == 1);
  // 200 ticks at 1 s/quarter (2.0 s) + 100 ticks at 0.5 s/quarter (0.5 s)
  CHECK(ns.notes[0].end_time == Approx(2.5));
  REQUIRE(ns.tempos.size() == 2);
  CHECK(ns.tempos[1].time == Approx(2.0));
}

TEST_CASE("midi: pretty_midi pairing of overlapping same-pitch notes", "[music][midi]") {
  auto f = header(0, 1, 100);
  // two note-ons of pitch 60 at ticks 0 and 10; one note-off at tick 20 closes both.
  track(f, {0x00, 0x90, 60, 100, 0x0A, 0x90, 60, 90, 0x0A, 0x80, 60, 0,
            // note-on and note-off at the same tick: dropped
            0x0A, 0x90, 62, 100, 0x00, 0x80, 62, 0, 0x00, 0xFF, 0x2F, 0x00});
  auto ns = read_midi(f);
  REQUIRE(ns.notes.size() == 2);
  for (const auto& n : ns.notes) {
    CHECK(n.pitch == 60);
    CHECK(n.end_time == Approx(0.1));
  }
}

TEST_CASE("midi: malformed and hostile files raise fugue::error quickly", "[music][midi]") {
  auto good = write_midi(sample_sequence());
  auto t0 = std::chrono::steady_clock::now();

  SECTION("empty and wrong magic") {
    CHECK_THROWS_AS(read_midi(std::vector<uint8_t>{}), fugue::error);
    auto bad = good;
    bad[0] = 'X';
    CHECK_THROWS_AS(read_midi(bad), fugue::error);
  }
  SECTION("every truncation of a good file") {
    for (std::size_t n = 0; n < good.size(); ++n) {
      std::vector<uint8_t> cut(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n));
      INFO("truncated to " << n << " bytes");
      CHECK_THROWS_AS(read_midi(cut), fugue::error);
    }
  }
  SECTION("absurd chunk length") {
    auto f = header(0, 1, 96);
    track(f, {0x00, 0xFF, 0x2F, 0x00}, 0x7FFFFFFF);
    CHECK_THROWS_AS(read_midi(f), fugue::error);
  }
  SECTION("huge declared track count") {
    auto f = header(1, 65535, 96);
    track(f, {0x00, 0xFF, 0x2F, 0x00});
    CHECK_THROWS_AS(read_midi(f), fugue::error);
  }
  SECTION("running status with no status byte") {
    auto f = header(0, 1, 96);
    track(f, {0x00, 60, 100});
    CHECK_THROWS_AS(read_midi(f), fugue::error);
  }
  SECTION("endless running status is linear, and its dangling notes are dropped") {
    std::vector<uint8_t> body{0x00, 0x90, 60, 100};
    for (int i = 0; i < 200000; ++i) body.insert(body.end(), {0x01, static_cast<uint8_t>(i % 128), 100});
    auto f = header(0, 1, 96);
    track(f, body);
    auto ns = read_midi(f);  // well-formed, just no note-offs
    CHECK(ns.notes.empty());
  }
  SECTION("over-long variable-length quantity") {
    auto f = header(0, 1, 96);
    track(f, {0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 0x90, 60, 100});
    CHECK_THROWS_AS(read_midi(f), fugue::error);
  }
  SECTION("meta length past the end of the track") {
    auto f = header(0, 1, 96);
    track(f, {0x00, 0xFF, 0x01, 0x8F, 0xFF, 0xFF, 0x7F, 'a'});
    CHECK_THROWS_AS(read_midi(f), fugue::error);
  }
  SECTION("data byte out of range, invalid status, SMPTE division, zero tempo") {
    auto f = header(0, 1, 96);
    track(f, {0x00, 0x90, 0x80, 100});
    CHECK_THROWS_AS(read_midi(f), fugue::error);
    f = header(0, 1, 96);
    track(f, {0x00, 0xF4, 0x00});
    CHECK_THROWS_AS(read_midi(f), fugue::error);
    f = header(0, 1, 0xE728);
    track(f, {0x00, 0xFF, 0x2F, 0x00});
    CHECK_THROWS_AS(read_midi(f), fugue::error);
    f = header(0, 1, 96);
    track(f, {0x00, 0xFF, 0x51, 0x03, 0, 0, 0});
    CHECK_THROWS_AS(read_midi(f), fugue::error);
  }
  SECTION("byte-flip mutations never crash") {
    for (std::size_t i = 0; i < good.size(); ++i)
      for (uint8_t v : {uint8_t{0x00}, uint8_t{0x7F}, uint8_t{0x80}, uint8_t{0xFF}}) {
        auto m = good;
        m[i] = v;
        try {
          (void)read_midi(m);
        } catch (const fugue::error&) {
        }
      }
    SUCCEED("no crash and only fugue::error");
  }
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10));
}

TEST_CASE("quantize: note-seq rounding, cutoff and minimum length", "[music][quantize]") {
  NoteSequence ns;
  ns.tempos = {{0.0, 60.0}};            // 1 s per quarter; 4 steps per quarter -> 0.25 s per step
  add_note(ns, 60, 100, 0.0, 0.124);    // end 0.496 steps -> 0 -> bumped to 1
  add_note(ns, 61, 100, 0.125, 0.374);  // start 0.5 steps -> 1 (round half up); end 1.496 -> 1 -> 2
  add_note(ns, 62, 100, 0.3749, 1.0);   // 1.4996 -> 1; end 4
  add_note(ns, 63, 100, 2.0, 2.0);      // zero length -> one step
  auto q = quantize(ns, 4);
  REQUIRE(q.notes.size() == 4);
  CHECK(q.notes[0].quantized_start_step == 0);
  CHECK(q.notes[0].quantized_end_step == 1);
  CHECK(q.notes[1].quantized_start_step == 1);
  CHECK(q.notes[1].quantized_end_step == 2);
  CHECK(q.notes[2].quantized_start_step == 1);
  CHECK(q.notes[2].quantized_end_step == 4);
  CHECK(q.notes[3].quantized_start_step == 8);
  CHECK(q.notes[3].quantized_end_step == 9);
  CHECK(q.total_quantized_steps == 9);
  CHECK(steps_per_bar(q) == 16);
  for (const auto& n : q.notes) CHECK(n.quantized_end_step >= n.quantized_start_step + 1);
}

TEST_CASE("quantize: refuses tempo/meter changes, odd denominators and negative times", "[music][quantize]") {
  NoteSequence ns;
  add_note(ns, 60, 100, 0.0, 1.0);
  auto two_tempos = ns;
  two_tempos.tempos = {{0.0, 120.0}, {0.5, 90.0}};
  CHECK_THROWS_AS(quantize(two_tempos, 4), fugue::error);
  auto late_tempo = ns;
  late_tempo.tempos = {{0.5, 90.0}};  // implicit 120 before it
  CHECK_THROWS_AS(quantize(late_tempo, 4), fugue::error);
  auto late_same = ns;
  late_same.tempos = {{0.5, 120.0}};
  CHECK_NOTHROW(quantize(late_same, 4));
  auto odd = ns;
  odd.time_signatures = {{0.0, 4, 3}};
  CHECK_THROWS_AS(quantize(odd, 4), fugue::error);
  auto neg = ns;
  neg.notes[0].start_time = -1.0;
  CHECK_THROWS_AS(quantize(neg, 4), fugue::error);
  auto six_eight = ns;
  six_eight.time_signatures = {{0.0, 6, 8}};
  CHECK(steps_per_bar(quantize(six_eight, 4)) == 12);
}

TEST_CASE("split_on_time_changes: pieces of constant tempo and meter", "[music][quantize]") {
  NoteSequence ns;
  ns.tempos = {{0.0, 120.0}, {2.0, 120.0}, {4.0, 60.0}};  // repeated 120 is no change
  ns.time_signatures = {{0.0, 4, 4}, {6.0, 3, 4}};
  add_note(ns, 60, 100, 0.0, 1.0);
  add_note(ns, 62, 100, 3.5, 5.0);  // crosses the split at 4.0: clipped
  add_note(ns, 64, 100, 4.5, 5.5);
  add_note(ns, 65, 100, 7.0, 8.0);
  auto pieces = split_on_time_changes(ns);
  REQUIRE(pieces.size() == 3);
  REQUIRE(pieces[0].notes.size() == 2);
  CHECK(pieces[0].notes[1].end_time == Approx(4.0));
  REQUIRE(pieces[1].notes.size() == 1);
  CHECK(pieces[1].notes[0].start_time == Approx(0.5));
  REQUIRE(pieces[1].tempos.size() == 1);
  CHECK(pieces[1].tempos[0].qpm == 60.0);
  CHECK(pieces[1].tempos[0].time == 0.0);
  REQUIRE(pieces[2].time_signatures.size() == 1);
  CHECK(pieces[2].time_signatures[0].numerator == 3);
  CHECK(pieces[2].notes[0].start_time == Approx(1.0));
  for (const auto& p : pieces) CHECK_NOTHROW(quantize(p, 4));
}

TEST_CASE("apply_sustain lengthens notes until pedal release or re-strike", "[music][quantize]") {
  NoteSequence ns;
  add_note(ns, 60, 100, 0.0, 0.5);
  add_note(ns, 64, 100, 0.2, 0.4);
  add_note(ns, 60, 100, 1.0, 1.2);  // re-strike while the pedal is down
  add_note(ns, 67, 100, 3.0, 3.5);  // after release: unaffected
  for (auto [t, v] : {std::pair{0.1, 127}, std::pair{2.0, 0}}) {
    ControlChange cc;
    cc.time = t;
    cc.number = 64;
    cc.value = v;
    ns.control_changes.push_back(cc);
  }
  apply_sustain(ns);
  CHECK(ns.notes[0].end_time == Approx(1.0));
  CHECK(ns.notes[1].end_time == Approx(2.0));
  CHECK(ns.notes[2].end_time == Approx(2.0));
  CHECK(ns.notes[3].end_time == Approx(3.5));
}

// The four reader rules below are note-seq's (pretty_midi's, as note-seq calls it); each hand-made
// file is the smallest that shows the case.

TEST_CASE("midi: signatures come from track 0 only, as pretty_midi reads them", "[music][midi]") {
  // abc2midi-style: track 0 holds the tempo, track 1 the meter (3/4, then 6/8 at tick 288 =
  // 3 quarters at 96 ticks each) and a note in each bar.
  auto f = header(1, 2, 96);
  track(f, {0x00, 0xFF, 0x51, 0x03, 0x07, 0xA1, 0x20, 0x00, 0xFF, 0x2F, 0x00});
  track(f, {0x00, 0xFF, 0x58, 0x04, 3,    2,    24, 8,      // 3/4
            0x00, 0xFF, 0x59, 0x02, 0x01, 0x00,             // G major
            0x00, 0x90, 60,   90,   0x60, 0x80, 60, 0,      // quarter note at tick 0
            0x81, 0x40, 0xFF, 0x58, 0x04, 6,    3,  24, 8,  // 6/8 at tick 288
            0x00, 0x90, 62,   90,   0x60, 0x80, 62, 0,      // quarter note at tick 288
            0x00, 0xFF, 0x2F, 0x00});
  const auto ns = read_midi(f);
  CHECK(ns.time_signatures.empty());  // pretty_midi: only track 0's are read
  CHECK(ns.key_signatures.empty());
  CHECK(split_on_time_changes(ns).size() == 1);  // one piece in implied 4/4, as note-seq has it
  CHECK_NOTHROW(quantize(ns, 4));

  MidiReadOptions all;
  all.meta_tracks = MidiReadOptions::MetaTracks::all;
  const auto every = read_midi(f, all);
  REQUIRE(every.time_signatures.size() == 2);
  CHECK(every.time_signatures[1].numerator == 6);
  CHECK(every.time_signatures[1].time == Approx(1.5));
  REQUIRE(every.key_signatures.size() == 1);
  CHECK(every.key_signatures[0].key == 7);
  CHECK(split_on_time_changes(every).size() == 2);
  // The notes do not depend on where the metadata is read from.
  REQUIRE(every.notes.size() == ns.notes.size());
  for (std::size_t i = 0; i < ns.notes.size(); ++i) CHECK(every.notes[i].start_time == ns.notes[i].start_time);
}

TEST_CASE("midi: identical signatures at one time are all kept (note-seq metadata)", "[music][midi]") {
  auto f = header(0, 1, 96);
  track(f, {0x00, 0xFF, 0x58, 0x04, 3,    2,    24,   8,    0x00, 0xFF, 0x58, 0x04, 3, 2, 24, 8,  // 3/4 twice
            0x00, 0xFF, 0x59, 0x02, 0xFD, 0x01, 0x00, 0xFF, 0x59, 0x02, 0xFD, 0x01,               // C minor twice
            0x00, 0x90, 60,   90,   0x60, 0x80, 60,   0,    0x00, 0xFF, 0x2F, 0x00});
  const auto ns = read_midi(f);
  REQUIRE(ns.time_signatures.size() == 2);
  CHECK(ns.time_signatures[1].numerator == 3);
  REQUIRE(ns.key_signatures.size() == 2);
  CHECK(ns.key_signatures[1].key == 0);
  CHECK(ns.key_signatures[1].mode == 1);
  // Not a meter change: one piece, and it quantizes in 3/4.
  REQUIRE(split_on_time_changes(ns).size() == 1);
  CHECK(steps_per_bar(quantize(ns, 4)) == 12);
  MidiReadOptions all;
  all.meta_tracks = MidiReadOptions::MetaTracks::all;  // several tracks repeat them: kept once
  CHECK(read_midi(f, all).time_signatures.size() == 1);
  CHECK(read_midi(f, all).key_signatures.size() == 1);
}

TEST_CASE("midi: total_time is the last note's end, not the last event's", "[music][midi]") {
  auto f = header(0, 1, 96);
  track(f, {0x00, 0x90, 60,   90,   0x60, 0x80, 60, 0,  // a quarter note: ends at 0.5 s
            0x83, 0x00, 0xB0, 64,   127,                // sustain pedal at tick 480 (2.5 s)
            0x60, 0xFF, 0x59, 0x02, 0x00, 0x00,         // a key signature at tick 576 (3.0 s)
            0x00, 0xFF, 0x2F, 0x00});
  const auto ns = read_midi(f);
  CHECK(ns.total_time == Approx(0.5));
  CHECK(quantize(ns, 4).total_quantized_steps == 4);  // 0.5 s at 8 steps per second
  MidiReadOptions last_event;
  last_event.end_time = MidiReadOptions::EndTime::last_event;
  CHECK(read_midi(f, last_event).total_time == Approx(3.0));
}

TEST_CASE("midi: running status carries across meta and sysex events, as mido reads it", "[music][midi]") {
  auto f = header(0, 1, 96);
  track(f, {0x00, 0x90, 60,   90,               // note on, status 0x90
            0x00, 0xFF, 0x01, 0x02, 'h',  'i',  // a text event
            0x00, 64,   80,                     // data bytes: running status 0x90 again
            0x60, 0xF0, 0x02, 0x7E, 0xF7,       // sysex
            0x00, 60,   0,                      // 0x90 vel 0: note off
            0x00, 0xFF, 0x06, 0x01, 'x',        // a marker
            0x30, 64,   0,                      // note off, 48 ticks later
            0x00, 0xFF, 0x2F, 0x00});
  auto ns = read_midi(f);
  require_two_running_status_notes(ns);
  // A data byte with no channel status before it is still an error, meta event or not.
  auto bad = header(0, 1, 96);
  track(bad, {0x00, 0xFF, 0x01, 0x01, 'a', 0x00, 64, 80, 0x00, 0xFF, 0x2F, 0x00});
  CHECK_THROWS_WITH(read_midi(bad), Catch::Contains("running status"));
}

TEST_CASE("apply_sustain: drums ignore the pedal, a zero-length re-strike is dropped, held notes end last",
          "[music][quantize]") {
  NoteSequence ns;
  add_note(ns, 60, 100, 1.0, 1.5);  // struck again at its own start under the pedal: zero length
  add_note(ns, 60, 90, 1.0, 1.2);
  add_note(ns, 36, 100, 0.2, 0.3, 9, 0, true);
  ControlChange down;
  down.time = 0.1;
  down.number = 64;
  down.value = 100;
  ns.control_changes.push_back(down);
  ControlChange drum_down = down;
  drum_down.instrument = 9;
  ns.control_changes.push_back(drum_down);
  apply_sustain(ns);
  REQUIRE(ns.notes.size() == 2);
  CHECK(ns.notes[0].velocity == 90);
  // Never released: it ends with the sequence's last event (the dropped note's release at 1.5 s).
  CHECK(ns.notes[0].end_time == Approx(1.5));
  CHECK(ns.total_time == Approx(1.5));
  CHECK(ns.notes[1].is_drum);
  CHECK(ns.notes[1].end_time == Approx(0.3));
}
