// Must NOT compile: a host-loop kernel (the fused LSTM gate kernel, which the layers call only on
// host backends) over a device backend. tests/backend_cuda/CMakeLists.txt runs the compiler on
// this file and expects the FUGUE_REQUIRE_HOST_BACKEND message. (Every layer now has a device
// path, covered by the conformance cases; the guard keeps the host kernels from being handed
// device pointers.)
#include <fugue/backend/cuda.hpp>
#include <fugue/nn/detail/recurrent_kernels.hpp>

int main() {
  using B = fugue::cuda::thrust_cpp;
  float a[4] = {}, bias[4] = {}, c[1] = {}, h[1] = {};
  fugue::nn::detail::lstm_gates<B>(1, a, bias, 1.0f, static_cast<const float*>(nullptr), c, h);
  return int(h[0]);
}
