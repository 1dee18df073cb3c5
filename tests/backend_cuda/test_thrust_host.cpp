// The CUDA backend's Thrust code on the CPU (THRUST_DEVICE_SYSTEM_CPP or _OMP, set by the
// build): backend kernels, tensor ops, the autodiff tape, the convolution / dense layers and
// the recurrent layers against cpu::native, plus the
// caching allocator and error paths. Built twice: test_cuda_thrust_cpp and test_cuda_thrust_omp.
#include <catch2/catch.hpp>

#include <cstdio>

#include <fugue/backend/cuda.hpp>

#if defined(_OPENMP)
using backends_under_test = std::tuple<fugue::cuda::thrust_cpp, fugue::cuda::thrust_omp>;
#else
using backends_under_test = std::tuple<fugue::cuda::thrust_cpp>;
#endif

// The backend contract, checked by the compiler (fugue/core/backend_concept.hpp): every member
// the library calls (fugue::Backend, with the index loops a backend that is not host-accessible
// needs), the device-side FFT and Philox fills, and none of cpu::simd's host-only fast paths.
template <class Bk>
constexpr bool device_backend_contract =
    fugue::Backend<Bk> && !Bk::host_accessible && fugue::BackendIndexLoops<Bk> && fugue::BackendFft<Bk> &&
    fugue::BackendRng<Bk> && !fugue::BackendPackedGemm<Bk> && !fugue::BackendSimd<Bk>;
static_assert(device_backend_contract<fugue::cuda::thrust_cpp>);
#if defined(_OPENMP)
static_assert(device_backend_contract<fugue::cuda::thrust_omp>);
#endif

#include "cases_autodiff.hpp"
#include "cases_kernels.hpp"
#include "cases_ddsp.hpp"
#include "cases_models.hpp"
#include "cases_nn.hpp"
#include "cases_attention.hpp"
#include "cases_rnn.hpp"

namespace {
// One line per test case with its own counts (the tally restarts for each).
void print_tally(const char* what) {
  auto& t = conformance::tally::get();
  std::printf("fugue conformance (%s, %s): %d cases, %d output comparisons against cpu::native passed\n", what,
#if defined(_OPENMP)
              "thrust_cpp + thrust_omp",
#else
              "thrust_cpp",
#endif
              t.cases, t.comparisons);
  t = {};
}
}  // namespace

TEST_CASE("cuda backend on Thrust host systems: kernel and tensor-op conformance", "[cuda][conformance]") {
  conformance::kernel_cases<float, backends_under_test>();
  conformance::kernel_cases<double, backends_under_test>();
  print_tally("kernels and tensor ops");
}

TEST_CASE("cuda backend on Thrust host systems: autodiff values and gradients", "[cuda][conformance]") {
  conformance::autodiff_cases<float, backends_under_test>();
  conformance::autodiff_cases<double, backends_under_test>();
  print_tally("autodiff");
}

TEST_CASE("cuda backend on Thrust host systems: layers, values and gradients", "[cuda][conformance]") {
  conformance::nn_cases<float, backends_under_test>();
  conformance::nn_cases<double, backends_under_test>();
  print_tally("layers: convolutions, linear, MLP, layer norm, batch norm");
}

TEST_CASE("cuda backend on Thrust host systems: recurrent layers, values and gradients", "[cuda][conformance]") {
  conformance::rnn_cases<float, backends_under_test>();
  conformance::rnn_cases<double, backends_under_test>();
  print_tally("layers: LSTM, GRU (sequences, bidirectional stacks, step)");
}

TEST_CASE("cuda backend on Thrust host systems: attention and Transformer layers, values and gradients",
          "[cuda][conformance]") {
  conformance::attention_cases<float, backends_under_test>();
  conformance::attention_cases<double, backends_under_test>();
  print_tally("layers: multi-head / relative attention, skew, Transformer encoder and decoder");
}

TEST_CASE("cuda backend on Thrust host systems: MusicVAE models, loss, gradients, sampling, training",
          "[cuda][conformance]") {
  conformance::model_cases<float, backends_under_test>();
  conformance::model_cases<double, backends_under_test>();
  print_tally(
      "models: MusicVAE flat / chord-conditioned / hierarchical (loss, grads, encode, decode, slerp, 2 Trainer steps)");
}

TEST_CASE("cuda backend on Thrust host systems: DDSP ops and models, loss, gradients, training",
          "[cuda][conformance]") {
  conformance::ddsp_cases<float, backends_under_test>();
  conformance::ddsp_cases<double, backends_under_test>();
  print_tally(
      "DDSP: harmonic synth (window, linear); staged noise / reverb / spectral-loss / STFT ops; models with trainable "
      "and noise reverbs, autoencoder");
}

// The harmonic synth's device path validates its inputs before any functor runs.
TEST_CASE("cuda backend on Thrust host systems: harmonic_synth rejects bad inputs with fugue::error",
          "[cuda][errors]") {
  using B = fugue::cuda::thrust_cpp;
  using Tn = fugue::Tensor<float, B>;
  fugue::ad::Tape<float, B> tape;
  fugue::dsp::HarmonicOptions o;
  o.n_samples = 100;
  auto run = [&](fugue::Shape a, fugue::Shape d, fugue::Shape f) {
    return fugue::dsp::harmonic_synth(tape.input(Tn::zeros(a)), tape.input(Tn::zeros(d)), tape.input(Tn::zeros(f)), o);
  };
  CHECK_THROWS_WITH(run({2, 4}, {2, 4}, {2, 4}), Catch::Contains("distribution must be [B, F, K]"));
  CHECK_THROWS_WITH(run({2, 3}, {2, 4, 5}, {2, 4}), Catch::Contains("amplitudes must be"));
  CHECK_THROWS_WITH(run({2, 0}, {2, 0, 5}, {2, 0}), Catch::Contains("at least one frame"));
  CHECK_THROWS_WITH(run({2, 3}, {2, 3, 5}, {2, 3}), Catch::Contains("multiple of the frame count"));
  CHECK_NOTHROW(run({2, 4}, {2, 4, 5}, {2, 4}));
}
