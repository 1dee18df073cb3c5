// The caching allocator (the same template the GPU uses over cudaMalloc), and the backend's
// error paths, on the Thrust host systems.
#include <catch2/catch.hpp>

#include <new>

#include <fugue/autodiff.hpp>
#include <fugue/backend/cuda.hpp>

namespace {
namespace fcuda = fugue::cuda;
using fugue::Tensor;

template <class X>
concept host_indexable = requires(X t) { t(0, 0); };

// A raw memory source that can be told to fail, to exercise the out-of-memory retry.
struct flaky_memory {
  static inline int fail_next = 0;
  static inline int live = 0;
  static void* allocate(std::size_t bytes) {
    if (fail_next > 0) {
      --fail_next;
      throw std::bad_alloc();
    }
    ++live;
    return ::operator new(bytes);
  }
  static void release(void* p) noexcept {
    --live;
    ::operator delete(p);
  }
};
}  // namespace

TEST_CASE("caching allocator: size classes, reuse, release, retry after a failure", "[cuda][allocator]") {
  using A = fcuda::caching_allocator<flaky_memory>;
  STATIC_REQUIRE(A::size_class(0) == 512);
  STATIC_REQUIRE(A::size_class(513) == 1024);
  STATIC_REQUIRE(A::size_class(1 << 20) == 1 << 20);
  STATIC_REQUIRE(A::size_class((1 << 20) + 1) == 2 << 20);
  A& a = A::instance();
  a.release_cached();
  const auto before = a.statistics();
  void* p = a.allocate(1000);
  a.deallocate(p, 1000);
  void* q = a.allocate(900);  // same 1024-byte class: served from the cache
  CHECK(q == p);
  auto s = a.statistics();
  CHECK(s.raw_allocations == before.raw_allocations + 1);
  CHECK(s.cache_hits == before.cache_hits + 1);
  CHECK(s.bytes_in_use == before.bytes_in_use + 1024);
  void* big = a.allocate(3 << 20);
  a.deallocate(big, 3 << 20);
  a.deallocate(q, 900);
  CHECK(a.statistics().bytes_cached == 1024 + (3 << 20));
  // A failing raw allocation releases the cache and retries once.
  flaky_memory::fail_next = 1;
  void* r = a.allocate(5000);
  CHECK(a.statistics().bytes_cached == 0);
  CHECK(flaky_memory::live == 1);
  a.deallocate(r, 5000);
  // Two failures in a row reach the caller.
  flaky_memory::fail_next = 2;
  CHECK_THROWS_AS(a.allocate(1 << 22), std::bad_alloc);
  a.release_cached();
  CHECK(flaky_memory::live == 0);
}

TEST_CASE("caching allocator: a steady training step stops allocating after the first", "[cuda][allocator]") {
  using B = fcuda::thrust_cpp;
  namespace ad = fugue::ad;
  auto w = Tensor<float, B>::uniform({32, 32}, fugue::Philox{1, 1}, -0.2f, 0.2f);
  auto x = Tensor<float, B>::uniform({16, 32}, fugue::Philox{1, 2});
  auto step = [&] {
    ad::Tape<float, B> tape;
    auto vw = tape.input(w, true), vx = tape.input(x);
    auto loss = ad::mean(ad::square(ad::tanh(ad::matmul(ad::tanh(ad::matmul(vx, vw)), vw))));
    tape.backward(loss);
    return vw.grad().to_vector()[0];
  };
  const float first = step();
  const auto warm = B::allocator().statistics();
  for (int i = 0; i < 5; ++i) CHECK(step() == first);
  const auto after = B::allocator().statistics();
  CHECK(after.raw_allocations == warm.raw_allocations);
  CHECK(after.cache_hits > warm.cache_hits);
}

TEST_CASE("cuda backend errors: shape mismatches, bad FFT sizes, no host pointer access", "[cuda][errors]") {
  using B = fcuda::thrust_cpp;
  auto a = Tensor<float, B>::ones({3, 4}), b = Tensor<float, B>::ones({5});
  CHECK_THROWS_AS(fugue::ops::add(a, b), fugue::error);
  CHECK_THROWS_AS(fugue::ops::matmul(a, a), fugue::error);
  CHECK_THROWS_WITH(B::rfft<float>(0, 1, nullptr, nullptr),
                    Catch::Contains("rfft") && Catch::Contains("cuda::thrust_cpp"));
  STATIC_REQUIRE_FALSE(B::host_accessible);
  // Element access through host pointers does not compile for a device backend:
  STATIC_REQUIRE_FALSE(host_indexable<Tensor<float, B>>);
  STATIC_REQUIRE(host_indexable<Tensor<float, fugue::cpu::native>>);
  CHECK(fcuda::device_count() == 0);  // the Thrust host build never sees a GPU
}
