// fugue/music/chords.hpp — chord symbols, the 49-class triad encoding, chord inference.
//
// Contract:
//  * parse_chord("F#m7/C#") -> root pitch class + triad quality (major, minor,
//    augmented, diminished, other); "N.C." is no chord. Qualities follow the chord's
//    triad: 7/maj7/6/9 are major, m7/m6 minor, m7b5/dim7 diminished, aug/+ augmented;
//    sus/power chords are "other" (not encodable as a triad).
//  * TriadChords (note-seq TriadChordOneHotEncoding): 0 = no chord, 1 + root = major,
//    13 + root = minor, 25 + root = augmented, 37 + root = diminished (root 0 = C).
//  * chords_per_step(qns, n): the chord class active at each of n steps (from the
//    sequence's chord annotations; steps before the first chord are no chord).
//  * infer_chords(qns, chords_per_bar): writes one chord annotation per chord frame, by
//    Viterbi decoding of an HMM over the 49 triad classes: emissions score the frame's
//    duration-weighted pitch-class profile against each triad's tones (no chord = flat
//    profile), transitions keep the chord with probability 1 - change_prob. The idea is
//    note-seq's infer_chords_for_sequence; it has no key states and is not bit-identical.
#pragma once

#include <array>
#include <cctype>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "fugue/core/error.hpp"
#include "fugue/music/note_sequence.hpp"
#include "fugue/music/quantize.hpp"

namespace fugue::music {

enum class ChordQuality { Major, Minor, Augmented, Diminished, Other, NoChord };

struct ChordSymbol {
  int root = -1;  // pitch class, -1 for no chord
  ChordQuality quality = ChordQuality::NoChord;
};

inline const std::string kNoChord = "N.C.";

inline ChordSymbol parse_chord(const std::string& figure) {
  if (figure == kNoChord || figure == "NC" || figure == "N.C") return {};
  FUGUE_CHECK(!figure.empty(), "empty chord symbol");
  static constexpr int kLetter[7] = {9, 11, 0, 2, 4, 5, 7};  // A..G
  char c = static_cast<char>(std::toupper(static_cast<unsigned char>(figure[0])));
  FUGUE_CHECK(c >= 'A' && c <= 'G', "chord symbol '", figure, "' does not start with a note name");
  int root = kLetter[c - 'A'];
  std::size_t i = 1;
  while (i < figure.size() && (figure[i] == '#' || figure[i] == 'b')) root += figure[i++] == '#' ? 1 : -1;
  root = ((root % 12) + 12) % 12;
  std::string kind = figure.substr(i);
  if (auto slash = kind.find('/'); slash != std::string::npos) kind = kind.substr(0, slash);
  auto starts = [&](const char* p) { return kind.rfind(p, 0) == 0; };
  ChordQuality q;
  if (starts("m7b5") || starts("m7-5") || starts("dim") || starts("o") || starts("\xc3\xb8") || starts("\xc2\xb0"))
    q = ChordQuality::Diminished;
  else if (starts("aug") || starts("+"))
    q = ChordQuality::Augmented;
  else if (starts("maj") || starts("M"))
    q = ChordQuality::Major;
  else if (starts("min") || starts("m") || starts("-"))
    q = ChordQuality::Minor;
  else if (starts("sus") || starts("5") || starts("no3"))
    q = ChordQuality::Other;
  else if (kind.empty() || std::isdigit(static_cast<unsigned char>(kind[0])) || starts("add") || starts("("))
    q = ChordQuality::Major;  // C, C7, C9, C6, C13, Cadd9
  else
    FUGUE_FAIL("cannot parse chord symbol '", figure, "'");
  return {root, q};
}

struct TriadChords {
  static constexpr int num_classes = 49;
  static int encode(const ChordSymbol& c) {
    switch (c.quality) {
      case ChordQuality::NoChord: return 0;
      case ChordQuality::Major: return 1 + c.root;
      case ChordQuality::Minor: return 13 + c.root;
      case ChordQuality::Augmented: return 25 + c.root;
      case ChordQuality::Diminished: return 37 + c.root;
      case ChordQuality::Other: break;
    }
    FUGUE_FAIL("chord is not a standard triad (root ", c.root, ")");
  }
  static int encode(const std::string& figure) { return encode(parse_chord(figure)); }
  static ChordSymbol decode_symbol(int id) {
    FUGUE_CHECK(id >= 0 && id < num_classes, "triad chord class ", id, " outside [0, 49)");
    if (id == 0) return {};
    static constexpr ChordQuality kQ[4] = {ChordQuality::Major, ChordQuality::Minor, ChordQuality::Augmented,
                                           ChordQuality::Diminished};
    return {(id - 1) % 12, kQ[(id - 1) / 12]};
  }
  static std::string decode(int id) {
    auto c = decode_symbol(id);
    if (c.quality == ChordQuality::NoChord) return kNoChord;
    static const char* kNames[12] = {"C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"};
    static const char* kSuffix[4] = {"", "m", "aug", "dim"};
    return std::string(kNames[c.root]) + kSuffix[(id - 1) / 12];
  }
  // Pitch classes of a triad class (empty for no chord).
  static std::vector<int> tones(int id) {
    auto c = decode_symbol(id);
    if (c.quality == ChordQuality::NoChord) return {};
    static constexpr int kThird[4] = {4, 3, 4, 3}, kFifth[4] = {7, 7, 8, 6};
    int q = (id - 1) / 12;
    return {c.root, (c.root + kThird[q]) % 12, (c.root + kFifth[q]) % 12};
  }
};

// Chord class per step [0, n) from a metrically quantized sequence's chord annotations.
inline std::vector<int32_t> chords_per_step(const NoteSequence& qns, int64_t n) {
  FUGUE_CHECK(qns.is_quantized(), "chords_per_step needs a quantized sequence");
  std::vector<std::pair<int64_t, int>> marks;
  for (const auto& c : qns.chords) marks.push_back({c.quantized_step, TriadChords::encode(c.figure)});
  std::stable_sort(marks.begin(), marks.end(), [](auto& a, auto& b) { return a.first < b.first; });
  std::vector<int32_t> out(static_cast<std::size_t>(std::max<int64_t>(n, 0)), 0);
  std::size_t j = 0;
  int cur = 0;
  for (int64_t t = 0; t < n; ++t) {
    while (j < marks.size() && marks[j].first <= t) cur = marks[j++].second;
    out[static_cast<std::size_t>(t)] = cur;
  }
  return out;
}

struct ChordInferenceOptions {
  int chords_per_bar = 1;
  double change_prob = 0.25;
  double note_concentration = 100.0;  // sharpness of the emission model
};

// Replaces qns.chords with inferred triads (one per frame); returns the classes.
inline std::vector<int> infer_chords(NoteSequence& qns, const ChordInferenceOptions& o = {}) {
  const int spb = steps_per_bar(qns);
  FUGUE_CHECK(o.chords_per_bar > 0 && spb % o.chords_per_bar == 0, "chords_per_bar must divide the bar");
  const int64_t frame = spb / o.chords_per_bar;
  int64_t end = 0;
  for (const auto& n : qns.notes) end = std::max(end, n.quantized_end_step);
  const std::size_t frames = static_cast<std::size_t>((end + frame - 1) / frame);
  std::vector<std::array<double, 12>> prof(frames, std::array<double, 12>{});
  for (const auto& n : qns.notes) {
    if (n.is_drum) continue;
    for (int64_t f = n.quantized_start_step / frame; f * frame < n.quantized_end_step; ++f) {
      int64_t a = std::max(n.quantized_start_step, f * frame), b = std::min(n.quantized_end_step, (f + 1) * frame);
      if (b > a) prof[static_cast<std::size_t>(f)][static_cast<std::size_t>(n.pitch % 12)] += double(b - a);
    }
  }
  constexpr int K = TriadChords::num_classes;
  // Emission: log-softmax over chords of concentration * cosine(profile, chord template).
  std::vector<std::array<double, 12>> templ(K);
  for (int k = 0; k < K; ++k) {
    templ[k].fill(k == 0 ? 1.0 / std::sqrt(12.0) : 0.0);
    if (k)
      for (int p : TriadChords::tones(k)) templ[k][static_cast<std::size_t>(p)] = 1.0 / std::sqrt(3.0);
  }
  const double stay = std::log(1.0 - o.change_prob), move = std::log(o.change_prob / (K - 1));
  std::vector<std::array<double, K>> score(frames);
  std::vector<std::array<int, K>> back(frames);
  for (std::size_t f = 0; f < frames; ++f) {
    double norm = 0;
    for (double v : prof[f]) norm += v * v;
    norm = std::sqrt(norm);
    std::array<double, K> emit{};
    double mx = -std::numeric_limits<double>::infinity();
    for (int k = 0; k < K; ++k) {
      double dot = 0;
      for (int p = 0; p < 12; ++p) dot += prof[f][static_cast<std::size_t>(p)] * templ[k][static_cast<std::size_t>(p)];
      emit[k] = norm > 0 ? o.note_concentration * dot / norm : (k == 0 ? 0.0 : -1.0);
      mx = std::max(mx, emit[k]);
    }
    double lse = 0;
    for (int k = 0; k < K; ++k) lse += std::exp(emit[k] - mx);
    for (int k = 0; k < K; ++k) emit[k] -= mx + std::log(lse);
    for (int k = 0; k < K; ++k) {
      if (f == 0) {
        score[f][k] = emit[k] - std::log(double(K));
        back[f][k] = k;
        continue;
      }
      int best = k;
      double bs = score[f - 1][k] + stay;
      for (int j = 0; j < K; ++j)
        if (j != k && score[f - 1][j] + move > bs) {
          bs = score[f - 1][j] + move;
          best = j;
        }
      score[f][k] = bs + emit[k];
      back[f][k] = best;
    }
  }
  std::vector<int> path(frames, 0);
  if (frames) {
    int k = 0;
    for (int j = 1; j < K; ++j)
      if (score[frames - 1][j] > score[frames - 1][k]) k = j;
    for (std::size_t f = frames; f-- > 0;) {
      path[f] = k;
      k = back[f][k];
    }
  }
  qns.chords.clear();
  const double sec_per_step = qns.tempos.empty() ? 60.0 / kDefaultQpm / qns.quantization.steps_per_quarter
                                                 : 60.0 / qns.tempos[0].qpm / qns.quantization.steps_per_quarter;
  for (std::size_t f = 0; f < frames; ++f)
    if (f == 0 || path[f] != path[f - 1])
      qns.chords.push_back({double(f * frame) * sec_per_step, TriadChords::decode(path[f]), int64_t(f) * frame});
  return path;
}

}  // namespace fugue::music
