// The CUDA backend from user code: a small two-layer network's forward pass and a softmax
// over its outputs, written once as a template over the backend, run on the GPU when there
// is one (fugue::cuda::device) and on the same Thrust code on the CPU when there is not
// (fugue::cuda::thrust_cpp), then checked against the CPU backend.
//
// Build: cmake -B build -DFUGUE_CUDA=ON && cmake --build build --target cuda_backend
// Run:   build/examples/cuda_backend
//
// Note: fugue::cuda and CCCL's top-level ::cuda namespace would clash under a global
// `using namespace fugue;` in a .cu file (nvcc's generated stubs name ::cuda); use an alias.
#include <cmath>
#include <cstdio>
#include <string>

#include <fugue/backend/cuda.hpp>
#include <fugue/core/tensor.hpp>
#include <fugue/ops.hpp>

namespace fg = fugue;

template <class B>
std::vector<float> forward(int batch) {
  using T = fg::Tensor<float, B>;
  const T x = T::uniform({batch, 64}, fg::Philox{7, 1}, -1.f, 1.f);
  const T w1 = T::normal({128, 64}, fg::Philox{7, 2}, 0.f, 0.125f), b1 = T::zeros({128});
  const T w2 = T::normal({10, 128}, fg::Philox{7, 3}, 0.f, 0.09f), b2 = T::full({10}, 0.1f);
  const T h = fg::ops::tanh(fg::ops::linear(x, w1, &b1));
  const T y = fg::ops::softmax(fg::ops::linear(h, w2, &b2));
  return y.to_vector();
}

int main() {
  const int batch = 256;
  std::vector<float> got;
  std::string where;
  if (fg::cuda::device_count() > 0) {
    got = forward<fg::cuda::device>(batch);
    where = "cuda::device (GPU)";
  } else {
    std::puts("cuda_backend: no CUDA device found; running the backend's Thrust code on the CPU instead");
    got = forward<fg::cuda::thrust_cpp>(batch);
    where = "cuda::thrust_cpp (CPU)";
  }
  const std::vector<float> want = forward<fg::cpu::native>(batch);
  double worst = 0;
  for (std::size_t i = 0; i < got.size(); ++i) worst = std::fmax(worst, std::fabs(double(got[i]) - double(want[i])));
  std::printf("cuda_backend: %d x 10 softmax outputs on %s, max |difference| from cpu::native = %.3g\n", batch,
              where.c_str(), worst);
  return worst < 1e-5 ? 0 : 1;
}
