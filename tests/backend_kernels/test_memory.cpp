// The CPU backend's storage: large blocks are reused through cpu::block_cache, small ones
// and (in sanitizer builds) every block go to the system, and the cache respects its limit.
#include <catch2/catch.hpp>

#include <cstdint>

#include "fugue/autodiff.hpp"
#include "fugue/ops.hpp"
#include "fugue/tensor.hpp"

using fugue::Tensor;
namespace cpu = fugue::cpu;

TEST_CASE("cpu storage: a steady training step stops allocating large blocks after the first", "[backend][memory]") {
  if (!cpu::block_cache_enabled) {
    WARN("block cache disabled in this (sanitizer) build: not checked");
    return;
  }
  namespace ad = fugue::ad;
  auto w = Tensor<float>::uniform({256, 256}, fugue::Philox{1, 1}, -0.1f, 0.1f);  // 256 KiB: cached
  auto x = Tensor<float>::uniform({512, 256}, fugue::Philox{1, 2});
  auto step = [&] {
    ad::Tape<float> tape;
    auto vw = tape.input(w, true), vx = tape.input(x);
    auto loss = ad::mean(ad::square(ad::tanh(ad::matmul(ad::tanh(ad::matmul(vx, vw)), vw))));
    tape.backward(loss);
    return vw.grad().to_vector()[0];
  };
  const float first = step();
  const auto after_first = cpu::memory_statistics();
  float again = 0;
  for (int i = 0; i < 3; ++i) again = step();
  const auto after = cpu::memory_statistics();
  CHECK(again == first);  // reused memory changes nothing
  CHECK(after.raw_allocations == after_first.raw_allocations);
  CHECK(after.cache_hits > after_first.cache_hits);
}

TEST_CASE("cpu storage: alignment, small blocks bypass the cache, the limit is honoured", "[backend][memory]") {
  cpu::release_cached_memory();
  const auto s0 = cpu::memory_statistics();
  {
    Tensor<float> small = Tensor<float>::zeros({1000});  // 4 KB: plain operator new
    CHECK(reinterpret_cast<std::uintptr_t>(small.data()) % 64 == 0);
  }
  CHECK(cpu::memory_statistics().raw_allocations == s0.raw_allocations);
  if (!cpu::block_cache_enabled) {
    WARN("block cache disabled in this (sanitizer) build: not checked");
    return;
  }
  {
    Tensor<float> big = Tensor<float>::zeros({1 << 18});  // 1 MiB
    CHECK(reinterpret_cast<std::uintptr_t>(big.data()) % 64 == 0);
  }
  CHECK(cpu::memory_statistics().bytes_cached == (std::size_t(1) << 20));
  cpu::set_cache_limit(0);  // below what is cached: the cache empties, and stays empty
  CHECK(cpu::memory_statistics().bytes_cached == 0);
  { Tensor<float> big = Tensor<float>::zeros({1 << 18}); }
  CHECK(cpu::memory_statistics().bytes_cached == 0);
  cpu::set_cache_limit(cpu::aligned_raw_memory::default_cache_limit);
  const auto before = cpu::memory_statistics();
  { Tensor<float> a = Tensor<float>::zeros({1 << 18}); }
  { Tensor<float> b = Tensor<float>::zeros({1 << 18}); }  // the same block again
  const auto after = cpu::memory_statistics();
  CHECK(after.raw_allocations == before.raw_allocations + 1);
  CHECK(after.cache_hits == before.cache_hits + 1);
  CHECK(after.bytes_in_use == before.bytes_in_use);
}
