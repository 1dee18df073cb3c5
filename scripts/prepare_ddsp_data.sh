#!/usr/bin/env bash
# Prepares real-timbre monophonic training audio for fugue's DDSP autoencoder, into
#   ${FUGUE_DATA:-$HOME/.cache/fugue}/ddsp/   (never committed; the Essen tunes' licences
#                                             and FluidR3_GM's MIT licence apply)
#
#   <instrument>/{train,test}/<tune>.wav   instrument: violin (GM 40), flute (GM 73);
#                                          36 train + 6 test tunes each, test tunes distinct
#                                          from every train tune (melody and title)
#   index.json                             every file: duration, sample rate, program,
#                                          source tune, octave shift, peak, RMS; per-split totals
#
# Melodies: music21's Essen folk songs as MIDI (abc2midi), made by prepare_music_data.sh
# (called here with --bach-limit 60 when they are missing). scripts/ddsp_render.py picks a
# fixed set of tunes (see its docstring), sets the GM program, shifts each tune by octaves
# into the instrument's comfortable range (violin G3..A6, flute C4..C7), and measures the
# results. fluidsynth renders offline (chorus and reverb off) at 44.1 kHz in float, so
# nothing clips and the soundfont's 44.1 kHz samples do not alias; sox mixes to mono and
# resamples to 16 kHz (float); ddsp_render.py normalises the peak to -3 dBFS, trims
# leading/trailing audio below -60 dBFS, caps the length at 40 s, writes 16-bit PCM WAV
# and checks every file (peak < 0.99 before and after normalising, RMS > 1e-3, 16 kHz).
# The octave-shifted, program-set MIDI that was rendered is kept in midi/, logs in log/.
#
# Idempotent: skipped when ddsp/.stamp matches the hash of this script and its helper.
# Usage: scripts/prepare_ddsp_data.sh
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=${FUGUE_DATA:-$HOME/.cache/fugue}
out=$root/ddsp
essen=$root/music/folk/essen
helper=$here/ddsp_render.py
t0=$(date +%s)
stage() { echo "fugue-ddsp: $* ($(( $(date +%s) - t0 )) s)"; }

apt_pkgs=(fluidsynth fluid-soundfont-gm sox abcmidi python3-numpy)
"$here/deps.sh" --only "${apt_pkgs[@]}"
py=/usr/bin/python3   # Debian's interpreter: a pyenv python3 may come first on PATH
sf2=/usr/share/sounds/sf2/FluidR3_GM.sf2
[[ -f $sf2 ]] || { echo "fugue-ddsp: $sf2 missing (fluid-soundfont-gm)" >&2; exit 1; }

hash=$(cat "${BASH_SOURCE[0]}" "$helper" | sha256sum | cut -c1-16)
if [[ -f $out/.stamp && $(cat "$out/.stamp") == "$hash" && -f $out/index.json ]]; then
  stage "up to date (stamp $hash); delete $out/.stamp to redo"
  "$py" "$helper" summary "$out/index.json"
  exit 0
fi

if [[ ! -f $root/music/folk/.done ]] || ! compgen -G "$essen/*.mid" >/dev/null; then
  stage "Essen MIDI missing: running prepare_music_data.sh --bach-limit 60"
  "$here/prepare_music_data.sh" --bach-limit 60
fi

work=$out.tmp
rm -rf "$work"; mkdir -p "$work"
stage "selecting tunes from $(find "$essen" -name '*.mid' | wc -l) Essen MIDI files"
"$py" "$helper" plan "$essen" "$work"

stage "rendering $(wc -l < "$work/plan.tsv") tunes with fluidsynth + sox (2 at a time)"
cap_s=40
render_one() {   # instrument split name
  local mid=$work/midi/$1/$2/$3.mid f44=$work/raw/$1.$2.$3.44k.f32 f16=$work/raw/$1.$2.$3.f32
  local log=$work/log/$1.$2.$3.log
  fluidsynth -ni -q -F "$f44" -T raw -O float -E little -r 44100 -g 0.5 \
    -o synth.chorus.active=0 -o synth.reverb.active=0 "$sf2" "$mid" >"$log" 2>&1
  # -D: no dither, -R: repeatable; stereo 44.1 kHz float -> mono 16 kHz float
  sox -D -R -t raw -L -e floating-point -b 32 -c 2 -r 44100 "$f44" \
    -t raw -L -e floating-point -b 32 "$f16" channels 1 rate -v 16000 2>>"$log"
  rm -f "$f44"
}
export -f render_one
export work sf2
mkdir -p "$work/raw" "$work/log" "$work"/{violin,flute}/{train,test}
tr '\t' ' ' < "$work/plan.tsv" | xargs -P 2 -L 1 bash -c 'render_one "$@"' _
logs=$(cat "$work"/log/*.log | grep -c . || true)
find "$work/log" -type f -empty -delete
stage "rendered; fluidsynth and sox printed $logs log lines (non-empty logs kept in $out/log)"

stage "normalising (peak -3 dBFS), trimming silence, capping at ${cap_s} s, checking, index.json"
"$py" "$helper" finish "$work" "$root/music" "$cap_s"
rmdir "$work/raw"
echo "$hash" > "$work/.stamp"
rm -rf "$out"; mv "$work" "$out"
stage "done: $(find "$out" -name '*.wav' | wc -l) WAV files, $(du -sh "$out" | cut -f1) in $out"
