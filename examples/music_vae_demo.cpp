// The flagship demo: MusicVAE cat-mel_2bar_small trained on real folk tunes on the CPU.
//
//   music_vae_demo [--data DIR]... [--out DIR] [--minutes M] [--batch N] [--seed S]
//                  [--variant lite|small] [--lr LR] [--eval-windows N] [--resume] [--max-steps N]
//                  [--max-beta B] [--beta-rate R] [--free-bits F] [--temperature T] [--prior-samples N]
//
// --variant small is Magenta's cat-mel_2bar_small exactly (4.4 M parameters, lr 1e-3); the
// default, lite, is the same structure at 256 / 2 x 192 / z 128 (1.6 M parameters) trained at
// lr 3e-3 with a KL warm-up that ends within the run (beta_rate 0.995, 48 free bits), because a
// CPU demo of a few minutes gets ~1600 updates where Magenta trains 50k+.
// Loads every MIDI file under the data folders (default: the folk corpora prepared by
// scripts/prepare_music_data.sh), splits them BY PIECE into train / held-out (10 %), trains on
// 2-bar melody windows (transposition augmentation) for the time budget, checkpointing every
// minute (atomic; --resume continues from it bit-exactly), then reports on held-out windows:
//   * teacher-forced next-step accuracy, beside a unigram baseline (always the most frequent
//     training class) and a repeat-previous-token baseline;
//   * reconstruction accuracy: encode (z = mu) and decode greedily, step by step, compared
//     with the input, beside the same two baselines (which see no model at all);
//   * what prior samples look like beside the held-out windows: notes per bar, rest fraction,
//     pitch range and in-key fraction (music/melody_stats.hpp) over --prior-samples (256) samples
//     at --temperature (0.5);
// and writes 8 prior samples (temperature 0.5), a 7-point slerp interpolation between two
// held-out melodies and their reconstructions, each as MIDI, piano-roll PNG and (with FluidSynth
// and its General MIDI soundfont installed) a rendered WAV, plus report.json, model.safetensors,
// the loss curve (loss.png) and index.html, the page that shows and plays all of it.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "fugue/backend/cpu/threads.hpp"
#include "fugue/io/html_report.hpp"
#include "fugue/models/music_vae.hpp"
#include "fugue/music/melody_stats.hpp"
#include "fugue/music/music.hpp"
#include "fugue/train/loop.hpp"
#include "fugue/train/loss_curve.hpp"

using namespace fugue;
namespace mv = fugue::models::music_vae;
namespace fs = std::filesystem;
using Tf = Tensor<float>;

// "lite": the documented smaller variant for short CPU budgets: cat-mel_2bar_small's structure
// with a 256-wide encoder, a 2 x 192 decoder and z of 128 (about 3x cheaper per step).
using SmallModel = mv::configs::cat_mel_2bar_small<float>;
using LiteModel = mv::MusicVAE<float, cpu::native, mv::BidirectionalLstmEncoder<float, cpu::native, 90, 256>,
                               mv::CategoricalLstmDecoder<float, cpu::native, 90, 128, 192, 2>, 128>;

namespace {

struct Args {
  std::vector<std::string> data;
  std::string out = "out/music_vae";
  double minutes = 5;
  int batch = 64, eval_windows = 1024, threads = 2;
  long max_steps = -1;
  double lr = 0;  // 0: the config's 1e-3
  std::uint64_t seed = 2026;
  bool resume = false;
  std::string variant = "lite";
  // KL schedule overrides (< 0: the config's): beta = max_beta (1 - beta_rate^step), hinge at free_bits.
  double max_beta = -1, beta_rate = -1, free_bits = -1;
  double temperature = 0.5;
  int prior_samples = 256;
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    auto val = [&]() -> std::string {
      FUGUE_CHECK(i + 1 < argc, "missing value after ", k);
      return argv[++i];
    };
    if (k == "--data")
      a.data.push_back(val());
    else if (k == "--out")
      a.out = val();
    else if (k == "--minutes")
      a.minutes = std::stod(val());
    else if (k == "--batch")
      a.batch = std::stoi(val());
    else if (k == "--eval-windows")
      a.eval_windows = std::stoi(val());
    else if (k == "--threads")
      a.threads = std::stoi(val());
    else if (k == "--max-steps")
      a.max_steps = std::stol(val());
    else if (k == "--seed")
      a.seed = std::stoull(val());
    else if (k == "--lr")
      a.lr = std::stod(val());
    else if (k == "--resume")
      a.resume = true;
    else if (k == "--variant")
      a.variant = val();
    else if (k == "--max-beta")
      a.max_beta = std::stod(val());
    else if (k == "--beta-rate")
      a.beta_rate = std::stod(val());
    else if (k == "--free-bits")
      a.free_bits = std::stod(val());
    else if (k == "--temperature")
      a.temperature = std::stod(val());
    else if (k == "--prior-samples")
      a.prior_samples = std::stoi(val());
    else
      FUGUE_FAIL("unknown argument '", k, "' (see the header of examples/music_vae_demo.cpp)");
  }
  if (a.data.empty()) {
    const char* d = std::getenv("FUGUE_DATA");
    const char* h = std::getenv("HOME");
    const fs::path root = d ? fs::path(d) : fs::path(h ? h : ".") / ".cache/fugue";
    a.data.push_back((root / "music/folk").string());
  }
  return a;
}

std::vector<std::vector<int32_t>> held_out_windows(const music::Corpus& c, std::size_t limit) {
  std::vector<std::vector<int32_t>> all;
  music::ExampleOptions o;  // no rng: no transposition, every window of a piece
  for (const auto& p : c.held_out)
    for (auto& w : music::melody_examples(p.ns, o)) all.push_back(std::move(w));
  music::SplitMix64 rng(99);
  rng.shuffle(all);
  if (all.size() > limit) all.resize(limit);
  return all;
}

// General MIDI rendering with FluidSynth (Debian's fluidsynth + fluid-soundfont-gm), when both
// are installed: the samples are synthesised audio of the MIDI, not a performance.
const char* const kSoundfont = "/usr/share/sounds/sf2/FluidR3_GM.sf2";
bool can_render() {
  static const bool ok = fs::exists(kSoundfont) && std::system("command -v fluidsynth >/dev/null 2>&1") == 0;
  return ok;
}

// MIDI + piano-roll PNG (+ WAV when FluidSynth is there) of a melody; adds them to the page.
void write_melody(const std::vector<int>& ids, const fs::path& stem, io::HtmlReport* page = nullptr,
                  const std::string& caption = {}) {
  const music::MelodyOneHot enc;
  const auto ns = music::melody_to_sequence(enc.decode(std::vector<int32_t>(ids.begin(), ids.end())), 4, 120.0, 80);
  music::write_midi_file(ns, stem.string() + ".mid");
  const auto q = music::quantize(ns, 4);
  music::render_piano_roll_png(music::piano_roll(q, 36, 96), stem.string() + ".png", 8, 16);
  const std::string wav = stem.string() + ".wav";
  const auto quote = [](const std::string& s) {  // one shell word, whatever the path holds
    std::string word = "'";
    for (char c : s) word += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return word + "'";
  };
  const std::string cmd = "fluidsynth -ni -q -R 0 -C 0 -g 0.7 -r 22050 -F " + quote(wav) + " " + quote(kSoundfont) +
                          " " + quote(stem.string() + ".mid") + " >/dev/null 2>&1";
  const bool rendered = can_render() && std::system(cmd.c_str()) == 0;
  if (!page) return;
  const std::string name = stem.filename().string();
  if (rendered)
    page->image_with_audio(name + ".png", name + ".wav",
                           caption + " (piano roll C2..C7; audio rendered by FluidSynth, General MIDI piano)");
  else
    page->image(name + ".png", caption + " (piano roll, C2..C7)");
  page->link(name + ".mid", caption + ": MIDI");
}

std::string fmt(double v, int digits = 3) {
  char b[64];
  std::snprintf(b, sizeof b, "%.*f", digits, v);
  return b;
}

struct Eval {
  double tf_acc = 0, recon_acc = 0, unigram_tf = 0, repeat_tf = 0, r_loss = 0, kl = 0;
};

}  // namespace

template <class Model>
int run(const Args& a) {
  cpu::set_num_threads(a.threads);
  fs::create_directories(a.out);
  const auto t_start = std::chrono::steady_clock::now();
  auto secs = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count(); };

  // --- data -------------------------------------------------------------------------------
  const music::Corpus corpus = music::load_corpus(a.data, 0.1, a.seed);
  FUGUE_CHECK(corpus.size() > 0, "no MIDI files under ", a.data[0],
              " (run scripts/prepare_music_data.sh, or pass --data DIR)");
  mv::TrainConfig hp = mv::configs::cat_mel_2bar_small_hparams();
  // The lite variant trains at 3e-3 by default: in a few CPU minutes (~1000 updates at batch 64,
  // against Magenta's 50k+ at batch 512) 1e-3 leaves the model at the unigram baseline.
  hp.learning_rate = a.lr > 0 ? a.lr : a.variant == "lite" ? 3e-3 : hp.learning_rate;
  hp.batch_size = a.batch;  // what this run trains with (the model file records it)
  // The lite variant anneals beta to its 0.2 within the run (rate 0.995: beta 0.197 by step
  // 1,000) with 48 free bits, as cat-mel_2bar_big does; Magenta's 0.99999 leaves beta at 0.003
  // after a 5-minute run, the KL at ~210 nats and the prior far from the posteriors
  // (docs/music_vae.md). --variant small keeps the exact config.
  if (a.variant == "lite") {
    hp.beta_rate = 0.995;
    hp.free_bits = 48;
  }
  if (a.max_beta >= 0) hp.max_beta = a.max_beta;
  if (a.beta_rate >= 0) hp.beta_rate = a.beta_rate;
  if (a.free_bits >= 0) hp.free_bits = a.free_bits;
  FUGUE_CHECK(a.prior_samples >= 1 && a.temperature >= 0, "--prior-samples must be >= 1 and --temperature >= 0");
  music::ExampleOptions ex;
  ex.transpose_min = hp.transpose_min;
  ex.transpose_max = hp.transpose_max;
  music::WindowBatcher batcher(corpus.train, music::WindowKind::Melody, a.batch, a.seed, true, ex);
  const auto held = held_out_windows(corpus, std::size_t(a.eval_windows));
  std::printf(
      "data: %zu pieces (%zu train, %zu held out by piece, %zu unreadable); %zu windows per training epoch; "
      "%zu held-out 2-bar windows evaluated (%.1f s)\n",
      corpus.size(), corpus.train.size(), corpus.held_out.size(), corpus.unreadable, batcher.windows_this_epoch(),
      held.size(), secs());
  FUGUE_CHECK(held.size() >= 64, "too few held-out windows (", held.size(), ") for an evaluation");

  // --- model and training -----------------------------------------------------------------
  Model model(a.seed);
  mv::Trainer<Model> trainer(model, hp, a.seed);
  const fs::path ckpt = fs::path(a.out) / "checkpoint.safetensors";
  music::Batch mb;
  if (a.resume && fs::exists(ckpt)) {
    trainer.load(ckpt);
    for (std::int64_t i = 0; i < trainer.batches(); ++i)  // replay the data stream to where it was
      while (!batcher.next(mb)) {
      }
    std::printf("resumed from %s at step %lld\n", ckpt.c_str(), (long long)trainer.steps());
  }
  std::printf("model: %s, %zu parameters; batch %d; training for %.1f min on %d thread(s)\n",
              a.variant == "small" ? "cat-mel_2bar_small" : "cat-mel_2bar_small-lite (256 / 2 x 192 / z 128)",
              model.parameter_count(), a.batch, a.minutes, a.threads);
  train::RunOptions ro;
  ro.seconds = a.minutes * 60;
  ro.max_steps = a.max_steps;
  ro.checkpoint = ckpt;
  ro.metrics_csv = fs::path(a.out) / "metrics.csv";
  ro.progress_every_s = 10;
  const auto run = train::run(
      trainer,
      [&] {
        while (!batcher.next(mb)) {
        }
        return mv::melody_batch<float>(mb);
      },
      ro);
  const double train_s = run.seconds;
  const auto curve = train::write_loss_curve_png(ro.metrics_csv, fs::path(a.out) / "loss.png");
  // The trained model as a self-describing file (fugue inspect reads it; mv::load checks it).
  const fs::path model_file = fs::path(a.out) / "model.safetensors";
  mv::save(model, model_file, a.variant == "small" ? "cat_mel_2bar_small" : "cat_mel_2bar_small_lite", hp);
  std::printf("trained %lld steps in %.0f s (%.2f steps/s); model %s, checkpoint %s, per-step metrics %s\n",
              (long long)run.steps, train_s, double(run.steps) / train_s, model_file.c_str(), ckpt.c_str(),
              ro.metrics_csv.c_str());

  // --- held-out evaluation ----------------------------------------------------------------
  const index_t S = 32, n_eval = index_t(held.size() / 64 * 64);
  std::map<int, long> freq;
  {
    music::WindowBatcher count_batcher(corpus.train, music::WindowKind::Melody, 1, a.seed + 1, false, ex);
    music::Batch one;
    while (count_batcher.next(one))
      for (int id : one.ids) ++freq[id];
  }
  const int mode =
      std::max_element(freq.begin(), freq.end(), [](auto& x, auto& y) { return x.second < y.second; })->first;
  Eval ev;
  long tf_correct = 0, rec_correct = 0, uni = 0, rep = 0, total = 0;
  for (index_t b0 = 0; b0 < n_eval; b0 += 64) {
    std::vector<int32_t> ids;
    for (index_t r = b0; r < b0 + 64; ++r)
      ids.insert(ids.end(), held[std::size_t(r)].begin(), held[std::size_t(r)].end());
    const auto batch = mv::melody_batch<float>(ids, 64, S);
    ad::Tape<float> tape;
    mv::LossOptions o;
    o.sample_z = false;  // z = mu
    {
      ad::NoGrad<float> ng(tape);
      const auto r = model.loss(tape, batch, o);
      tf_correct += long(mv::teacher_forced_accuracy(r, batch).hits);
      ev.r_loss += r.r_loss * 64;
      ev.kl += r.kl * 64;
    }
    const auto z = model.encode(batch.enc_input);
    const auto rec = model.decode(z, S, 0.0, Philox{a.seed, 77});
    for (std::size_t i = 0; i < ids.size(); ++i) {
      rec_correct += rec[0][i] == ids[i];
      uni += ids[i] == mode;
      const bool first = i % std::size_t(S) == 0;
      rep += (first ? mode : ids[i - 1]) == ids[i];
      ++total;
    }
  }
  ev.tf_acc = double(tf_correct) / double(total);
  ev.recon_acc = double(rec_correct) / double(total);
  ev.unigram_tf = double(uni) / double(total);
  ev.repeat_tf = double(rep) / double(total);
  ev.r_loss /= double(n_eval);
  ev.kl /= double(n_eval);
  std::printf("held-out (%lld windows of %zu held-out pieces, %ld steps):\n", (long long)n_eval, corpus.held_out.size(),
              total);
  std::printf("  teacher-forced next-step accuracy  %.4f   (unigram baseline %.4f, repeat-previous baseline %.4f)\n",
              ev.tf_acc, ev.unigram_tf, ev.repeat_tf);
  std::printf("  greedy reconstruction accuracy     %.4f   (the same baselines; they see no model)\n", ev.recon_acc);
  std::printf(
      "  reconstruction loss %.3f nats / window, KL %.3f nats (KL schedule: max_beta %g, beta_rate %g, "
      "free_bits %g; beta at the end %.4f)\n",
      ev.r_loss, ev.kl, hp.max_beta, hp.beta_rate, hp.free_bits,
      mv::kl_beta(trainer.steps(), hp.max_beta, hp.beta_rate));

  // --- what prior samples look like beside the data ------------------------------------------
  const music::MelodyOneHot enc;
  std::vector<std::vector<int>> held_events, prior_events;
  for (index_t r = 0; r < n_eval; ++r) held_events.push_back(enc.decode(held[std::size_t(r)]));
  for (int done = 0; done < a.prior_samples; done += 64) {
    const int n = std::min(64, a.prior_samples - done);
    const auto pz = Model::prior(n, Philox{a.seed, 1000 + std::uint64_t(done)});
    const auto ps = model.decode(pz, S, a.temperature, Philox{a.seed, 2000 + std::uint64_t(done)});
    for (int i = 0; i < n; ++i)
      prior_events.push_back(enc.decode(std::vector<int32_t>(ps[0].begin() + i * S, ps[0].begin() + (i + 1) * S)));
  }
  const music::MelodyStats held_stats = music::melody_stats(held_events),
                           prior_stats = music::melody_stats(prior_events);
  auto ratio = [](double x, double y) { return y != 0 ? x / y : 0.0; };
  std::printf("prior samples (%d, temperature %g) beside the held-out windows (%zu):\n", a.prior_samples, a.temperature,
              held_events.size());
  std::printf("  notes per bar    %.2f vs %.2f (ratio %.2f)\n", prior_stats.notes_per_bar, held_stats.notes_per_bar,
              ratio(prior_stats.notes_per_bar, held_stats.notes_per_bar));
  std::printf("  rest fraction    %.3f vs %.3f (ratio %.2f)\n", prior_stats.rest_fraction, held_stats.rest_fraction,
              ratio(prior_stats.rest_fraction, held_stats.rest_fraction));
  std::printf("  pitch range      %.2f vs %.2f semitones (ratio %.2f)\n", prior_stats.pitch_range,
              held_stats.pitch_range, ratio(prior_stats.pitch_range, held_stats.pitch_range));
  std::printf("  in-key fraction  %.3f vs %.3f (ratio %.2f)\n", prior_stats.in_key_fraction, held_stats.in_key_fraction,
              ratio(prior_stats.in_key_fraction, held_stats.in_key_fraction));
  std::printf("  silent windows   %zu of %zu vs %zu of %zu\n", prior_stats.silent, prior_stats.windows,
              held_stats.silent, held_stats.windows);

  // --- the run's page, samples and interpolation --------------------------------------------
  io::HtmlReport page(std::string("MusicVAE ") +
                      (a.variant == "small" ? "cat-mel_2bar_small" : "cat-mel_2bar_small-lite") + " on folk melodies");
  page.paragraph(std::to_string(model.parameter_count()) + " parameters, " + std::to_string(trainer.steps()) +
                 " updates (batch " + std::to_string(a.batch) + ") in " + std::to_string(int(train_s)) + " s.");
  page.table({"held-out, " + std::to_string(total) + " steps", "model", "unigram baseline", "repeat-previous baseline"},
             {{"teacher-forced next-step accuracy", fmt(ev.tf_acc), fmt(ev.unigram_tf), fmt(ev.repeat_tf)},
              {"greedy reconstruction accuracy", fmt(ev.recon_acc), fmt(ev.unigram_tf), fmt(ev.repeat_tf)}});
  page.heading("Prior samples beside the held-out data");
  page.table({"mean per 2-bar window",
              "prior samples (" + std::to_string(a.prior_samples) + ", temperature " + fmt(a.temperature, 2) + ")",
              "held-out windows (" + std::to_string(held_events.size()) + ")"},
             {{"notes per bar", fmt(prior_stats.notes_per_bar, 2), fmt(held_stats.notes_per_bar, 2)},
              {"rest fraction", fmt(prior_stats.rest_fraction), fmt(held_stats.rest_fraction)},
              {"pitch range (semitones)", fmt(prior_stats.pitch_range, 2), fmt(held_stats.pitch_range, 2)},
              {"in-key fraction", fmt(prior_stats.in_key_fraction), fmt(held_stats.in_key_fraction)}});
  page.heading("Training");
  page.image("loss.png", "training loss (light: per step; dark: running mean of " + std::to_string(curve.window) +
                             "), steps " + fmt(curve.frame.x0, 0) + ".." + fmt(curve.frame.x1, 0) + ", " +
                             (curve.frame.log_y ? "log scale " : "") + fmt(curve.frame.y0, 2) + ".." +
                             fmt(curve.frame.y1, 2) + " nats");
  page.link("metrics.csv", "per-step metrics (CSV)");
  page.heading("Samples from the prior (temperature 0.5)");
  const auto z = Model::prior(8, Philox{a.seed, 5});
  const auto samples = model.decode(z, S, 0.5, Philox{a.seed, 6});
  for (int i = 0; i < 8; ++i)
    write_melody(std::vector<int>(samples[0].begin() + i * S, samples[0].begin() + (i + 1) * S),
                 fs::path(a.out) / ("sample_" + std::to_string(i)), &page, "sample " + std::to_string(i));
  page.heading("Interpolation between two held-out melodies (7 points, slerp)");
  {
    std::vector<int32_t> ends(held[0]);
    ends.insert(ends.end(), held[1].begin(), held[1].end());
    const auto zz = model.encode(mv::melody_batch<float>(ends, 2, S).enc_input);
    const auto z0 = zz.slice(0, 0, 1).contiguous(), z1 = zz.slice(0, 1, 2).contiguous();
    std::vector<int> chain;
    for (int k = 0; k < 7; ++k) {
      const auto zk = mv::slerp(z0, z1, k / 6.0);
      const auto d = model.decode(zk, S, 0.0, Philox{a.seed, 8});
      chain.insert(chain.end(), d[0].begin(), d[0].end());
    }
    write_melody(std::vector<int>(held[0].begin(), held[0].end()), fs::path(a.out) / "interpolation_start_input", &page,
                 "start (held-out input)");
    write_melody(chain, fs::path(a.out) / "interpolation", &page, "interpolation");
    write_melody(std::vector<int>(held[1].begin(), held[1].end()), fs::path(a.out) / "interpolation_end_input", &page,
                 "end (held-out input)");
  }
  page.link("model.safetensors", "the trained model (fugue inspect reads it)");
  const fs::path index = page.write(a.out);
  {
    std::ofstream rj(fs::path(a.out) / "report.json");
    rj << "{\n  \"config\": \"" << (a.variant == "small" ? "cat-mel_2bar_small" : "cat-mel_2bar_small-lite")
       << "\",\n  \"learning_rate\": " << hp.learning_rate << ",\n  \"parameters\": " << model.parameter_count()
       << ",\n  \"pieces\": {\"train\": " << corpus.train.size() << ", \"held_out\": " << corpus.held_out.size()
       << "},\n  \"train_steps\": " << trainer.steps() << ",\n  \"train_seconds\": " << train_s
       << ",\n  \"batch\": " << a.batch << ",\n  \"held_out_windows\": " << n_eval
       << ",\n  \"teacher_forced_accuracy\": " << ev.tf_acc
       << ",\n  \"greedy_reconstruction_accuracy\": " << ev.recon_acc << ",\n  \"baseline_unigram\": " << ev.unigram_tf
       << ",\n  \"baseline_repeat_previous\": " << ev.repeat_tf << ",\n  \"held_out_r_loss\": " << ev.r_loss
       << ",\n  \"held_out_kl\": " << ev.kl << ",\n  \"kl_schedule\": {\"max_beta\": " << hp.max_beta
       << ", \"beta_rate\": " << hp.beta_rate << ", \"free_bits\": " << hp.free_bits << "}"
       << ",\n  \"prior_stats\": {\"samples\": " << a.prior_samples << ", \"temperature\": " << a.temperature
       << ", \"notes_per_bar\": " << prior_stats.notes_per_bar << ", \"rest_fraction\": " << prior_stats.rest_fraction
       << ", \"pitch_range\": " << prior_stats.pitch_range << ", \"in_key_fraction\": " << prior_stats.in_key_fraction
       << "},\n  \"held_out_stats\": {\"windows\": " << held_events.size()
       << ", \"notes_per_bar\": " << held_stats.notes_per_bar << ", \"rest_fraction\": " << held_stats.rest_fraction
       << ", \"pitch_range\": " << held_stats.pitch_range << ", \"in_key_fraction\": " << held_stats.in_key_fraction
       << "}\n}\n";
  }
  std::printf("wrote 8 samples, an interpolation (7 points), report.json and the page %s (%.0f s in all)%s\n",
              index.c_str(), secs(), can_render() ? "" : "; no WAVs: install fluidsynth and fluid-soundfont-gm");
  const bool beats =
      ev.tf_acc > std::max(ev.unigram_tf, ev.repeat_tf) && ev.recon_acc > std::max(ev.unigram_tf, ev.repeat_tf);
  std::printf("%s\n",
              beats ? "the model beats both baselines" : "the model does NOT beat both baselines yet (train longer)");
  return 0;
}

int main(int argc, char** argv) try {
  const Args a = parse(argc, argv);
  if (a.variant == "small") return run<SmallModel>(a);
  if (a.variant == "lite") return run<LiteModel>(a);
  FUGUE_FAIL("unknown --variant '", a.variant, "' (small or lite)");
} catch (const std::exception& e) {
  std::fprintf(stderr, "\nmusic_vae_demo: %s\n", e.what());
  return 1;
}
