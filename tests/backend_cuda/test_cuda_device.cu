// The CUDA backend compiled by nvcc. Status translation needs no GPU and always runs; the
// GPU conformance cases (kernels, tensor ops, the autodiff tape's and the layers' (convolutions,
// linear, MLP, layer norm)
// values and gradients on
// cuda::device against cpu::native, the
// allocator's steady state, cuBLAS / cuFFT error reporting) run when a GPU is present and
// otherwise print one skip line.
#include <catch2/catch.hpp>

#include <cstdio>

#include <fugue/backend/cuda.hpp>

using backends_under_test = std::tuple<fugue::cuda::device>;
// The backend contract (fugue/core/backend_concept.hpp), as test_thrust_host.cpp checks it for the
// Thrust twins: every member the library calls, the device FFT and Philox fills, no host fast paths.
static_assert(fugue::Backend<fugue::cuda::device> && fugue::BackendIndexLoops<fugue::cuda::device> &&
              fugue::BackendFft<fugue::cuda::device> && fugue::BackendRng<fugue::cuda::device> &&
              !fugue::BackendPackedGemm<fugue::cuda::device> && !fugue::BackendSimd<fugue::cuda::device>);

#include "cases_autodiff.hpp"
#include "cases_kernels.hpp"
#include "cases_ddsp.hpp"
#include "cases_models.hpp"
#include "cases_nn.hpp"
#include "cases_attention.hpp"
#include "cases_rnn.hpp"

namespace fcuda = fugue::cuda;

TEST_CASE("cuda status codes become fugue::error naming the call", "[cuda][status]") {
  CHECK_THROWS_WITH(FUGUE_CUDA_CALL(cudaErrorMemoryAllocation), Catch::Contains("cudaErrorMemoryAllocation failed") &&
                                                                    Catch::Contains("cudaErrorMemoryAllocation ("));
  try {
    fcuda::check_cuda(cudaErrorInvalidValue, "cudaMemcpyAsync(dst, src, 64, kind, stream)");
    FAIL("no throw");
  } catch (const fugue::error& e) {
    CHECK_THAT(e.message(),
               Catch::StartsWith("cudaMemcpyAsync(dst, src, 64, kind, stream) failed: cudaErrorInvalidValue"));
  }
  CHECK_THROWS_WITH(fcuda::check_cublas(CUBLAS_STATUS_NOT_INITIALIZED, "cublasSgemm(...)"),
                    Catch::Contains("cublasSgemm(...) failed: CUBLAS_STATUS_NOT_INITIALIZED"));
  CHECK_THROWS_WITH(fcuda::check_cufft(CUFFT_INVALID_SIZE, "cufftPlanMany(...)"),
                    Catch::Contains("cufftPlanMany(...) failed: CUFFT_INVALID_SIZE"));
  CHECK_NOTHROW(fcuda::check_cuda(cudaSuccess, "ok"));
  CHECK(std::string(fcuda::cufft_status_name(CUFFT_EXEC_FAILED)) == "CUFFT_EXEC_FAILED");
}

TEST_CASE("cuda device: conformance with cpu::native, allocator, library errors", "[cuda][gpu]") {
  if (fcuda::device_count() == 0) {
    std::puts("SKIP test_cuda_device: no CUDA device (cudaGetDeviceCount found none); the GPU cases did not run");
    return;
  }
  using B = fcuda::device;
  conformance::kernel_cases<float, backends_under_test>();
  conformance::kernel_cases<double, backends_under_test>();
  conformance::autodiff_cases<float, backends_under_test>();
  conformance::autodiff_cases<double, backends_under_test>();
  conformance::nn_cases<float, backends_under_test>();
  conformance::nn_cases<double, backends_under_test>();
  conformance::rnn_cases<float, backends_under_test>();
  conformance::rnn_cases<double, backends_under_test>();
  conformance::attention_cases<float, backends_under_test>();
  conformance::attention_cases<double, backends_under_test>();
  conformance::model_cases<float, backends_under_test>();
  conformance::model_cases<double, backends_under_test>();
  conformance::ddsp_cases<float, backends_under_test>();
  conformance::ddsp_cases<double, backends_under_test>();
  const auto& t = conformance::tally::get();
  std::printf("fugue conformance (cuda::device): %d cases, %d output comparisons against cpu::native passed\n", t.cases,
              t.comparisons);

  // A steady forward loop stops calling cudaMalloc after its first iteration.
  auto w = fugue::Tensor<float, B>::uniform({256, 256}, fugue::Philox{3, 1});
  auto step = [&] { return fugue::ops::sum(fugue::ops::tanh(fugue::ops::matmul(w, w))).item(); };
  const float first = step();
  const auto warm = B::allocator().statistics();
  for (int i = 0; i < 5; ++i) CHECK(step() == Approx(first).epsilon(1e-6));
  CHECK(B::allocator().statistics().raw_allocations == warm.raw_allocations);

  // Library failures name the call.
  auto& ctx = fcuda::gpu_context::get();
  std::lock_guard lock(ctx.library_mutex());
  CHECK_THROWS_WITH(ctx.fft_plan(-4, 1, CUFFT_R2C), Catch::Contains("cufftPlanMany"));
}
