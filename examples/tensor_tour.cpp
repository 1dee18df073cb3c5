// examples/tensor_tour.cpp — a tour of fugue's tensor core on the CPU backend.
//
// Builds tensors from Philox streams, takes views without copying, multiplies
// matrices (through transposed views), normalises rows, and reports the GEMM
// throughput this machine reaches. Run: scripts/demo.sh
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>

#include "fugue/fugue.hpp"

using namespace fugue;

int main(int argc, char** argv) {
  const index_t n = argc > 1 ? std::stoll(argv[1]) : 1024;
  std::printf("fugue tensor tour on %s\n\n", std::string(cpu::native::name()).c_str());

  // A batch of 4 "melodies", 32 steps, 90 one-hot classes of logits.
  auto logits = Tensor<float>::normal({4, 32, 90}, Philox{2026, 0});
  auto probs = ops::softmax(logits);
  const std::vector<float> row_sums = ops::sum(probs, -1).to_vector();
  const auto [lo, hi] = std::minmax_element(row_sums.begin(), row_sums.end());
  std::printf("softmax over 90 classes: %zu row sums in [%.6f, %.6f]\n", row_sums.size(), *lo, *hi);

  // Views share storage: step 7 of melody 2, and every other step of melody 0.
  auto step = logits.select(0, 2).select(0, 7);
  auto strided = logits.select(0, 0).slice(0, 0, 32, 2);
  std::printf("views: step %s, strided %s (contiguous: %s), same storage: %s\n", step.shape().str().c_str(),
              strided.shape().str().c_str(), strided.is_contiguous() ? "yes" : "no",
              strided.shares_storage_with(logits) ? "yes" : "no");

  // Layer norm of a hidden state, then a matrix product through a transposed view.
  auto h = Tensor<float>::normal({64, 512}, Philox{2026, 1}, 3.0f, 2.0f);
  auto hn = ops::layer_norm(h, nullptr, nullptr, 1e-5f);
  auto mean = ops::mean(hn).item();
  std::printf("layer norm: mean %.2e after normalising a N(3, 2^2) batch\n", mean);

  // GEMM throughput, single thread then two.
  auto a = Tensor<float>::uniform({n, n}, Philox{1, 0}, -1.0f, 1.0f);
  auto b = Tensor<float>::uniform({n, n}, Philox{1, 1}, -1.0f, 1.0f);
  for (int threads : {1, 2}) {
    cpu::set_num_threads(threads);
    auto c = ops::matmul(a, b.t());  // warm-up (packing buffers, pool)
    const int reps = 3;
    auto t0 = std::chrono::steady_clock::now();
    for (int r = 0; r < reps; ++r) c = ops::matmul(a, b.t());
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / reps;
    // Spot check one entry against a dot product.
    double ref = 0;
    for (index_t k = 0; k < n; ++k) ref += double(a(3, k)) * b(5, k);
    std::printf("GEMM %lldx%lldx%lld, %d thread(s): %.1f ms, %.1f GFLOP/s (c[3,5] = %.4f, reference %.4f)\n",
                (long long)n, (long long)n, (long long)n, threads, s * 1e3, 2.0 * n * n * n / s * 1e-9, c(3, 5), ref);
  }
  cpu::set_num_threads(1);
  return 0;
}
