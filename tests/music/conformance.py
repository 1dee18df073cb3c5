#!/usr/bin/env python3
"""Conformance of fugue/music against Magenta 2.1.4's own MusicVAE data converters, note-seq 0.0.5
and pretty_midi (opt-in: scripts/conformance.sh music).

Every MIDI file of the prepared corpora (or a seeded sample: --files N) is read by both sides and
compared, encoding by encoding:
  notes        fugue read_midi vs note_seq.midi_file_to_note_sequence (pretty_midi inside);
               also total_time
  melody       2-bar melody windows, OneHotMelodyConverter as cat-mel_2bar (MEL_PROGRAMS)
  drums        2-bar drum windows, DrumsConverter as cat-drums_2bar (512 classes)
  trio         16-bar trio windows, TrioConverter as hier-trio_16bar (90 + 90 + 512 classes)
  groove       2-bar 27-value groove tensors, GrooveConverter as groovae_2bar (first 20 windows),
               given the drum notes of its Roland map (see groove_input)
  multitrack   one-bar 8 x 64 token tensors, MultiInstrumentPerformanceConverter as
               hier-multiperf_vel_1bar (490 tokens)
  performance  Music Transformer ids (note-seq Performance, 100 steps/s, 32 velocity bins, +2)
The converters are built as those configs build them, except that all windows are kept
(max_tensors_per_notesequence=None: the configs keep 5 random ones per piece when training, which
fugue's dataset does with its own seeded rng, not here); windows are compared as multisets of class-id sequences (Magenta de-duplicates through
a set, so its order is arbitrary), groove tensors in order to 1e-5.

Per encoding it prints: files, files identical, items (reference's), items differing, and the
files where the reference itself raises (counted apart; fugue's result is shown). Exit status 1
when anything differs. Needs scripts/reference_env.sh's venv and scripts/prepare_music_data.sh's
corpora; prints one SKIP line and exits 0 without them.
"""
import argparse
import collections
import json
import multiprocessing as mp
import os
import random
import subprocess
import sys
import warnings

DATA = os.path.join(os.environ.get("FUGUE_DATA", os.path.expanduser("~/.cache/fugue")), "music")
CORPORA = ["folk/essen", "folk/oneills", "folk/ryan", "bach", "mma", "games"]
ENCODINGS = ["notes", "melody", "drums", "trio", "groove", "multitrack", "performance"]


def skip(why):
    print(f"SKIP: music conformance: {why}")
    sys.exit(0)


# --- reference side (one set of converters per worker process) ---------------------------------
REF = {}


def init_reference():
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    warnings.filterwarnings("ignore")
    import numpy as np
    import note_seq
    from magenta.models.music_vae import data, data_hierarchical

    REF["np"] = np
    REF["note_seq"] = note_seq
    REF["melody"] = data.OneHotMelodyConverter(valid_programs=data.MEL_PROGRAMS, skip_polyphony=False,
                                               max_bars=100, slice_bars=2, steps_per_quarter=4,
                                               max_tensors_per_notesequence=None)
    REF["drums"] = data.DrumsConverter(max_bars=100, slice_bars=2, steps_per_quarter=4, roll_input=True,
                                       max_tensors_per_notesequence=None)
    REF["trio"] = data.TrioConverter(steps_per_quarter=4, slice_bars=16, gap_bars=2,
                                     max_tensors_per_notesequence=None)
    REF["groove"] = data.GrooveConverter(split_bars=2, steps_per_quarter=4, quarters_per_bar=4,
                                         max_tensors_per_notesequence=20, humanize=True,
                                         pitch_classes=data.ROLAND_DRUM_PITCH_CLASSES,
                                         inference_pitch_classes=data.REDUCED_DRUM_PITCH_CLASSES)
    REF["roland"] = {p for c in data.ROLAND_DRUM_PITCH_CLASSES for p in c}
    REF["multitrack"] = data_hierarchical.MultiInstrumentPerformanceConverter(
        num_velocity_bins=8, hop_size_bars=1, max_num_instruments=8, max_events_per_instrument=64,
        max_tensors_per_notesequence=None)


def argmax_rows(t):
    """One-hot rows -> class ids; all-zero (padding) rows -> -1."""
    np = REF["np"]
    t = np.asarray(t)
    ids = np.argmax(t, axis=-1)
    ids[~t.any(axis=-1)] = -1
    return [int(i) for i in ids]


def reference_performance(ns):
    note_seq = REF["note_seq"]
    from note_seq import sequences_lib
    p = note_seq.NoteSequence()
    p.CopyFrom(ns)
    del p.notes[:]
    p.notes.extend([n for n in ns.notes if 21 <= n.pitch <= 108])
    q = sequences_lib.quantize_note_sequence_absolute(p, 100)
    perf = note_seq.Performance(q, num_velocity_bins=32)
    enc = note_seq.PerformanceOneHotEncoding(num_velocity_bins=32, max_shift_steps=100, min_pitch=21, max_pitch=108)
    return [enc.encode_event(e) + 2 for e in perf]


def groove_input(ns):
    """The sequence's drum notes of the Roland map: GrooveConverter indexes its pitch map with every
    note's pitch (a KeyError on any other pitch: it was written for the Groove MIDI Dataset, all drums
    of that map); fugue's groove_windows reads those notes and ignores the rest."""
    p = REF["note_seq"].NoteSequence()
    p.CopyFrom(ns)
    del p.notes[:]
    p.notes.extend([n for n in ns.notes if n.is_drum and n.pitch in REF["roland"]])
    return p


def reference(path):
    note_seq = REF["note_seq"]
    try:
        ns = note_seq.midi_file_to_note_sequence(path)
    except Exception as e:  # noqa: BLE001 - any reader failure is a rejection
        return {"error": f"{type(e).__name__}: {e}"}
    out = {"total_time": ns.total_time,
           "notes": [[n.pitch, n.velocity, n.start_time, n.end_time, n.program, int(n.is_drum), n.instrument]
                     for n in ns.notes]}

    def attempt(name, fn):
        try:
            out[name] = fn()
        except Exception as e:  # noqa: BLE001 - the reference's own failure, reported apart
            out[name] = {"raised": f"{type(e).__name__}: {e}"}

    attempt("melody", lambda: [argmax_rows(t) for t in REF["melody"].to_tensors(ns).outputs])
    attempt("drums", lambda: [argmax_rows(t) for t in REF["drums"].to_tensors(ns).outputs])
    attempt("trio", lambda: [[argmax_rows(t[:, :90]), argmax_rows(t[:, 90:180]), argmax_rows(t[:, 180:])]
                             for t in REF["trio"].to_tensors(ns).outputs])
    attempt("groove", lambda: [[float(v) for v in REF["np"].asarray(t).reshape(-1)]
                               for t in REF["groove"].to_tensors(groove_input(ns)).outputs])
    attempt("multitrack", lambda: [argmax_rows(t) for t in REF["multitrack"].to_tensors(ns).outputs])
    attempt("performance", lambda: reference_performance(ns))
    return out


# --- comparison ----------------------------------------------------------------------------------
def note_key(n):  # [pitch, velocity, start, end, program, is_drum, instrument]
    return (round(n[2], 6), n[0], round(n[3], 6), n[6], n[1], n[4], n[5], n[2], n[3])


def same_notes(a, b):
    a, b = sorted(map(note_key, a)), sorted(map(note_key, b))
    if len(a) != len(b):
        return False
    return all(x[1] == y[1] and x[3:7] == y[3:7] and abs(x[7] - y[7]) <= 1e-6 and abs(x[8] - y[8]) <= 1e-6
               for x, y in zip(a, b))


def as_key(item):
    return json.dumps(item)


def multiset_difference(ref, fug):
    """Items of either side without a partner on the other."""
    r = collections.Counter(as_key(x) for x in ref)
    f = collections.Counter(as_key(x) for x in fug)
    return sum(((r - f) + (f - r)).values())


def groove_difference(ref, fug):
    if len(ref) != len(fug):
        return max(len(ref), len(fug))
    return sum(1 for x, y in zip(ref, fug) if len(x) != len(y) or any(abs(a - b) > 1e-5 for a, b in zip(x, y)))


def compare(path, fug, ref):
    """Per encoding: (status, items, differing, detail); status in ok / differs / ref_raised."""
    res = {}
    if "error" in ref or "error" in fug:
        both = "error" in ref and "error" in fug
        res["notes"] = ("ok" if both else "differs", 0, 0 if both else 1,
                        f"reference: {ref.get('error', 'read')}; fugue: {fug.get('error', 'read')}")
        return res
    ok = same_notes(ref["notes"], fug["notes"]) and abs(ref["total_time"] - fug["total_time"]) <= 1e-6
    res["notes"] = ("ok" if ok else "differs", len(ref["notes"]), 0 if ok else 1,
                    f"{len(ref['notes'])} vs {len(fug['notes'])} notes, total_time "
                    f"{ref['total_time']:.6f} vs {fug['total_time']:.6f}")
    for enc in ENCODINGS[1:]:
        r, f = ref[enc], fug[enc]
        if isinstance(r, dict):
            res[enc] = ("ref_raised", 0, 0, f"reference raised {r['raised'][:80]}; fugue gave {len(f)} items")
            continue
        if enc == "performance":
            first = next((i for i, (a, b) in enumerate(zip(r, f)) if a != b), min(len(r), len(f)))
            d = 0 if r == f else 1
            res[enc] = ("ok" if not d else "differs", len(r), d, f"{len(r)} vs {len(f)} ids, first difference at {first}")
            continue
        d = groove_difference(r, f) if enc == "groove" else multiset_difference(r, f)
        res[enc] = ("ok" if not d else "differs", len(r), d, f"{len(r)} vs {len(f)} items, {d} unmatched")
    return res


# --- driver --------------------------------------------------------------------------------------
TOOL = None


def worker_init(tool):
    global TOOL
    init_reference()
    TOOL = subprocess.Popen([tool, "tensors"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def run_one(path):
    TOOL.stdin.write(path + "\n")
    TOOL.stdin.flush()
    fug = json.loads(TOOL.stdout.readline())
    return path, compare(path, fug, reference(path))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("tool", help="path of the built music_tool")
    ap.add_argument("--files", default="all", help="files per corpus: a number (seeded sample) or 'all'")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--corpora", default=",".join(CORPORA), help="comma-separated subset of " + ",".join(CORPORA))
    ap.add_argument("--show", type=int, default=3, help="differing files shown per encoding")
    args = ap.parse_args()
    if not os.path.isdir(DATA):
        skip(f"no prepared data at {DATA} (run scripts/prepare_music_data.sh)")
    if not os.access(args.tool, os.X_OK):
        skip(f"no music_tool at {args.tool} (build the music_tool target)")
    try:
        init_reference()
    except Exception as e:  # noqa: BLE001 - any import failure means the reference is absent
        skip(f"the reference stack does not import ({type(e).__name__}: {e}); run scripts/reference_env.sh")

    rng = random.Random(0)
    files = []
    for sub in args.corpora.split(","):
        if sub not in CORPORA:
            ap.error(f"unknown corpus {sub!r}")
        d = os.path.join(DATA, sub)
        if not os.path.isdir(d):
            continue
        names = sorted(f for f in os.listdir(d) if f.lower().endswith((".mid", ".midi")))
        if args.files != "all":
            names = rng.sample(names, min(int(args.files), len(names)))
        files += [(sub, os.path.join(d, f)) for f in names]
    if not files:
        skip(f"no MIDI files under {DATA}")

    corpus_of = dict((p, c) for c, p in files)
    # per (corpus, encoding): files, identical, items, differing items, reference raised
    stats = collections.defaultdict(lambda: [0, 0, 0, 0, 0])
    shown = collections.defaultdict(list)
    with mp.Pool(args.jobs, initializer=worker_init, initargs=(args.tool,)) as pool:
        for path, res in pool.imap_unordered(run_one, [p for _, p in files], chunksize=8):
            for enc, (status, items, diff, detail) in res.items():
                s = stats[(corpus_of[path], enc)]
                s[0] += 1
                s[1] += status == "ok"
                s[2] += items
                s[3] += diff
                s[4] += status == "ref_raised"
                if status != "ok" and len(shown[enc]) < args.show:
                    shown[enc].append(f"{os.path.relpath(path, DATA)}: {status}: {detail}")

    print(f"music conformance: {len(files)} files of {DATA} (fugue vs magenta 2.1.4 / note-seq 0.0.5)")
    print(f"{'corpus':14s} {'encoding':12s} {'files':>6s} {'identical':>9s} {'items':>8s} {'differ':>7s} {'ref-raised':>10s}")
    bad = 0
    for sub in CORPORA:
        for enc in ENCODINGS:
            if (sub, enc) not in stats:
                continue
            n, ok, items, diff, raised = stats[(sub, enc)]
            print(f"{sub:14s} {enc:12s} {n:6d} {ok:9d} {items:8d} {diff:7d} {raised:10d}")
            bad += n - ok - raised
    for enc in ENCODINGS:
        for line in shown[enc]:
            print(f"  {enc}: {line}")
    print(f"music conformance: {'all identical' if not bad else f'{bad} file-encodings differ'}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
