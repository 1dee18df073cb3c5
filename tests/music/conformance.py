#!/usr/bin/env python3
"""Conformance of fugue/music against note-seq 0.0.5 and pretty_midi (opt-in).

For a seeded sample of the prepared corpus files it compares, file by file:
  notes        fugue's read_midi vs note_seq.midi_file_to_note_sequence (pretty_midi inside)
  melodies     MusicVAE melody extraction per time-change piece (unsliced event lists)
  drums        MusicVAE drum-track extraction (9-class bitmasks)
  performance  Music Transformer ids (100 steps/s, 32 velocity bins, pitches 21..108, +2)
  pretty_midi  pretty_midi reading a fugue-written copy gives the same notes
Run:  tests/music/conformance.sh [build-dir] [files-per-corpus]
Needs scripts/prepare_music_data.sh --oracles; prints one SKIP line and exits 0 otherwise.
"""
import json
import os
import random
import subprocess
import sys
import tempfile

DATA = os.path.join(os.environ.get("FUGUE_DATA", os.path.expanduser("~/.cache/fugue")), "music")


def skip(why):
    print(f"SKIP: music conformance: {why}")
    sys.exit(0)


def main():
    tool = sys.argv[1] if len(sys.argv) > 1 else "build/tests/music/music_tool"
    per_corpus = int(sys.argv[2]) if len(sys.argv) > 2 else 40
    if not os.path.isdir(DATA):
        skip(f"no prepared data at {DATA} (run scripts/prepare_music_data.sh --oracles)")
    if not os.access(tool, os.X_OK):
        skip(f"no music_tool at {tool} (build the music_tool target)")
    try:
        import note_seq
        import pretty_midi
        from note_seq import sequences_lib, melodies_lib, drums_lib
    except Exception as e:  # noqa: BLE001 - any import failure means the oracle is absent
        skip(f"note-seq/pretty_midi not importable ({type(e).__name__}: {e}); "
             "run scripts/prepare_music_data.sh --oracles and use its venv python")

    drum_classes = [[36, 35], [38, 27, 28, 31, 32, 33, 34, 37, 39, 40, 56, 65, 66, 75, 85],
                    [42, 44, 54, 68, 69, 70, 71, 73, 78, 80, 22], [46, 67, 72, 74, 79, 81, 26],
                    [45, 29, 41, 43, 61, 64, 84], [48, 47, 60, 63, 77, 86, 87], [50, 30, 62, 76, 83],
                    [49, 52, 55, 57, 58], [51, 53, 59, 82]]
    class_of = {p: k for k, ps in enumerate(drum_classes) for p in ps}

    # note-seq 0.0.5 has Melody / DrumTrack.from_quantized_sequence (the per-melody rules)
    # but not the outer extraction loops, which live in magenta's pipelines (TensorFlow).
    # These two loops restate magenta's extract_melodies / extract_drum_tracks with
    # MusicVAE's settings (min 1 bar, gap 1 bar, truncate at 100 bars, pad to a bar).
    def extract_melodies(q):
        spb = int(sequences_lib.steps_per_bar_in_quantized_sequence(q))
        out = []
        for inst in sorted(set(n.instrument for n in q.notes)):
            search = 0
            while True:
                m = melodies_lib.Melody()
                try:
                    m.from_quantized_sequence(q, instrument=inst, search_start_step=search, gap_bars=1,
                                              ignore_polyphonic_notes=True, pad_end=True)
                except (melodies_lib.PolyphonicMelodyError, melodies_lib.BadNoteError):
                    break
                if not m:
                    break
                search = m.end_step + (search - m.end_step) % spb
                if len(m) < spb:
                    continue
                if len(m) > 1600:
                    m.set_length(1600 - 1600 % spb)
                if sum(1 for x in m.get_note_histogram() if x) < 1:
                    continue
                out.append(m)
        return out

    def extract_drum_tracks(q):
        spb = int(sequences_lib.steps_per_bar_in_quantized_sequence(q))
        out, search = [], 0
        while True:
            d = drums_lib.DrumTrack()
            d.from_quantized_sequence(q, search_start_step=search, gap_bars=1, pad_end=True)
            search = d.end_step + (search - d.end_step) % spb
            if not d:
                break
            if len(d) < spb:
                continue
            if len(d) > 1600:
                d.set_length(1600 - 1600 % spb)
            out.append(d)
        return out

    def ref_melodies(ns):
        out = []
        for piece in sequences_lib.split_note_sequence_on_time_changes(ns):
            p = note_seq.NoteSequence()
            p.CopyFrom(piece)
            del p.notes[:]
            p.notes.extend([n for n in piece.notes if 21 <= n.pitch <= 108])
            try:
                q = sequences_lib.quantize_note_sequence(p, 4)
            except Exception:  # noqa: BLE001 - the converter skips such pieces too
                continue
            if sequences_lib.steps_per_bar_in_quantized_sequence(q) != 16:
                continue
            out += [list(m) for m in extract_melodies(q)]
        return sorted(out)

    def ref_drums(ns):
        out = []
        for piece in sequences_lib.split_note_sequence_on_time_changes(ns):
            try:
                q = sequences_lib.quantize_note_sequence(piece, 4)
            except Exception:  # noqa: BLE001
                continue
            if sequences_lib.steps_per_bar_in_quantized_sequence(q) != 16:
                continue
            keep = [n for n in q.notes if n.is_drum and n.pitch in class_of]
            for n in keep:
                n.pitch = drum_classes[class_of[n.pitch]][0]
            del q.notes[:]
            q.notes.extend(keep)
            out += [[sum(1 << k for k in {class_of[p] for p in ev}) for ev in t]
                    for t in extract_drum_tracks(q)]
        return sorted(out)

    def ref_performance(ns):
        p = note_seq.NoteSequence()
        p.CopyFrom(ns)
        del p.notes[:]
        p.notes.extend([n for n in ns.notes if 21 <= n.pitch <= 108])
        q = sequences_lib.quantize_note_sequence_absolute(p, 100)
        perf = note_seq.Performance(q, num_velocity_bins=32)
        enc = note_seq.PerformanceOneHotEncoding(num_velocity_bins=32, max_shift_steps=100,
                                                 min_pitch=21, max_pitch=108)
        return [enc.encode_event(e) + 2 for e in perf]

    def note_key(n):  # [pitch, velocity, start, end, program, is_drum, instrument]
        return (round(n[2], 4), n[0], round(n[3], 4), n[6], n[1], n[4], n[5], n[2], n[3])

    def same_notes(a, b):
        """Sorted note keys equal, times to within 1 microsecond."""
        if len(a) != len(b):
            return False
        for x, y in zip(a, b):
            if x[1] != y[1] or x[3:7] != y[3:7]:
                return False
            if abs(x[7] - y[7]) > 1e-6 or abs(x[8] - y[8]) > 1e-6:
                return False
        return True

    rng = random.Random(0)
    files = []
    for sub in ["folk/essen", "folk/oneills", "folk/ryan", "bach", "mma", "games"]:
        d = os.path.join(DATA, sub)
        if not os.path.isdir(d):
            continue
        names = sorted(f for f in os.listdir(d) if f.lower().endswith((".mid", ".midi")))
        files += [os.path.join(d, f) for f in rng.sample(names, min(per_corpus, len(names)))]
    if not files:
        skip(f"no MIDI files under {DATA}")

    stats = {k: [0, 0] for k in ["notes", "melodies", "drums", "performance", "pretty_midi"]}
    failures = []

    def record(kind, ok, path, detail=""):
        stats[kind][0] += 1
        stats[kind][1] += ok
        if not ok and len(failures) < 20:
            failures.append(f"{kind}: {path}: {detail}")

    with tempfile.TemporaryDirectory() as tmp:
        for path in files:
            ns = note_seq.midi_file_to_note_sequence(path)
            got = json.loads(subprocess.run([tool, "extract", path], check=True, capture_output=True,
                                            text=True).stdout)
            ref_notes = sorted(note_key([n.pitch, n.velocity, n.start_time, n.end_time, n.program,
                                         int(n.is_drum), n.instrument]) for n in ns.notes)
            fug_notes = sorted(note_key(n) for n in got["notes"])
            record("notes", same_notes(ref_notes, fug_notes), path,
                   f"{len(ref_notes)} vs {len(fug_notes)} notes")
            ref_m, fug_m = ref_melodies(ns), sorted(got["melodies"])
            record("melodies", ref_m == fug_m, path, f"{len(ref_m)} vs {len(fug_m)} melodies")
            ref_d, fug_d = ref_drums(ns), sorted(got["drums"])
            record("drums", ref_d == fug_d, path, f"{len(ref_d)} vs {len(fug_d)} drum tracks")
            ref_p, fug_p = ref_performance(ns), got["performance"]
            first = next((i for i, (a, b) in enumerate(zip(ref_p, fug_p)) if a != b), None)
            record("performance", ref_p == fug_p, path,
                   f"{len(ref_p)} vs {len(fug_p)} ids, first difference at {first}")
            out = os.path.join(tmp, "fugue.mid")
            subprocess.run([tool, "write", path, out], check=True)
            pm = pretty_midi.PrettyMIDI(out)
            pm_notes = sorted(note_key([n.pitch, n.velocity, n.start, n.end, i.program, int(i.is_drum), 0])
                              for i in pm.instruments for n in i.notes)
            # instrument ids are compared above; pretty_midi's own object has none
            ref_any_inst = sorted(k[:3] + (0,) + k[4:] for k in ref_notes)
            record("pretty_midi", same_notes(pm_notes, ref_any_inst), path,
                   f"{len(pm_notes)} vs {len(ref_notes)} notes")

    bad = 0
    for kind, (n, ok) in stats.items():
        print(f"music conformance: {kind:12s} {ok}/{n} files identical")
        bad += n - ok
    for f in failures:
        print("  MISMATCH " + f)
    print(f"{sum(ok for _, ok in stats.values())} passed, {bad} failed")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
