// Conformance of the differentiable DSP ops with an independent PyTorch 1.13 implementation
// (tests/dsp_diff/torch_ddsp.py, written from the DDSP spec), float64, values and gradients.
// References come from scripts/prepare_dsp_diff_reference.sh into $FUGUE_DSP_DIFF_REF, else
// ${FUGUE_DATA:-$HOME/.cache/fugue}/dsp_diff_ref; when absent, one SKIP line is printed and the cases pass.
// Tolerances (relative to the largest reference value of each array): harmonic synth output and
// gradients 1e-9; spectral loss value 1e-12, gradients 1e-9.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "fugue/dsp/harmonic_synth.hpp"
#include "fugue/dsp/spectral_loss.hpp"

using namespace fugue;
using Td = Tensor<double, cpu::native>;

namespace {

std::string ref_dir() {
  if (const char* e = std::getenv("FUGUE_DSP_DIFF_REF"); e && *e) return e;
  std::string root;
  if (const char* d = std::getenv("FUGUE_DATA"); d && *d)
    root = d;
  else if (const char* h = std::getenv("HOME"); h && *h)
    root = std::string(h) + "/.cache/fugue";
  return root + "/dsp_diff_ref";
}

bool have_refs() {
  static const bool ok = std::filesystem::exists(ref_dir() + "/index.json");
  static bool said = false;
  if (!ok && !said) {
    std::printf(
        "SKIP: differentiable DSP conformance vs PyTorch: no reference arrays in %s "
        "(run scripts/prepare_dsp_diff_reference.sh or set FUGUE_DSP_DIFF_REF)\n",
        ref_dir().c_str());
    said = true;
  }
  return ok;
}

std::vector<double> load(const std::string& name, std::size_t expected) {
  std::ifstream f(ref_dir() + "/" + name + ".f64", std::ios::binary);
  INFO(name);
  REQUIRE(f.good());
  std::vector<double> v(expected);
  f.read(reinterpret_cast<char*>(v.data()), std::streamsize(expected * sizeof(double)));
  REQUIRE(std::size_t(f.gcount()) == expected * sizeof(double));
  REQUIRE(f.peek() == std::char_traits<char>::eof());
  return v;
}

double rel_err(const std::vector<double>& a, const std::vector<double>& b) {
  REQUIRE(a.size() == b.size());
  double e = 0, m = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    e = std::max(e, std::abs(a[i] - b[i]));
    m = std::max(m, std::abs(b[i]));
  }
  return m > 0 ? e / m : e;
}

}  // namespace

TEST_CASE("conformance: harmonic synth output and gradients vs PyTorch (window / linear)", "[dsp_diff][conformance]") {
  if (!have_refs()) return;
  const std::size_t Bn = 2, F = 100, K = 20, N = 6400;
  const auto amps = load("hs_amps", Bn * F), dist = load("hs_dist", Bn * F * K), f0 = load("hs_f0", Bn * F);
  const auto w = load("hs_w", Bn * N);
  for (const char* method : {"window", "linear"}) {
    INFO(method);
    dsp::HarmonicOptions o;
    o.n_samples = N;
    o.amp_resample = std::string(method) == "window" ? dsp::AmpResample::window : dsp::AmpResample::linear;
    ad::Tape<double> t;
    auto va = t.input(Td::from(amps, {index_t(Bn), index_t(F)}), true);
    auto vd = t.input(Td::from(dist, {index_t(Bn), index_t(F), index_t(K)}), true);
    auto vf = t.input(Td::from(f0, {index_t(Bn), index_t(F)}), true);
    auto y = dsp::harmonic_synth(va, vd, vf, o);
    t.backward(y, Td::from(w, {index_t(Bn), index_t(N)}));
    const std::string m(method);
    const double ey = rel_err(y.value().to_vector(), load("hs_y_" + m, Bn * N));
    const double ea = rel_err(va.grad().to_vector(), load("hs_damps_" + m, Bn * F));
    const double ed = rel_err(vd.grad().to_vector(), load("hs_ddist_" + m, Bn * F * K));
    const double ef = rel_err(vf.grad().to_vector(), load("hs_df0_" + m, Bn * F));
    std::printf("conformance harmonic %s: y %.2e, d amps %.2e, d dist %.2e, d f0 %.2e\n", method, ey, ea, ed, ef);
    CHECK(ey < 1e-9);
    CHECK(ea < 1e-9);
    CHECK(ed < 1e-9);
    CHECK(ef < 1e-9);
  }
}

TEST_CASE("conformance: multi-scale spectral loss value and gradients vs PyTorch", "[dsp_diff][conformance]") {
  if (!have_refs()) return;
  const std::size_t Bn = 2, N = 8000;
  const auto x = load("sl_x", Bn * N), y = load("sl_y", Bn * N);
  ad::Tape<double> t;
  auto vx = t.input(Td::from(x, {index_t(Bn), index_t(N)}), true);
  auto vy = t.input(Td::from(y, {index_t(Bn), index_t(N)}), true);
  auto l = dsp::spectral_loss(vx, vy);
  t.backward(l);
  const double ref = load("sl_loss", 1)[0];
  const double el = std::abs(l.value().item() - ref) / std::abs(ref);
  const double ex = rel_err(vx.grad().to_vector(), load("sl_dx", Bn * N));
  const double ey = rel_err(vy.grad().to_vector(), load("sl_dy", Bn * N));
  std::printf("conformance spectral loss: value %.2e, d x %.2e, d y %.2e\n", el, ex, ey);
  CHECK(el < 1e-12);
  CHECK(ex < 1e-9);
  CHECK(ey < 1e-9);
}
