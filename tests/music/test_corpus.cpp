// The dataset pipeline (on generated MIDI files) and checks over the real corpora that
// scripts/prepare_music_data.sh prepares. The corpus cases are tagged [.corpus]: ctest runs
// them as the single test `music_corpus`, which reports SKIP (and counts as skipped) when
// the prepared data is absent.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <filesystem>
#include <set>

#include "fugue/music/dataset.hpp"
#include "fugue/music/midi.hpp"
#include "fugue/music/piano_roll.hpp"

using namespace fugue::music;
namespace fs = std::filesystem;

namespace {

std::string music_data_dir() {
  if (const char* d = std::getenv("FUGUE_DATA")) return std::string(d) + "/music";
  if (const char* h = std::getenv("HOME")) return std::string(h) + "/.cache/fugue/music";
  return "";
}

bool have_data(const std::string& sub) {
  auto d = music_data_dir();
  return !d.empty() && fs::exists(fs::path(d) / sub / ".done");
}

#define REQUIRE_DATA_OR_SKIP(sub)                                                   \
  if (!have_data(sub)) {                                                            \
    WARN("SKIP: no prepared corpus at " << music_data_dir() << "/" << (sub)         \
                                        << " (run scripts/prepare_music_data.sh)"); \
    return;                                                                         \
  }

// A temp folder of generated one-voice tunes: tune i is a C-major scale fragment.
struct TempCorpus {
  fs::path dir;
  explicit TempCorpus(int n) {
    dir = fs::temp_directory_path() / ("fugue_music_test_" + std::to_string(::getpid()));
    fs::create_directories(dir / "sub");
    const int scale[] = {60, 62, 64, 65, 67, 69, 71, 72};
    for (int i = 0; i < n; ++i) {
      NoteSequence ns;
      for (int s = 0; s < 32; ++s) add_note(ns, scale[(i + s * (1 + i % 3)) % 8], 90, s * 0.25, s * 0.25 + 0.2);
      write_midi_file(ns, (dir / (i % 2 ? "sub" : "") / ("tune" + std::to_string(i) + ".mid")).string());
    }
    std::ofstream(dir / "broken.mid") << "not a midi file";
  }
  ~TempCorpus() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

}  // namespace

TEST_CASE("dataset: split by piece, seeded shuffles and augmentation", "[music][dataset]") {
  TempCorpus tmp(20);
  auto c = load_corpus({tmp.dir.string()}, 0.25, 42);
  CHECK(c.unreadable == 1);
  CHECK(c.size() == 20);
  CHECK(c.held_out.size() == 5);
  std::set<std::string> train;
  for (const auto& p : c.train) train.insert(p.path);
  for (const auto& p : c.held_out) CHECK(train.count(p.path) == 0);

  auto again = load_corpus({tmp.dir.string()}, 0.25, 42);
  for (std::size_t i = 0; i < c.held_out.size(); ++i) CHECK(again.held_out[i].path == c.held_out[i].path);
  auto other = load_corpus({tmp.dir.string()}, 0.25, 43);
  bool differs = false;
  for (std::size_t i = 0; i < c.held_out.size(); ++i) differs |= other.held_out[i].path != c.held_out[i].path;
  CHECK(differs);

  auto batches = [&](uint64_t seed) {
    WindowBatcher b(c.train, WindowKind::Melody, 4, seed);
    std::vector<int32_t> all;
    Batch x;
    while (b.next(x)) {
      CHECK(x.steps == 32);
      CHECK(x.ids.size() == 4u * 32u);
      all.insert(all.end(), x.ids.begin(), x.ids.end());
    }
    CHECK(b.epoch() == 1);
    return all;
  };
  auto a1 = batches(7), a2 = batches(7), a3 = batches(8);
  CHECK(!a1.empty());
  CHECK(a1 == a2);
  CHECK(a1 != a3);

  // Augmentation transposes within [-5, 5]: onset classes stay within the scale +-5.
  std::set<int> onset_pitches;
  for (int32_t id : a1)
    if (id >= 2) onset_pitches.insert(id - 2 + 21);
  CHECK(*onset_pitches.begin() >= 55);
  CHECK(*onset_pitches.rbegin() <= 77);
  CHECK(onset_pitches.size() > 8);  // more than the 8 untransposed scale notes

  // Without augmentation every piece keeps all windows (no random subset) and pitches.
  ExampleOptions plain;
  auto w = melody_examples(c.train[0].ns, plain, nullptr);
  // Each generated tune repeats every bar, so its three 2-bar windows dedupe to one.
  CHECK(w.size() == 1);
}

TEST_CASE("corpus: every prepared MIDI file parses and round-trips", "[.corpus]") {
  REQUIRE_DATA_OR_SKIP("folk");
  std::size_t files = 0, checked = 0;
  for (const char* sub : {"folk/essen", "folk/oneills", "folk/ryan", "bach", "mma", "games"}) {
    auto list = list_midi_files({music_data_dir() + "/" + sub});
    INFO(sub);
    CHECK(!list.empty());
    for (std::size_t i = 0; i < list.size(); ++i) {
      INFO(list[i]);
      NoteSequence ns;
      REQUIRE_NOTHROW(ns = read_midi_file(list[i]));
      ++files;
      if (i % 25 != 0) continue;  // round trip a sample
      auto back = read_midi(write_midi(ns));
      auto a = ns, b = back;
      sort_notes(a);
      sort_notes(b);
      REQUIRE(a.notes.size() == b.notes.size());
      for (std::size_t k = 0; k < a.notes.size(); ++k) {
        REQUIRE(a.notes[k].pitch == b.notes[k].pitch);
        REQUIRE(a.notes[k].start_time == Approx(b.notes[k].start_time).margin(1e-9));
        REQUIRE(a.notes[k].end_time == Approx(b.notes[k].end_time).margin(1e-9));
        REQUIRE(a.notes[k].velocity == b.notes[k].velocity);
        REQUIRE(a.notes[k].program == b.notes[k].program);
        REQUIRE(a.notes[k].is_drum == b.notes[k].is_drum);
      }
      ++checked;
    }
  }
  CHECK(files > 10000);
  CHECK(checked > 400);
}

TEST_CASE("corpus: melody and drum windows from the real data", "[.corpus]") {
  REQUIRE_DATA_OR_SKIP("mma");
  auto folk = load_corpus({music_data_dir() + "/folk/essen"}, 0.1, 1);
  std::size_t mel = 0;
  for (const auto& p : folk.train) mel += melody_examples(p.ns).size();
  CHECK(mel > 10000);
  auto mma = load_corpus({music_data_dir() + "/mma"}, 0.0, 1);
  std::size_t drum = 0;
  for (const auto& p : mma.train) drum += drum_examples(p.ns).size();
  CHECK(drum > 500);
  WindowBatcher b(mma.train, WindowKind::Drums, 64, 3);
  Batch x;
  REQUIRE(b.next(x));
  int non_empty = 0;
  for (int32_t id : x.ids) {
    CHECK(id >= 0);
    CHECK(id < 512);
    non_empty += id != 0;
  }
  CHECK(non_empty > 64 * 32 / 8);  // grooves hit on most 8ths

  // A piano roll of a real Bach chorale, written as PNG.
  auto bach = list_midi_files({music_data_dir() + "/bach"});
  REQUIRE(!bach.empty());
  auto pieces = split_on_time_changes(read_midi_file(bach.front()));
  REQUIRE(!pieces.empty());
  auto roll = piano_roll(quantize(pieces.front(), 4), 30, 90);
  auto out = fs::temp_directory_path() / "fugue_music_bach_roll.png";
  render_piano_roll_png(roll, out.string(), 3, 16);
  CHECK(fs::file_size(out) > 1000);
}
