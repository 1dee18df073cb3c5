// Uses the installed headers: a matrix product on the default CPU backend, the nn umbrella
// header (every layer in one translation unit) with a Linear layer, the version header and, with
// the xtensor component (not in the pkg-config build, FUGUE_CONSUMER_CORE_ONLY), the interop.
#include <fugue/fugue.hpp>
#include <fugue/nn.hpp>
#include <fugue/version.hpp>
#ifndef FUGUE_CONSUMER_CORE_ONLY
#include <fugue/interop/xtensor.hpp>
#endif

#include <cstdio>

int main() {
  auto a = fugue::Tensor<float>::from({1, 2, 3, 4}, {2, 2});
  auto c = fugue::ops::matmul(a, a.t());  // [[5, 11], [11, 25]]
  if (c(0, 0) != 5.0f || c(0, 1) != 11.0f || c(1, 1) != 25.0f) {
    std::puts("consumer: wrong product");
    return 1;
  }
  fugue::nn::Linear<float, fugue::cpu::native, 2, 3> lin;
  const auto y = lin.forward(a);  // [2, 2] -> [2, 3]
  if (y.dim(0) != 2 || y.dim(1) != 3) {
    std::puts("consumer: wrong Linear output shape");
    return 1;
  }
#ifndef FUGUE_CONSUMER_CORE_ONLY
  auto v = fugue::interop::as_xtensor(c);
  if (v(1, 0) != 11.0f) {
    std::puts("consumer: wrong xtensor view");
    return 1;
  }
#endif
  static_assert(FUGUE_VERSION >= 100);
  std::printf("consumer: fugue %s works from an installed tree (backend %s)\n", FUGUE_VERSION_STRING,
              std::string(fugue::cpu::native::name()).c_str());
  return 0;
}
