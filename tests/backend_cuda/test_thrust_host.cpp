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
  print_tally("models: MusicVAE flat / chord-conditioned / hierarchical (loss, grads, encode, decode, slerp, 2 Trainer steps)");
}

TEST_CASE("cuda backend on Thrust host systems: DDSP ops (host-staged) and models, loss, gradients, training",
          "[cuda][conformance]") {
  conformance::ddsp_cases<float, backends_under_test>();
  conformance::ddsp_cases<double, backends_under_test>();
  print_tally("DDSP: staged synth / noise / reverb / spectral-loss / STFT ops; models with trainable and noise reverbs, autoencoder");
}
