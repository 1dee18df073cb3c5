// Must NOT compile: batch normalisation (its statistics loops read host memory) over a device
// backend. tests/backend_cuda/CMakeLists.txt runs the compiler on this file and expects the
// FUGUE_REQUIRE_HOST_BACKEND message. (The LSTM / GRU and attention layers used to be the
// example; they now have device kernels and are covered by the conformance cases.)
#include <fugue/backend/cuda.hpp>
#include <fugue/nn/batch_norm.hpp>

int main() {
  using B = fugue::cuda::thrust_cpp;
  fugue::nn::BatchNormOptions o;
  o.num_features = 4;
  fugue::nn::BatchNorm<float, B> bn(o);
  auto y = bn.forward(fugue::Tensor<float, B>::zeros({2, 4, 3}));
  return int(y.numel());
}
