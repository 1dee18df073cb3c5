// Conformance of fugue's DSP kernels with librosa 0.10.2.post1 and torch 1.13, on reference arrays
// written by tests/dsp/make_reference.py (scripts/prepare_dsp_reference.sh). The folder is taken from
// $FUGUE_DSP_REF, else ${FUGUE_DATA:-$HOME/.cache/fugue}/dsp_ref; when it is absent every case prints
// one SKIP line and passes. Tolerances (all in double precision) are stated next to each check and in
// docs/dsp.md; errors are relative to the largest reference value unless said otherwise.
#include <catch2/catch.hpp>

#include <cmath>
#include <complex>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "fugue/dsp/features.hpp"
#include "fugue/dsp/loudness.hpp"
#include "fugue/dsp/mel.hpp"
#include "fugue/dsp/stft.hpp"

using namespace fugue::dsp;

namespace {

std::string ref_dir() {
  if (const char* e = std::getenv("FUGUE_DSP_REF"); e && *e) return e;
  std::string root;
  if (const char* d = std::getenv("FUGUE_DATA"); d && *d)
    root = d;
  else if (const char* h = std::getenv("HOME"); h && *h)
    root = std::string(h) + "/.cache/fugue";
  return root + "/dsp_ref";
}

// True when the reference folder exists; otherwise prints the SKIP line (once per process).
bool have_refs() {
  static const bool ok = std::filesystem::exists(ref_dir() + "/index.json");
  static bool said = false;
  if (!ok && !said) {
    std::printf(
        "SKIP: DSP conformance vs librosa/torch: no reference arrays in %s "
        "(run scripts/prepare_dsp_reference.sh or set FUGUE_DSP_REF)\n",
        ref_dir().c_str());
    said = true;
  }
  return ok;
}

std::vector<double> load(const std::string& name, std::size_t expected) {
  const std::string path = ref_dir() + "/" + name + ".f64";
  std::ifstream f(path, std::ios::binary);
  REQUIRE(f.good());
  std::vector<double> v(expected);
  f.read(reinterpret_cast<char*>(v.data()), std::streamsize(expected * sizeof(double)));
  REQUIRE(std::size_t(f.gcount()) == expected * sizeof(double));
  REQUIRE(f.peek() == std::char_traits<char>::eof());  // no more data than expected
  return v;
}

// max |a - b| / max |b|
double rel_err(std::span<const double> a, std::span<const double> b) {
  REQUIRE(a.size() == b.size());
  double e = 0, m = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    e = std::max(e, std::abs(a[i] - b[i]));
    m = std::max(m, std::abs(b[i]));
  }
  return m > 0 ? e / m : e;
}
double abs_err(std::span<const double> a, std::span<const double> b) {
  REQUIRE(a.size() == b.size());
  double e = 0;
  for (std::size_t i = 0; i < a.size(); ++i) e = std::max(e, std::abs(a[i] - b[i]));
  return e;
}

constexpr std::size_t kN = 8037;

}  // namespace

TEST_CASE("conformance: STFT magnitude vs librosa.stft (constant / reflect / no centre)", "[dsp][conformance]") {
  if (!have_refs()) return;
  const auto sig = load("sig", kN);
  struct C {
    const char* name;
    Framing fr;
  };
  for (const C& c :
       {C{"constant", Framing::center(512, 128, PadKind::zeros)},
        C{"reflect", Framing::center(512, 128, PadKind::reflect)}, C{"nocenter", Framing::valid(512, 128)}}) {
    const Stft<double> s(c.fr);
    const auto M = magnitude(s.forward(sig));
    CHECK(M.cols() == 257);
    const auto ref = load(std::string("librosa_stft_mag_") + c.name, M.size());
    const double e = rel_err(M.flat(), ref);
    INFO(c.name << ": max error / max |S| = " << e);
    CHECK(e < 1e-12);
    // The float kernels on the float-rounded signal: input rounding (6e-8) and float FFT error.
    const std::vector<float> sf(sig.begin(), sig.end());
    const auto Mf = magnitude(Stft<float>(c.fr).forward(sf));
    const std::vector<double> mf(Mf.flat().begin(), Mf.flat().end());
    const double ef = rel_err(mf, ref);
    INFO(c.name << " (float): max error / max |S| = " << ef);
    CHECK(ef < 1e-6);
  }
}

TEST_CASE("conformance: complex STFT vs torch.stft and iSTFT vs torch.istft", "[dsp][conformance]") {
  if (!have_refs()) return;
  const auto sig = load("sig", kN);
  for (auto [n_fft, hop] : {std::pair<std::size_t, std::size_t>{512, 128}, {400, 160}}) {
    const Stft<double> s(Framing::center(n_fft, hop, PadKind::reflect));
    const auto X = s.forward(sig);
    std::vector<double> re(X.size()), im(X.size());
    for (std::size_t i = 0; i < X.size(); ++i) {
      re[i] = X.data()[i].real();
      im[i] = X.data()[i].imag();
    }
    const auto rre = load("torch_stft_re_" + std::to_string(n_fft), X.size());
    const auto rim = load("torch_stft_im_" + std::to_string(n_fft), X.size());
    const double e = std::max(rel_err(re, rre), rel_err(im, rim));
    INFO("n_fft " << n_fft << ": max error / max |component| = " << e);
    CHECK(e < 1e-12);
    // torch.istft of the phase-rotated torch spectrogram, against ours of the same input.
    Array2<std::complex<double>> Y(X.rows(), X.cols());
    for (std::size_t t = 0; t < X.rows(); ++t)
      for (std::size_t k = 0; k < X.cols(); ++k)
        Y(t, k) = std::complex<double>(rre[t * X.cols() + k], rim[t * X.cols() + k]) * std::polar(1.0, 0.1 * double(t));
    const auto y = s.inverse(Y, kN);
    const auto ry = load("torch_istft_" + std::to_string(n_fft), kN);
    const double ei = rel_err(y, ry);
    INFO("istft: max error / max |y| = " << ei);
    CHECK(ei < 1e-12);
  }
}

TEST_CASE("conformance: mel filterbanks vs librosa.filters.mel (HTK / Slaney, norm slaney / None)",
          "[dsp][conformance]") {
  if (!have_refs()) return;
  struct C {
    const char* name;
    Array2<double> W;
  };
  const C cases[] = {
      {"htk_16k_2048_229_30", mel_filterbank<double>(16000, 2048, 229, 30.0, -1, true, MelNorm::slaney)},
      {"slaney_22k_1024_80_0_8000", mel_filterbank<double>(22050, 1024, 80, 0.0, 8000.0, false, MelNorm::slaney)},
      {"slaney_nonorm_16k_512_40", mel_filterbank<double>(16000, 512, 40, 0.0, -1, false, MelNorm::none)},
      {"htk_nonorm_16k_1024_64_50_7000", mel_filterbank<double>(16000, 1024, 64, 50.0, 7000.0, true, MelNorm::none)}};
  for (const auto& c : cases) {
    const auto ref = load(std::string("mel_") + c.name, c.W.size());
    const double e = rel_err(c.W.flat(), ref);
    INFO(c.name << ": max error / max weight = " << e);
    CHECK(e < 1e-12);
  }
}

TEST_CASE("conformance: Onsets and Frames log-mel and MFCC vs librosa", "[dsp][conformance]") {
  if (!have_refs()) return;
  const auto sig = load("sig", kN);
  const auto L = onsets_frames_logmel<double>(sig);
  CHECK(L.rows() == 1 + kN / 512);
  CHECK(L.cols() == 229);
  const auto ref = load("of_logmel", L.size());
  // librosa builds melspectrogram's filterbank in float32 (rel. 6e-8), hence ~1e-6 dB, not 1e-12.
  const double e = abs_err(L.flat(), ref);
  INFO("log-mel: max abs error = " << e << " dB");
  CHECK(e < 1e-5);
  const auto mref = load("of_mfcc", L.rows() * 20);
  const Array2<double> Lref(L.rows(), 229, ref);
  const double em = abs_err(dct2(Lref, 20, DctNorm::ortho).flat(), mref);
  INFO("MFCC (DCT-II ortho of librosa's log-mel): max abs error = " << em);
  CHECK(em < 1e-9);
  const double em2 = abs_err(dct2(L, 20, DctNorm::ortho).flat(), mref);
  INFO("MFCC (whole pipeline): max abs error = " << em2);
  CHECK(em2 < 1e-5);
}

TEST_CASE("conformance: A-weighting vs librosa.A_weighting, DDSP v2 loudness recipe", "[dsp][conformance]") {
  if (!have_refs()) return;
  const auto f = fft_frequencies(16000, 512);
  std::vector<double> a(f.size());
  for (std::size_t k = 0; k < f.size(); ++k) a[k] = a_weighting_db(f[k]);
  const double e = abs_err(a, load("a_weighting_16k_512", a.size()));
  INFO("A-weighting on the 512-point grid: max abs error = " << e << " dB");
  CHECK(e < 1e-9);
  const auto fl = load("a_weighting_freqs", 9);
  std::vector<double> al(9);
  for (std::size_t i = 0; i < 9; ++i) al[i] = a_weighting_db(fl[i], -1e300);
  const double el = abs_err(al, load("a_weighting_list", 9));
  INFO("A-weighting at 10 Hz..20 kHz: max abs error = " << el << " dB");
  CHECK(el < 1e-9);
  const auto sig = load("sig", kN);
  const auto L = loudness_db<double>(sig, 16000);
  const double eL = abs_err(L, load("loudness_v2", L.size()));
  INFO("DDSP v2 loudness: max abs error = " << eL << " dB");
  CHECK(eL < 1e-9);
}
