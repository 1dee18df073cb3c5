// music_tool — command-line access to fugue/music for the conformance script and docs.
//   music_tool tensors < PATHS      one JSON line per path read from stdin: notes, and each
//                                   model's training tensors as Magenta's converters give them
//                                   (cat-mel_2bar, cat-drums_2bar, hier-trio_16bar, groovae_2bar,
//                                   hier-multiperf_vel_1bar, Music Transformer ids), or the error
//   music_tool write IN.mid OUT.mid read with fugue, write with fugue
//   music_tool stats DIR...         pieces, notes, 2-bar melody / drum windows
//   music_tool png IN.mid OUT.png   piano roll of the first constant-tempo piece
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "fugue/music.hpp"

using namespace fugue::music;

namespace {

template <class T>
void print_list(const std::vector<T>& v) {
  std::printf("[");
  for (std::size_t i = 0; i < v.size(); ++i) std::printf(i ? ",%lld" : "%lld", static_cast<long long>(v[i]));
  std::printf("]");
}

template <class T>
void print_lists(const std::vector<std::vector<T>>& lists) {
  std::printf("[");
  for (std::size_t i = 0; i < lists.size(); ++i) {
    std::printf(i ? "," : "");
    print_list(lists[i]);
  }
  std::printf("]");
}

void print_json_string(const std::string& s) {
  std::printf("\"");
  for (unsigned char c : s) {
    if (c == '"' || c == '\\')
      std::printf("\\%c", c);
    else if (c < 0x20)
      std::printf("\\u%04x", c);
    else
      std::printf("%c", c);
  }
  std::printf("\"");
}

// The training tensors of every model family for one file (see the usage at the top).
void tensors_of(const std::string& path) {
  NoteSequence ns;
  try {
    ns = read_midi_file(path);
  } catch (const fugue::error& e) {
    std::printf("{\"path\":");
    print_json_string(path);
    std::printf(",\"error\":");
    print_json_string(e.what());
    std::printf("}\n");
    return;
  }
  std::printf("{\"path\":");
  print_json_string(path);
  std::printf(",\"total_time\":%.9f,\"notes\":[", ns.total_time);
  auto sorted = ns;
  sort_notes(sorted);
  for (std::size_t i = 0; i < sorted.notes.size(); ++i) {
    const auto& n = sorted.notes[i];
    std::printf("%s[%d,%d,%.9f,%.9f,%d,%d,%d]", i ? "," : "", n.pitch, n.velocity, n.start_time, n.end_time, n.program,
                n.is_drum ? 1 : 0, n.instrument);
  }
  std::printf("],\"melody\":");
  // cat-mel_2bar / cat-drums_2bar converters; no rng, so every window (no per-piece sample)
  print_lists(melody_examples(ns, ExampleOptions{}, nullptr));
  std::printf(",\"drums\":");
  print_lists(drum_examples(ns, ExampleOptions{}, nullptr));
  std::printf(",\"trio\":[");
  bool first = true;
  for (const auto& piece : split_on_time_changes(ns))
    for (const auto& w : trio_windows(piece)) {
      std::printf(first ? "[" : ",[");
      first = false;
      print_list(w.melody);
      std::printf(",");
      print_list(w.bass);
      std::printf(",");
      print_list(w.drums);
      std::printf("]");
    }
  std::printf("],\"groove\":[");
  first = true;
  for (const auto& w : groove_windows(ns)) {
    std::printf(first ? "[" : ",[");
    first = false;
    for (std::size_t i = 0; i < w.size(); ++i) std::printf(i ? ",%.7g" : "%.7g", double(w[i]));
    std::printf("]");
  }
  std::printf("],\"multitrack\":[");
  first = true;
  for (const auto& m : multitrack_measures(ns)) {
    std::printf(first ? "" : ",");
    first = false;
    print_list(m.tokens);
  }
  std::printf("],\"performance\":");
  print_list(encode_music_transformer(ns));
  std::printf("}\n");
}

int tensors() {
  std::string path;
  while (std::getline(std::cin, path))
    if (!path.empty()) {
      tensors_of(path);
      std::fflush(stdout);
    }
  return 0;
}

int stats(const std::vector<std::string>& dirs) {
  auto t0 = std::chrono::steady_clock::now();
  auto c = load_corpus(dirs, 0.0, 0);
  std::size_t notes = 0, drum_notes = 0, mel = 0, drum = 0, mel_pieces = 0, drum_pieces = 0;
  for (const auto& p : c.train) {
    for (const auto& n : p.ns.notes) (n.is_drum ? drum_notes : notes)++;
    auto m = melody_examples(p.ns, ExampleOptions{}, nullptr);
    auto d = drum_examples(p.ns, ExampleOptions{}, nullptr);
    mel += m.size();
    drum += d.size();
    mel_pieces += !m.empty();
    drum_pieces += !d.empty();
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf(
      "pieces %zu unreadable %zu notes %zu drum_notes %zu melody_windows %zu (from %zu pieces) "
      "drum_windows %zu (from %zu pieces) seconds %.2f\n",
      c.size(), c.unreadable, notes, drum_notes, mel, mel_pieces, drum, drum_pieces, secs);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::string cmd = argc > 1 ? argv[1] : "";
    if (cmd == "tensors" && argc == 2) return tensors();
    if (cmd == "write" && argc == 4) {
      write_midi_file(read_midi_file(argv[2]), argv[3]);
      return 0;
    }
    if (cmd == "stats" && argc >= 3) return stats(std::vector<std::string>(argv + 2, argv + argc));
    if (cmd == "png" && argc == 4) {
      auto pieces = split_on_time_changes(read_midi_file(argv[2]));
      FUGUE_CHECK(!pieces.empty(), "no notes in ", argv[2]);
      render_piano_roll_png(piano_roll(quantize(pieces.front(), 4), 21, 108), argv[3], 3, 16);
      return 0;
    }
    std::fprintf(stderr, "usage: music_tool tensors < PATHS | write IN OUT | stats DIR... | png IN OUT\n");
    return 2;
  } catch (const fugue::error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}
