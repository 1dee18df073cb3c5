// Must NOT compile: an LSTM over a device backend. tests/backend_cuda/CMakeLists.txt runs
// the compiler on this file and expects the FUGUE_REQUIRE_HOST_BACKEND message.
#include <fugue/backend/cuda.hpp>
#include <fugue/nn/lstm.hpp>

int main() {
  using B = fugue::cuda::thrust_cpp;
  fugue::nn::LSTM<float, B> lstm(8, 16, fugue::Philox{1, 1});
  auto y = lstm.forward(fugue::Tensor<float, B>::zeros({2, 3, 8}));
  return int(y.numel());
}
