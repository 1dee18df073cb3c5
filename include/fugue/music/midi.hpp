// fugue/music/midi.hpp — Standard MIDI File (SMF) reader and writer for NoteSequence.
//
// Contract:
//  * read_midi(bytes) accepts format 0, 1 (and 2, read like 1) with PPQ time division,
//    running status, sysex and meta events. Notes follow pretty_midi's pairing rules (the
//    reader note-seq uses): a note-on with velocity 0 is a note-off; a note-off closes every
//    open note of that (channel, pitch) begun at an earlier tick (notes begun at the same
//    tick survive if some were closed, else are dropped); notes never closed are dropped;
//    the program is the channel's program at note-off time; an instrument is one
//    (track, channel, program), numbered in order of its first closed note; channel 10
//    (index 9) is drums. Tempo, time and key signatures come from track 0 only, every one
//    kept, duplicates too (pretty_midi, hence note-seq and Magenta's training data);
//    MidiReadOptions::meta_tracks = all also reads them from the other tracks (tempo only
//    when track 0 has none; identical signatures at one time kept once). total_time is the
//    latest note end (note-seq); end_time = last_event makes it the latest of notes, control
//    changes, tempo and signature events (pretty_midi's get_end_time). Running status
//    carries across meta and sysex events (as mido reads it: common sequencers write files
//    that rely on it). Marker meta events "chord:<figure>" become chord annotations (what
//    the writer emits), from every track.
//  * Malformed input (bad magic, truncated chunks, VLQs over 4 bytes, data bytes >= 0x80,
//    running status with no status, undeclared tracks, SMPTE division, files over
//    `max_bytes`) throws fugue::error. Time and memory are linear in the file size.
//  * write_midi(ns) writes format 1: track 0 holds tempo / time signature / key signature /
//    chord markers, then one track per (instrument, program, is_drum) in instrument order;
//    drums on channel 10, others on channels 1-9, 11-16 in turn. Times are rounded to
//    ticks of ns.ticks_per_quarter through the tempo map; notes shorter than one tick are
//    lengthened to one tick and velocities are clamped to 1..127 (0 would mean note-off).
//    read_midi(write_midi(ns)) reproduces ns's notes and events exactly when ns came from
//    read_midi, and to within half a tick otherwise.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <span>
#include <string>
#include <tuple>
#include <vector>

#include "fugue/core/error.hpp"
#include "fugue/core/unfused.hpp"
#include "fugue/music/note_sequence.hpp"

namespace fugue::music {

struct MidiReadOptions {
  std::size_t max_bytes = std::size_t{64} << 20;  // refuse larger files
  uint64_t max_tick = uint64_t{1} << 40;          // absurd delta-time sums are an error
  // Which tracks tempo, time and key signatures are read from (see the contract above).
  enum class MetaTracks { first, all } meta_tracks = MetaTracks::first;
  // What total_time measures: the latest note end, or the latest event of any kind.
  enum class EndTime { last_note, last_event } end_time = EndTime::last_note;
};

namespace detail::midi {

struct Reader {
  std::span<const uint8_t> d;
  std::size_t pos = 0;
  std::size_t end = 0;

  std::size_t left() const { return end - pos; }
  uint8_t u8() {
    FUGUE_CHECK(pos < end, "MIDI: truncated data at byte ", pos);
    return d[pos++];
  }
  uint32_t be(int n) {
    FUGUE_CHECK(left() >= static_cast<std::size_t>(n), "MIDI: truncated data at byte ", pos);
    uint32_t v = 0;
    for (int i = 0; i < n; ++i) v = (v << 8) | d[pos++];
    return v;
  }
  uint32_t vlq() {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      uint8_t b = u8();
      v = (v << 7) | (b & 0x7F);
      if (!(b & 0x80)) return v;
    }
    FUGUE_FAIL("MIDI: variable-length quantity longer than 4 bytes at byte ", pos);
  }
};

// One parsed event, kept compact: channel events and the few meta events used.
struct Event {
  uint64_t tick;
  uint32_t track;
  uint8_t kind;  // see Kind
  uint8_t channel;
  uint8_t a;
  uint8_t b;
  uint32_t value;  // tempo (us/quarter), time signature (num<<8|den_pow), key (sf<<8|mi)
  uint32_t text;   // index into chord strings
};
enum Kind : uint8_t { kNoteOn, kNoteOff, kProgram, kControl, kPitchBend, kTempo, kTimeSig, kKeySig, kChord };

// The MThd chunk's fields that the reader uses.
struct Header {
  uint32_t ntracks;
  uint32_t division;  // ticks per quarter note
};

// Checks the size limit and the MThd chunk; leaves `r` at the first chunk after it.
inline Header read_header(Reader& r, const MidiReadOptions& opt) {
  std::span<const uint8_t> bytes = r.d;
  FUGUE_CHECK(bytes.size() <= opt.max_bytes, "MIDI: file of ", bytes.size(), " bytes exceeds the limit of ",
              opt.max_bytes);
  FUGUE_CHECK(bytes.size() >= 14 && std::memcmp(bytes.data(), "MThd", 4) == 0, "MIDI: missing MThd header");
  r.pos = 4;
  uint32_t hlen = r.be(4);
  FUGUE_CHECK(hlen >= 6 && hlen <= r.left(), "MIDI: bad header length ", hlen);
  std::size_t header_end = r.pos + hlen;
  uint32_t format = r.be(2);
  uint32_t ntracks = r.be(2);
  uint32_t division = r.be(2);
  r.pos = header_end;
  FUGUE_CHECK(format <= 2, "MIDI: unknown format ", format);
  FUGUE_CHECK(ntracks >= 1, "MIDI: file declares no tracks");
  FUGUE_CHECK(!(division & 0x8000), "MIDI: SMPTE time division is not supported");
  FUGUE_CHECK(division > 0, "MIDI: zero ticks per quarter note");
  // Each track needs at least an 8-byte chunk header: a count beyond that is a lie we
  // find out about without allocating for it.
  FUGUE_CHECK(ntracks <= r.left() / 8, "MIDI: ", ntracks, " tracks declared but only ", r.left(), " bytes follow");
  return {ntracks, division};
}

// Every event of the file's tracks, in file order (so grouped by track, each in tick order).
struct ParsedTracks {
  std::vector<Event> events;
  std::vector<std::string> texts;  // chord figures, indexed by Event::text
  uint32_t count = 0;              // MTrk chunks read
};

// Appends the events of one MTrk chunk (the bytes `t` spans) to `out`.
inline void read_track_events(Reader& t, const MidiReadOptions& opt, ParsedTracks& out) {
  std::span<const uint8_t> bytes = t.d;
  const uint32_t track = out.count;
  std::vector<Event>& events = out.events;
  std::vector<std::string>& texts = out.texts;
  uint64_t tick = 0;
  uint8_t running = 0;
  while (t.left() > 0) {
    tick += t.vlq();
    FUGUE_CHECK(tick <= opt.max_tick, "MIDI: event time beyond ", opt.max_tick, " ticks");
    uint8_t status = t.u8();
    if (status < 0x80) {
      FUGUE_CHECK(running != 0, "MIDI: data byte without a running status at byte ", t.pos - 1);
      status = running;
      --t.pos;
    }
    if (status == 0xFF) {  // meta: the running status survives it (see the contract)
      uint8_t type = t.u8();
      uint32_t mlen = t.vlq();
      FUGUE_CHECK(mlen <= t.left(), "MIDI: meta event of ", mlen, " bytes runs past its track");
      const uint8_t* m = bytes.data() + t.pos;
      t.pos += mlen;
      if (type == 0x2F) return;  // end of track
      if (type == 0x51) {
        FUGUE_CHECK(mlen >= 3, "MIDI: short tempo event");
        uint32_t us = (uint32_t{m[0]} << 16) | (uint32_t{m[1]} << 8) | m[2];
        FUGUE_CHECK(us > 0, "MIDI: zero tempo");
        events.push_back({tick, track, kTempo, 0, 0, 0, us, 0});
      } else if (type == 0x58) {
        FUGUE_CHECK(mlen >= 2, "MIDI: short time-signature event");
        FUGUE_CHECK(m[1] < 31, "MIDI: time-signature denominator 2^", int(m[1]), " too large");
        events.push_back({tick, track, kTimeSig, 0, m[0], m[1], 0, 0});
      } else if (type == 0x59) {
        FUGUE_CHECK(mlen >= 2, "MIDI: short key-signature event");
        events.push_back({tick, track, kKeySig, 0, m[0], m[1], 0, 0});
      } else if (type == 0x06 && mlen > 6 && std::memcmp(m, "chord:", 6) == 0) {
        texts.emplace_back(reinterpret_cast<const char*>(m) + 6, mlen - 6);
        events.push_back({tick, track, kChord, 0, 0, 0, 0, static_cast<uint32_t>(texts.size() - 1)});
      }
      continue;
    }
    if (status == 0xF0 || status == 0xF7) {
      uint32_t slen = t.vlq();
      FUGUE_CHECK(slen <= t.left(), "MIDI: sysex of ", slen, " bytes runs past its track");
      t.pos += slen;
      continue;
    }
    FUGUE_CHECK(status < 0xF0, "MIDI: invalid status byte 0x", std::hex, int(status), " in a file");
    running = status;
    uint8_t hi = status & 0xF0, ch = status & 0x0F;
    uint8_t a = t.u8();
    FUGUE_CHECK(a < 0x80, "MIDI: data byte 0x", std::hex, int(a), " out of range");
    uint8_t b = 0;
    if (hi != 0xC0 && hi != 0xD0) {
      b = t.u8();
      FUGUE_CHECK(b < 0x80, "MIDI: data byte 0x", std::hex, int(b), " out of range");
    }
    switch (hi) {
      case 0x90: events.push_back({tick, track, b ? kNoteOn : kNoteOff, ch, a, b, 0, 0}); break;
      case 0x80: events.push_back({tick, track, kNoteOff, ch, a, b, 0, 0}); break;
      case 0xC0: events.push_back({tick, track, kProgram, ch, a, 0, 0, 0}); break;
      case 0xB0: events.push_back({tick, track, kControl, ch, a, b, 0, 0}); break;
      case 0xE0: events.push_back({tick, track, kPitchBend, ch, a, b, 0, 0}); break;
      default: break;  // aftertouch: ignored
    }
  }
}

// Reads the `ntracks` MTrk chunks that follow the header (alien chunks are skipped).
inline ParsedTracks read_tracks(Reader& r, uint32_t ntracks, const MidiReadOptions& opt) {
  std::span<const uint8_t> bytes = r.d;
  ParsedTracks out;
  while (out.count < ntracks) {
    FUGUE_CHECK(r.left() >= 8, "MIDI: truncated: ", out.count, " of ", ntracks, " tracks present");
    char id[4];
    std::memcpy(id, bytes.data() + r.pos, 4);
    r.pos += 4;
    uint32_t len = r.be(4);
    FUGUE_CHECK(len <= r.left(), "MIDI: chunk of ", len, " bytes runs past the end of the file");
    if (std::memcmp(id, "MTrk", 4) != 0) {  // alien chunk: skip
      r.pos += len;
      continue;
    }
    Reader t{bytes, r.pos, r.pos + len};
    r.pos += len;
    read_track_events(t, opt, out);
    ++out.count;
  }
  return out;
}

// Ticks -> seconds (pretty_midi: tempo from track 0, a tempo at tick 0 replaces the default).
struct TickTempoMap {
  struct Segment {
    uint64_t tick;
    double scale;  // seconds per tick
    double time;   // seconds at `tick`
    double qpm;
  };
  double res;  // ticks per quarter note
  std::vector<Segment> segs;

  double to_time(uint64_t tick) const {
    auto it = std::upper_bound(segs.begin(), segs.end(), tick, [](uint64_t v, const Segment& s) { return v < s.tick; });
    const Segment& s = *(it - 1);
    return mul_add_unfused(s.scale, static_cast<double>(tick - s.tick), s.time);  // numpy's two roundings
  }
};

inline TickTempoMap build_tick_tempo_map(const std::vector<Event>& events, uint32_t division,
                                         MidiReadOptions::MetaTracks meta_tracks) {
  const double res = static_cast<double>(division);
  auto scale_of = [&](uint32_t us) { return 60.0 / ((6e7 / us) * res); };
  using Segment = TickTempoMap::Segment;
  std::vector<Segment> segs{{0, 60.0 / (120.0 * res), 0.0, 120.0}};
  bool track0_has_tempo = meta_tracks == MidiReadOptions::MetaTracks::first;
  for (const auto& e : events) track0_has_tempo |= (e.kind == kTempo && e.track == 0);
  std::vector<const Event*> tempos;
  for (const auto& e : events)
    if (e.kind == kTempo && (e.track == 0 || !track0_has_tempo)) tempos.push_back(&e);
  std::stable_sort(tempos.begin(), tempos.end(), [](auto* x, auto* y) { return x->tick < y->tick; });
  for (const Event* e : tempos) {
    double s = scale_of(e->value), qpm = 6e7 / e->value;
    if (e->tick == 0) {
      segs.assign(1, Segment{0, s, 0.0, qpm});
    } else if (s != segs.back().scale) {
      const Segment& p = segs.back();
      segs.push_back({e->tick, s, mul_add_unfused(p.scale, static_cast<double>(e->tick - p.tick), p.time), qpm});
    }
  }
  return {res, std::move(segs)};
}

inline void add_tempos(NoteSequence& ns, const TickTempoMap& map) {
  // qpm as pretty_midi reports it (60 / (seconds per tick * ppq)), bit for bit: quantization
  // multiplies by it, and a last-bit difference moves notes that sit on a half step.
  for (const auto& s : map.segs) ns.tempos.push_back({map.to_time(s.tick), 60.0 / (s.scale * map.res)});
}

// Time signatures and key signatures (from the tracks `meta_tracks` names) and chord markers
// (from all tracks), in time order.
inline void add_meta_events(NoteSequence& ns, const ParsedTracks& parsed, const TickTempoMap& map,
                            MidiReadOptions::MetaTracks meta_tracks) {
  const bool all_tracks = meta_tracks == MidiReadOptions::MetaTracks::all;
  std::vector<const Event*> metas;
  for (const auto& e : parsed.events)
    if (((e.kind == kTimeSig || e.kind == kKeySig) && (e.track == 0 || all_tracks)) || e.kind == kChord)
      metas.push_back(&e);
  std::stable_sort(metas.begin(), metas.end(), [](auto* x, auto* y) { return x->tick < y->tick; });
  for (const Event* e : metas) {
    double time = map.to_time(e->tick);
    if (e->kind == kTimeSig) {
      TimeSignature ts{time, e->a, 1 << e->b};
      if (all_tracks && !ns.time_signatures.empty() && ns.time_signatures.back().time == time &&
          ns.time_signatures.back().numerator == ts.numerator &&
          ns.time_signatures.back().denominator == ts.denominator)
        continue;
      ns.time_signatures.push_back(ts);
    } else if (e->kind == kKeySig) {
      int sf = static_cast<int8_t>(e->a), mi = e->b ? 1 : 0;
      int key = (((7 * sf + (mi ? 9 : 0)) % 12) + 12) % 12;
      KeySignature ks{time, key, mi};
      if (all_tracks && !ns.key_signatures.empty() && ns.key_signatures.back().time == time &&
          ns.key_signatures.back().key == key && ns.key_signatures.back().mode == mi)
        continue;
      ns.key_signatures.push_back(ks);
    } else {
      ns.chords.push_back({time, parsed.texts[e->text], -1});
    }
  }
}

// Pairs note-ons with note-offs and assigns notes and control changes to instruments,
// pretty_midi style (see the contract at the top of this file).
class NoteAssembler {
 public:
  NoteAssembler(NoteSequence& ns, const TickTempoMap& map) : ns_(ns), map_(map) {}

  void add_track(const Event* first, const Event* last, uint32_t trk) {
    int program[16] = {};
    OpenNotes open;
    for (const Event* p = first; p != last; ++p) {
      const Event& e = *p;
      switch (e.kind) {
        case kNoteOn: open[{e.channel, e.a}].push_back({e.tick, e.b}); break;
        case kNoteOff: note_off(e, program[e.channel], trk, open); break;
        case kProgram: program[e.channel] = e.a; break;
        case kControl: control_change(e, program[e.channel], trk); break;
        default: break;
      }
    }
  }

 private:
  using OpenNotes = std::map<std::pair<int, int>, std::vector<std::pair<uint64_t, int>>>;  // (ch, pitch)

  // The instrument of (program, channel, track), numbered on first use; control changes
  // that came before it (stragglers) join it then.
  int instrument(int program, int channel, uint32_t trk) {
    auto key = std::make_tuple(program, channel, trk);
    if (auto it = instrument_of_.find(key); it != instrument_of_.end()) return it->second;
    int id = static_cast<int>(inst_program_.size());
    instrument_of_.emplace(key, id);
    inst_program_.push_back(program);
    if (auto s = stragglers_.find({channel, trk}); s != stragglers_.end())
      for (auto cc : s->second) {
        cc.instrument = id;
        cc.program = program;
        ns_.control_changes.push_back(cc);
      }
    return id;
  }

  void note_off(const Event& e, int program, uint32_t trk, OpenNotes& open) {
    auto it = open.find({e.channel, e.a});
    if (it == open.end()) return;
    auto& list = it->second;
    std::vector<std::pair<uint64_t, int>> keep;
    bool closed = false;
    for (auto [start, vel] : list) {
      if (start == e.tick) {
        keep.push_back({start, vel});
        continue;
      }
      closed = true;
      int id = instrument(program, e.channel, trk);
      Note n;
      n.pitch = e.a;
      n.velocity = vel;
      n.start_time = map_.to_time(start);
      n.end_time = map_.to_time(e.tick);
      n.program = program;
      n.is_drum = e.channel == 9;
      n.instrument = id;
      ns_.notes.push_back(n);
    }
    if (closed && !keep.empty())
      list = std::move(keep);
    else
      open.erase(it);
  }

  void control_change(const Event& e, int program, uint32_t trk) {
    ControlChange cc;
    cc.time = map_.to_time(e.tick);
    cc.number = e.a;
    cc.value = e.b;
    cc.program = program;
    cc.is_drum = e.channel == 9;
    auto key = std::make_tuple(int(program), int(e.channel), trk);
    if (auto f = instrument_of_.find(key); f != instrument_of_.end()) {
      cc.instrument = f->second;
      ns_.control_changes.push_back(cc);
    } else {
      stragglers_[{e.channel, trk}].push_back(cc);
    }
  }

  NoteSequence& ns_;
  const TickTempoMap& map_;
  std::map<std::tuple<int, int, uint32_t>, int> instrument_of_;                // (program, channel, track)
  std::map<std::pair<int, uint32_t>, std::vector<ControlChange>> stragglers_;  // (channel, track)
  std::vector<int> inst_program_;
};

inline void add_notes_and_control_changes(NoteSequence& ns, const ParsedTracks& parsed, const TickTempoMap& map) {
  NoteAssembler assembler(ns, map);
  const std::vector<Event>& events = parsed.events;
  std::size_t ei = 0;
  for (uint32_t trk = 0; trk < parsed.count; ++trk) {
    std::size_t first = ei;
    while (ei < events.size() && events[ei].track == trk) ++ei;
    assembler.add_track(events.data() + first, events.data() + ei, trk);
  }
  // note-seq lists notes instrument by instrument (each in closing order)
  std::stable_sort(ns.notes.begin(), ns.notes.end(),
                   [](const Note& a, const Note& b) { return a.instrument < b.instrument; });
  std::stable_sort(ns.control_changes.begin(), ns.control_changes.end(),
                   [](const ControlChange& a, const ControlChange& b) { return a.instrument < b.instrument; });
}

// note-seq's total_time (the latest note end), or with `last_event` pretty_midi's
// get_end_time (the latest of notes, CCs, meta events and tempo changes).
inline double sequence_end_time(const NoteSequence& ns, MidiReadOptions::EndTime end_time) {
  double total = 0.0;
  for (const auto& n : ns.notes) total = std::max(total, n.end_time);
  if (end_time == MidiReadOptions::EndTime::last_note) return total;
  for (const auto& c : ns.control_changes) total = std::max(total, c.time);
  for (const auto& t : ns.time_signatures) total = std::max(total, t.time);
  for (const auto& k : ns.key_signatures) total = std::max(total, k.time);
  for (const auto& t : ns.tempos) total = std::max(total, t.time);
  return total;
}

}  // namespace detail::midi

inline NoteSequence read_midi(std::span<const uint8_t> bytes, const MidiReadOptions& opt = {}) {
  using namespace detail::midi;
  Reader r{bytes, 0, bytes.size()};
  const Header header = read_header(r, opt);
  const ParsedTracks parsed = read_tracks(r, header.ntracks, opt);
  const TickTempoMap map = build_tick_tempo_map(parsed.events, header.division, opt.meta_tracks);
  NoteSequence ns;
  ns.ticks_per_quarter = static_cast<int>(header.division);
  add_tempos(ns, map);
  add_meta_events(ns, parsed, map, opt.meta_tracks);
  add_notes_and_control_changes(ns, parsed, map);
  ns.total_time = sequence_end_time(ns, opt.end_time);
  return ns;
}

inline NoteSequence read_midi_file(const std::string& path, const MidiReadOptions& opt = {}) {
  std::ifstream f(path, std::ios::binary);
  FUGUE_CHECK(f.good(), "MIDI: cannot open ", path);
  f.seekg(0, std::ios::end);
  auto size = static_cast<std::size_t>(f.tellg());
  FUGUE_CHECK(size <= opt.max_bytes, "MIDI: ", path, " is larger than ", opt.max_bytes, " bytes");
  f.seekg(0);
  std::vector<uint8_t> bytes(size);
  f.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size));
  FUGUE_CHECK(f.good() || size == 0, "MIDI: read error on ", path);
  try {
    return read_midi(bytes, opt);
  } catch (const fugue::error& e) {
    throw fugue::error(e.message() + " (in " + path + ")", e.where());
  }
}

// ------------------------------------------------------------------------------------------
namespace detail::midi {

inline void put_vlq(std::vector<uint8_t>& o, uint64_t v) {
  FUGUE_CHECK(v <= 0x0FFFFFFF, "MIDI: delta time ", v, " ticks does not fit a 4-byte VLQ");
  uint8_t buf[4];
  int n = 0;
  buf[n++] = v & 0x7F;
  while (v >>= 7) buf[n++] = static_cast<uint8_t>((v & 0x7F) | 0x80);
  while (n) o.push_back(buf[--n]);
}

struct Out {
  uint64_t tick;
  int order;                   // events at one tick: -1 program, 0 note-off, 1 meta/CC, 2 note-on
  std::vector<uint8_t> bytes;  // status + data (channel msgs) or FF type len data
};

inline void put_track(std::vector<uint8_t>& file, std::vector<Out> evs) {
  std::stable_sort(evs.begin(), evs.end(), [](const Out& a, const Out& b) {
    return std::tie(a.tick, a.order, a.bytes) < std::tie(b.tick, b.order, b.bytes);
  });  // fully ordered, so the bytes do not depend on the order of ns.notes
  std::vector<uint8_t> t;
  uint64_t last = 0;
  uint8_t running = 0;
  for (const auto& e : evs) {
    put_vlq(t, e.tick - last);
    last = e.tick;
    std::size_t from = 0;
    if (e.bytes[0] < 0xF0) {
      if (e.bytes[0] == running) from = 1;  // running status
      running = e.bytes[0];
    } else {
      running = 0;
    }
    t.insert(t.end(), e.bytes.begin() + static_cast<std::ptrdiff_t>(from), e.bytes.end());
  }
  t.insert(t.end(), {0x00, 0xFF, 0x2F, 0x00});
  file.insert(file.end(), {'M', 'T', 'r', 'k'});
  uint32_t len = static_cast<uint32_t>(t.size());
  for (int s = 24; s >= 0; s -= 8) file.push_back(static_cast<uint8_t>(len >> s));
  file.insert(file.end(), t.begin(), t.end());
}

// Seconds -> ticks for the writer, built from rounded tempo ticks so that reading back
// (ticks -> seconds) follows the same segments.
struct SecondsTempoMap {
  struct Segment {
    uint64_t tick;
    double scale;  // seconds per tick
    double time;   // seconds at `tick`
    uint32_t us;   // microseconds per quarter note
  };
  double res;  // ticks per quarter note
  std::vector<Segment> segs;

  uint64_t to_tick(double t) const {
    FUGUE_CHECK(std::isfinite(t) && t >= 0, "MIDI: cannot write time ", t);
    if (segs.empty()) return static_cast<uint64_t>(std::llround(t / (60.0 / (120.0 * res))));
    auto it = std::upper_bound(segs.begin(), segs.end(), t, [](double v, const Segment& s) { return v < s.time; });
    const Segment& s = it == segs.begin() ? segs.front() : *(it - 1);
    double k = std::round((t - s.time) / s.scale);
    FUGUE_CHECK(k < 1e15, "MIDI: time ", t, " s too far out to write");
    return s.tick + static_cast<uint64_t>(std::max(0.0, k));
  }
};

// The ticks per quarter note written: ns's when it fits the header field, else note-seq's default.
inline int ticks_per_quarter_to_write(const NoteSequence& ns) {
  return ns.ticks_per_quarter > 0 && ns.ticks_per_quarter < 0x8000 ? ns.ticks_per_quarter : kDefaultTicksPerQuarter;
}

inline SecondsTempoMap build_seconds_tempo_map(const NoteSequence& ns, int ppq) {
  SecondsTempoMap map{static_cast<double>(ppq), {}};
  const double res = map.res;
  auto tempos = ns.tempos;
  std::stable_sort(tempos.begin(), tempos.end(), [](auto& a, auto& b) { return a.time < b.time; });
  auto us_of = [](double qpm) {
    FUGUE_CHECK(qpm > 0 && std::isfinite(qpm), "MIDI: tempo must be positive, got ", qpm);
    double us = std::round(6e7 / qpm);
    return static_cast<uint32_t>(std::clamp(us, 1.0, double(0xFFFFFF)));
  };
  auto& segs = map.segs;
  segs.push_back({0, 60.0 / (120.0 * res), 0.0, 500000});
  for (const auto& tp : tempos) {
    uint32_t us = us_of(tp.qpm);
    double scale = 60.0 / ((6e7 / us) * res);
    uint64_t tick = map.to_tick(tp.time);
    if (tick == 0) {
      segs.assign(1, {0, scale, 0.0, us});
    } else if (scale != segs.back().scale) {
      const SecondsTempoMap::Segment& p = segs.back();
      segs.push_back({tick, scale, p.time + p.scale * static_cast<double>(tick - p.tick), us});
    }
  }
  return map;
}

// Track 0's events: tempos, time signatures, key signatures and chord markers.
inline std::vector<Out> conductor_track_events(const NoteSequence& ns, const SecondsTempoMap& map) {
  std::vector<Out> meta;
  for (const auto& s : map.segs)
    meta.push_back({s.tick, 1, {0xFF, 0x51, 0x03, uint8_t(s.us >> 16), uint8_t(s.us >> 8), uint8_t(s.us)}});
  for (const auto& ts : ns.time_signatures) {
    FUGUE_CHECK(
        ts.numerator > 0 && ts.numerator < 256 && ts.denominator > 0 && (ts.denominator & (ts.denominator - 1)) == 0,
        "MIDI: cannot write time signature ", ts.numerator, "/", ts.denominator);
    uint8_t dd = 0;
    while ((1 << dd) < ts.denominator) ++dd;
    meta.push_back({map.to_tick(ts.time), 1, {0xFF, 0x58, 0x04, uint8_t(ts.numerator), dd, 24, 8}});
  }
  for (const auto& ks : ns.key_signatures) {
    FUGUE_CHECK(ks.key >= 0 && ks.key < 12 && (ks.mode == 0 || ks.mode == 1), "MIDI: bad key signature");
    int target = ((ks.key - (ks.mode ? 9 : 0)) % 12 + 12) % 12;  // 7*sf == target (mod 12)
    int sf = (7 * target) % 12;
    if (sf > 6) sf -= 12;
    meta.push_back({map.to_tick(ks.time), 1, {0xFF, 0x59, 0x02, uint8_t(int8_t(sf)), uint8_t(ks.mode)}});
  }
  for (const auto& c : ns.chords) {
    std::string s = "chord:" + c.figure;
    FUGUE_CHECK(s.size() < 0x0FFFFFFF, "MIDI: chord text too long");
    Out o{map.to_tick(c.time), 1, {0xFF, 0x06}};
    put_vlq(o.bytes, s.size());
    o.bytes.insert(o.bytes.end(), s.begin(), s.end());
    meta.push_back(std::move(o));
  }
  return meta;
}

// One track per (instrument, program, is_drum), ordered by instrument; the channel byte is
// left 0 until the tracks are numbered.
using TrackKey = std::tuple<int, int, bool>;
inline std::map<TrackKey, std::vector<Out>> instrument_track_events(const NoteSequence& ns,
                                                                    const SecondsTempoMap& map) {
  std::map<TrackKey, std::vector<Out>> tracks;
  for (const auto& n : ns.notes) {
    FUGUE_CHECK(n.pitch >= 0 && n.pitch < 128, "MIDI: cannot write pitch ", n.pitch);
    FUGUE_CHECK(n.program >= 0 && n.program < 128, "MIDI: cannot write program ", n.program);
    uint64_t s = map.to_tick(n.start_time), e = map.to_tick(n.end_time);
    if (e <= s) e = s + 1;  // a same-tick off would not close the note
    auto vel = static_cast<uint8_t>(std::clamp(n.velocity, 1, 127));
    auto& t = tracks[{n.instrument, n.program, n.is_drum}];
    t.push_back({s, 2, {0x90, uint8_t(n.pitch), vel}});
    t.push_back({e, 0, {0x80, uint8_t(n.pitch), 0}});
  }
  for (const auto& c : ns.control_changes) {
    FUGUE_CHECK(c.number >= 0 && c.number < 128 && c.value >= 0 && c.value < 128, "MIDI: bad control change");
    tracks[{c.instrument, c.program, c.is_drum}].push_back(
        {map.to_tick(c.time), 1, {0xB0, uint8_t(c.number), uint8_t(c.value)}});
  }
  return tracks;
}

// The MThd chunk of a format-1 file.
inline std::vector<uint8_t> file_header(std::size_t ntracks, int ppq) {
  std::vector<uint8_t> file{'M', 'T', 'h', 'd', 0, 0, 0, 6, 0, 1};
  FUGUE_CHECK(ntracks < 0x10000, "MIDI: too many tracks (", ntracks, ")");
  file.push_back(uint8_t(ntracks >> 8));
  file.push_back(uint8_t(ntracks));
  file.push_back(uint8_t(ppq >> 8));
  file.push_back(uint8_t(ppq));
  return file;
}

// Writes the instrument tracks: drums on channel 10, the others on channels 1-9, 11-16 in
// turn, each track opening with its program change.
inline void put_instrument_tracks(std::vector<uint8_t>& file, std::map<TrackKey, std::vector<Out>> tracks) {
  static constexpr uint8_t kChannels[15] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15};
  int next = 0;
  for (auto& [key, evs] : tracks) {
    auto [inst, program, drum] = key;
    uint8_t ch = drum ? 9 : kChannels[next++ % 15];
    for (auto& e : evs) e.bytes[0] |= ch;
    evs.push_back({0, -1, {uint8_t(0xC0 | ch), uint8_t(program)}});
    put_track(file, std::move(evs));
  }
}

}  // namespace detail::midi

inline std::vector<uint8_t> write_midi(const NoteSequence& ns) {
  using namespace detail::midi;
  const int ppq = ticks_per_quarter_to_write(ns);
  const SecondsTempoMap map = build_seconds_tempo_map(ns, ppq);
  std::vector<Out> meta = conductor_track_events(ns, map);
  std::map<TrackKey, std::vector<Out>> tracks = instrument_track_events(ns, map);
  std::vector<uint8_t> file = file_header(1 + tracks.size(), ppq);
  put_track(file, std::move(meta));
  put_instrument_tracks(file, std::move(tracks));
  return file;
}

inline void write_midi_file(const NoteSequence& ns, const std::string& path) {
  auto bytes = write_midi(ns);
  std::ofstream f(path, std::ios::binary);
  FUGUE_CHECK(f.good(), "MIDI: cannot create ", path);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  FUGUE_CHECK(f.good(), "MIDI: write error on ", path);
}

}  // namespace fugue::music
