#!/usr/bin/python3
"""Helper of scripts/prepare_ddsp_data.sh (standard library + numpy only; Debian's python3).

  ddsp_render.py plan  ESSEN_DIR WORK_DIR   select tunes, write program-set, octave-shifted
                                             MIDI to WORK_DIR/midi/ and WORK_DIR/plan.tsv
  ddsp_render.py finish WORK_DIR MUSIC_ROOT CAP_S
                                             normalise, trim and cap the rendered 16 kHz
                                             float audio, write the WAVs, check and measure
                                             them, write WORK_DIR/index.json, print summary
  ddsp_render.py summary INDEX_JSON          print the summary of an existing index.json

Selection is deterministic: the Essen MIDI files are visited in the order of the SHA-256 of
their file names (a fixed shuffle that mixes the books), and a tune is taken when it is
monophonic, 15..38 s long at its own tempo, has >= 24 notes, fits the instrument's range
after an octave shift, and neither its melody (pitch intervals + durations) nor its title
was taken before, by any instrument or split; so test tunes never repeat a train tune.
"""
import hashlib
import json
import os
import re
import struct
import sys

INSTRUMENTS = [
    # name, GM program (0-based), comfortable range (MIDI notes), preferred median
    ("violin", 40, 55, 93, 72),   # G3..A6, centred near C5
    ("flute", 73, 60, 96, 77),    # C4..C7, centred near F5
]
SPLITS = [("train", 36), ("test", 6)]
MIN_S, MAX_S, MIN_NOTES = 15.0, 38.0, 24
TAIL_S = 1.5   # end-of-track is moved this far past the last note-off (release tail)
PEAK_DBFS = -3.0       # every file's peak is normalised to this
SILENCE_DBFS = -60.0   # leading / trailing audio below this (after normalising) is trimmed
SKIP_BOOKS = ("test", "variant")   # music21's parser test tunes and the variant book


# --- minimal Standard MIDI File reader / writer -------------------------------------
def _vlq(b, i):
    v = 0
    while True:
        c = b[i]
        i += 1
        v = (v << 7) | (c & 0x7F)
        if not c & 0x80:
            return v, i


def _enc_vlq(v):
    out = [v & 0x7F]
    v >>= 7
    while v:
        out.append(0x80 | (v & 0x7F))
        v >>= 7
    return bytes(reversed(out))


def read_midi(path):
    """Returns (division, events) with events (abs_tick, order, kind, status, data) merged
    over all tracks; kind is 'meta' (status = meta type), 'sysex' or 'ch'."""
    b = open(path, "rb").read()
    if b[:4] != b"MThd":
        raise ValueError("not a MIDI file")
    _fmt, _ntr, div = struct.unpack(">HHH", b[8:14])
    if div & 0x8000:
        raise ValueError("SMPTE time division")
    i = 8 + struct.unpack(">I", b[4:8])[0]
    events, order = [], 0
    while i + 8 <= len(b):
        tag, ln = b[i:i + 4], struct.unpack(">I", b[i + 4:i + 8])[0]
        data = b[i + 8:i + 8 + ln]
        i += 8 + ln
        if tag != b"MTrk":
            continue
        j, t, rs = 0, 0, None
        while j < len(data):
            d, j = _vlq(data, j)
            t += d
            s = data[j]
            if s == 0xFF:
                typ = data[j + 1]
                n, k = _vlq(data, j + 2)
                events.append((t, order, "meta", typ, data[k:k + n]))
                j = k + n
            elif s in (0xF0, 0xF7):
                n, k = _vlq(data, j + 1)
                events.append((t, order, "sysex", s, data[k:k + n]))
                j = k + n
            else:
                if s & 0x80:
                    rs = s
                    j += 1
                if rs is None:
                    raise ValueError("running status without status")
                n = 1 if (rs & 0xF0) in (0xC0, 0xD0) else 2
                events.append((t, order, "ch", rs, bytes(data[j:j + n])))
                j += n
            order += 1
    events.sort(key=lambda e: (e[0], e[1]))
    return div, events


def write_midi(path, div, events):
    """Format-0 file from (abs_tick, kind, status, data) events, already sorted."""
    trk, last = bytearray(), 0
    for t, kind, s, d in events:
        trk += _enc_vlq(t - last)
        last = t
        if kind == "meta":
            trk += bytes([0xFF, s]) + _enc_vlq(len(d)) + d
        elif kind == "sysex":
            trk += bytes([s]) + _enc_vlq(len(d)) + d
        else:
            trk += bytes([s]) + d
    with open(path, "wb") as f:
        f.write(b"MThd" + struct.pack(">IHHH", 6, 0, 1, div))
        f.write(b"MTrk" + struct.pack(">I", len(trk)) + trk)


def tick_to_seconds(div, events):
    tempo = [(0, 500000)]
    for t, _o, kind, s, d in events:
        if kind == "meta" and s == 0x51 and len(d) == 3:
            tempo.append((t, int.from_bytes(d, "big")))
    tempo.sort()

    def sec(tick):
        acc, prev_t, prev_us = 0.0, 0, 500000
        for tt, us in tempo:
            if tt >= tick:
                break
            acc += (tt - prev_t) * prev_us / (div * 1e6)
            prev_t, prev_us = tt, us
        return acc + (tick - prev_t) * prev_us / (div * 1e6)

    return sec, tempo[-1][1]


def analyse(path):
    """Notes, title, duration; None when the tune is unusable (polyphonic, drums, ...)."""
    div, events = read_midi(path)
    title, notes, active, chans = "", [], {}, set()
    for t, _o, kind, s, d in events:
        if kind == "meta" and s == 0x03 and not title:
            title = d.decode("latin-1").strip()
        if kind != "ch":
            continue
        hi, ch = s & 0xF0, s & 0x0F
        if hi == 0x90 and d[1] > 0:
            if ch == 9 or active:
                return None           # drums, or a second voice sounding (not monophonic)
            active[d[0]] = t
            chans.add(ch)
        elif hi == 0x80 or (hi == 0x90 and d[1] == 0):
            if d[0] in active:
                notes.append((active.pop(d[0]), t, d[0]))
    if active or not notes:
        return None
    sec, _ = tick_to_seconds(div, events)
    return dict(div=div, events=events, title=title, notes=notes, chans=sorted(chans),
                start_s=sec(notes[0][0]), end_s=sec(max(n[1] for n in notes)), sec=sec)


def octave_shift(pitches, lo, hi, centre):
    pitches = sorted(pitches)
    median = pitches[len(pitches) // 2]
    fits = [k for k in range(-36, 37, 12) if pitches[0] + k >= lo and pitches[-1] + k <= hi]
    return min(fits, key=lambda k: (abs(median + k - centre), abs(k))) if fits else None


def rewrite(a, program, shift, dst):
    """Drops program changes and text, sets `program` on every melody channel at tick 0,
    shifts notes by `shift` semitones, and moves end-of-track TAIL_S past the last note."""
    div, out = a["div"], []
    for ch in a["chans"]:
        out.append((0, "ch", 0xC0 | ch, bytes([program])))
    last = 0
    for t, _o, kind, s, d in a["events"]:
        last = max(last, t)
        if kind == "meta":
            if s in (0x51, 0x58, 0x59):           # tempo, time / key signature
                out.append((t, kind, s, d))
            continue
        if kind != "ch" or (s & 0xF0) == 0xC0:
            continue
        if (s & 0xF0) in (0x80, 0x90, 0xA0):
            d = bytes([d[0] + shift, d[1]])
        out.append((t, kind, s, d))
    _, last_us = tick_to_seconds(div, a["events"])
    end = last + int(round(TAIL_S * 1e6 / last_us * div))
    out.sort(key=lambda e: e[0])   # stable: program changes stay first at tick 0
    out.append((end, "meta", 0x2F, b""))
    write_midi(dst, div, out)


def melody_key(notes):
    p0, t0 = notes[0][2], notes[0][0]
    sig = ";".join(f"{p - p0},{s - t0},{e - s}" for s, e, p in notes)
    return hashlib.sha256(sig.encode()).hexdigest()


def plan(essen, work):
    names = sorted(f for f in os.listdir(essen) if f.endswith(".mid")
                   and not f.startswith(SKIP_BOOKS))
    names.sort(key=lambda f: hashlib.sha256(f.encode()).hexdigest())
    quotas = [(inst, split, n) for inst in INSTRUMENTS for split, n in SPLITS]
    seen_melody, seen_title, rows, visited = set(), set(), [], 0
    it = iter(names)
    skipped = dict(unusable=0, length=0, duplicate=0, range=0)
    for (iname, prog, lo, hi, centre), split, quota in quotas:
        os.makedirs(os.path.join(work, "midi", iname, split), exist_ok=True)
        got = 0
        while got < quota:
            try:
                f = next(it)
            except StopIteration:
                sys.exit(f"ddsp_render: ran out of Essen tunes for {iname}/{split}")
            visited += 1
            try:
                a = analyse(os.path.join(essen, f))
            except (ValueError, IndexError):
                a = None
            if a is None:
                skipped["unusable"] += 1
                continue
            dur = a["end_s"] - a["start_s"]
            if not (MIN_S <= dur <= MAX_S) or len(a["notes"]) < MIN_NOTES:
                skipped["length"] += 1
                continue
            mkey = melody_key(a["notes"])
            tkey = re.sub(r"[^0-9a-z]+", "", a["title"].lower())
            if mkey in seen_melody or (tkey and tkey in seen_title):
                skipped["duplicate"] += 1
                continue
            pitches = [n[2] for n in a["notes"]]
            shift = octave_shift(pitches, lo, hi, centre)
            if shift is None:
                skipped["range"] += 1
                continue     # skipped for every instrument: the visit order stays fixed
            seen_melody.add(mkey)
            if tkey:
                seen_title.add(tkey)
            name = f[:-4]
            dst = os.path.join(work, "midi", iname, split, name + ".mid")
            rewrite(a, prog, shift, dst)
            rows.append(dict(instrument=iname, split=split, name=name, program=prog,
                             source=f, title=a["title"], transpose=shift,
                             notes=len(a["notes"]), midi_seconds=round(dur, 3),
                             pitch_min=min(pitches) + shift, pitch_max=max(pitches) + shift))
            got += 1
    with open(os.path.join(work, "plan.json"), "w") as fh:
        json.dump(rows, fh, indent=1, ensure_ascii=False)
    with open(os.path.join(work, "plan.tsv"), "w") as fh:
        for r in rows:
            fh.write(f"{r['instrument']}\t{r['split']}\t{r['name']}\n")
    shifts = {}
    for r in rows:
        shifts[(r["instrument"], r["transpose"])] = shifts.get((r["instrument"], r["transpose"]), 0) + 1
    print(f"fugue-ddsp: selected {len(rows)} tunes after visiting {visited} of {len(names)} "
          f"(skipped {skipped}); octave shifts "
          + ", ".join(f"{i} {k:+d}: {n}" for (i, k), n in sorted(shifts.items())))


def write_wav(path, sr, x):
    import wave
    import numpy as np
    pcm = np.clip(np.round(x * 32768.0), -32768, 32767).astype("<i2")
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes(pcm.tobytes())


def read_wav(path):
    import wave
    import numpy as np
    with wave.open(path, "rb") as w:
        assert w.getnchannels() == 1 and w.getsampwidth() == 2, path
        sr, n = w.getframerate(), w.getnframes()
        x = np.frombuffer(w.readframes(n), dtype="<i2").astype(np.float64) / 32768.0
    return sr, x


def finish_audio(x, sr, cap_s):
    """Peak to PEAK_DBFS, trim what lies below SILENCE_DBFS at both ends (keeping short
    margins), cap at cap_s, 2 ms fade-in and 30 ms fade-out."""
    import numpy as np
    x = x * (10 ** (PEAK_DBFS / 20) / np.abs(x).max())
    loud = np.flatnonzero(np.abs(x) > 10 ** (SILENCE_DBFS / 20))
    a = max(0, loud[0] - int(0.005 * sr))
    b = min(len(x), loud[-1] + 1 + int(0.05 * sr), a + int(round(cap_s * sr)))
    x = x[a:b].copy()
    nin, nout = int(0.002 * sr), int(0.03 * sr)
    x[:nin] *= np.linspace(0.0, 1.0, nin, endpoint=False)
    x[len(x) - nout:] *= np.linspace(1.0, 0.0, nout)
    return x


def finish(work, music_root, cap_s):
    """Turns each rendered 16 kHz float mono WORK/raw/<inst>.<split>.<name>.f32 into
    WORK/<inst>/<split>/<name>.wav, checks and measures them, writes WORK/index.json."""
    import numpy as np
    rows = json.load(open(os.path.join(work, "plan.json")))
    bad, files, sr = [], [], 16000
    for r in rows:
        rel = f"{r['instrument']}/{r['split']}/{r['name']}.wav"
        raw = os.path.join(work, "raw", f"{r['instrument']}.{r['split']}.{r['name']}.f32")
        y = np.fromfile(raw, dtype="<f4").astype(np.float64)
        render_peak = float(np.abs(y).max()) if len(y) else 0.0
        if render_peak < 1e-4:
            sys.exit(f"ddsp_render: {raw}: fluidsynth rendered silence")
        write_wav(os.path.join(work, rel), sr, finish_audio(y, sr, cap_s))
        os.remove(raw)
        sr_, x = read_wav(os.path.join(work, rel))   # measure what was written
        peak = float(np.abs(x).max()) if len(x) else 0.0
        rms = float(np.sqrt(np.mean(x ** 2))) if len(x) else 0.0
        # share of 32 ms frames more than 40 dB below the file's peak (rests, releases)
        fr = x[: len(x) // 512 * 512].reshape(-1, 512)
        quiet = float(np.mean(np.sqrt(np.mean(fr ** 2, axis=1)) < peak * 0.01)) if len(fr) else 1.0
        dur = len(x) / sr_
        e = dict(path=rel, instrument=r["instrument"], split=r["split"], name=r["name"],
                 program=r["program"], sample_rate=sr_, num_samples=len(x),
                 duration_s=round(dur, 4), capped=bool(r["midi_seconds"] + TAIL_S > cap_s),
                 peak=round(peak, 5), rms=round(rms, 5), render_peak=round(render_peak, 5),
                 quiet_frame_fraction=round(quiet, 4),
                 source=f"music/folk/essen/{r['source']}", title=r["title"],
                 transpose=r["transpose"], notes=r["notes"], midi_seconds=r["midi_seconds"],
                 pitch_min=r["pitch_min"], pitch_max=r["pitch_max"])
        if (not (peak < 0.99) or not (render_peak < 0.99) or rms < 1e-3 or dur < 5.0
                or dur > cap_s + 1e-6 or sr_ != sr):
            bad.append(e)
        files.append(e)
    groups = {}
    for e in files:
        groups.setdefault((e["instrument"], e["split"]), []).append(e)
    summary = {}
    for (inst, split), es in groups.items():
        d = [e["duration_s"] for e in es]
        summary.setdefault(inst, {})[split] = dict(
            files=len(es), total_s=round(sum(d), 2), min_s=min(d), max_s=max(d),
            peak_max=max(e["peak"] for e in es),
            render_peak_max=max(e["render_peak"] for e in es),
            rms_min=min(e["rms"] for e in es),
            rms_mean=round(sum(e["rms"] for e in es) / len(es), 5))
    doc = dict(description="DDSP autoencoder audio: Essen folk tunes (music21 corpus, "
                           "abc2midi) rendered by fluidsynth with FluidR3_GM, mono 16-bit",
               sample_rate=sr, soundfont="/usr/share/sounds/sf2/FluidR3_GM.sf2",
               peak_dbfs=PEAK_DBFS, silence_dbfs=SILENCE_DBFS, cap_s=cap_s,
               music_root=music_root, summary=summary, files=files)
    with open(os.path.join(work, "index.json"), "w") as fh:
        json.dump(doc, fh, indent=1, ensure_ascii=False)
    print_summary(doc)
    if bad:
        for e in bad:
            print(f"fugue-ddsp: CHECK FAILED {e['path']}: peak {e['peak']} render peak "
                  f"{e['render_peak']} rms {e['rms']} duration {e['duration_s']} s "
                  f"sr {e['sample_rate']}", file=sys.stderr)
        sys.exit(1)


def print_summary(doc):
    for inst, splits in doc["summary"].items():
        for split, s in splits.items():
            print(f"fugue-ddsp: {inst:6s} {split:5s}: {s['files']:2d} files, "
                  f"{s['total_s'] / 60:5.2f} min ({s['min_s']:.1f}..{s['max_s']:.1f} s each), "
                  f"peak max {s['peak_max']:.3f} (rendered {s['render_peak_max']:.3f}), "
                  f"rms min {s['rms_min']:.4f} "
                  f"mean {s['rms_mean']:.4f}")
    shown = {}
    for e in doc["files"]:
        k = (e["instrument"], e["split"])
        if shown.get(k, 0) < 2:
            shown[k] = shown.get(k, 0) + 1
            print(f"fugue-ddsp:   {e['path']:32s} {e['duration_s']:6.2f} s  peak {e['peak']:.3f}"
                  f"  rms {e['rms']:.4f}  quiet {e['quiet_frame_fraction']:.2f}"
                  f"  notes {e['pitch_min']}..{e['pitch_max']} ({e['transpose']:+d})"
                  f"  <- {e['source']}")


if __name__ == "__main__":
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "plan" and len(sys.argv) == 4:
        plan(sys.argv[2], sys.argv[3])
    elif cmd == "finish" and len(sys.argv) == 5:
        finish(sys.argv[2], sys.argv[3], float(sys.argv[4]))
    elif cmd == "summary" and len(sys.argv) == 3:
        print_summary(json.load(open(sys.argv[2])))
    else:
        sys.exit(__doc__)
