// fugue tensors and xtensor both ways (fugue/interop/xtensor.hpp): zero-copy views that read
// and write fugue storage, copies from any expression, and containers handed over without a
// copy when row-major and 64-byte aligned (and copied otherwise), with their lifetime kept.
#include <catch2/catch.hpp>

#include <xsimd/memory/xsimd_aligned_allocator.hpp>
#include <xtensor/xbuilder.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xview.hpp>

#include <cstdint>

#include "fugue/interop/xtensor.hpp"
#include "fugue/ops/linalg.hpp"

using namespace fugue;
using interop::adopt_xtensor;
using interop::adopted;
using interop::as_xtensor;
using interop::from_xtensor;

template <class T>
using Aligned64 = xt::xtensor_container<xt::uvector<T, xsimd::aligned_allocator<T, 64>>, 2, xt::layout_type::row_major>;

TEST_CASE("xtensor interop: as_xtensor views read and write fugue storage, any strides", "[interop]") {
  auto t = Tensor<float>::from({1, 2, 3, 4, 5, 6}, {2, 3});
  auto v = as_xtensor(t);
  REQUIRE(v.shape().size() == 2);
  CHECK(v.shape()[0] == 2);
  CHECK(v.shape()[1] == 3);
  CHECK(v(1, 0) == 4.0f);
  v(1, 2) = 60.0f;  // writes through
  CHECK(t(1, 2) == 60.0f);
  // A transposed view: strides (1, 3); a slice with an offset; a broadcast with a zero stride.
  const auto tt = t.t();
  const auto vt = as_xtensor(tt);
  CHECK(vt(2, 1) == 60.0f);
  CHECK(vt(0, 1) == 4.0f);
  CHECK(xt::sum(vt)() == Approx(75.0));
  const auto row = t.slice(0, 1, 2);  // [1, 3], data starts at element 3
  CHECK(as_xtensor(row)(0, 2) == 60.0f);
  const auto stepped = t.slice(1, 0, 3, 2);  // columns 0 and 2: stride 2, spans more than it holds
  const auto vs = as_xtensor(stepped);
  CHECK(vs(1, 1) == 60.0f);
  CHECK(xt::sum(vs)() == Approx(1 + 3 + 4 + 60));
  const auto b = Tensor<double>::from({7, 8}, {2, 1}).broadcast_to({2, 4});
  const auto vb = as_xtensor(b);
  CHECK(vb(1, 3) == 8.0);
  CHECK(vb(0, 2) == 7.0);
  CHECK(xt::sum(vb)() == Approx(4 * 7 + 4 * 8));
}

TEST_CASE("xtensor interop: from_xtensor copies any expression, row-major", "[interop]") {
  xt::xarray<double> a = {{1., 2., 3.}, {4., 5., 6.}};
  auto t = from_xtensor(a * 2.0 + 1.0);
  REQUIRE(t.shape() == Shape{2, 3});
  CHECK(t(1, 2) == 13.0);
  a(0, 0) = 100;  // a copy: the tensor does not change
  CHECK(t(0, 0) == 3.0);
  CHECK_FALSE(adopted(t));
  // A column-major source comes out in fugue's row-major order.
  xt::xtensor<float, 2, xt::layout_type::column_major> c = {{1.f, 2.f}, {3.f, 4.f}};
  const auto tc = from_xtensor(c);
  CHECK(tc.to_vector() == std::vector<float>{1, 2, 3, 4});
  const auto scalar_rank3 = from_xtensor(xt::ones<float>({2, 1, 3}));
  CHECK(scalar_rank3.shape() == Shape{2, 1, 3});
}

TEST_CASE("xtensor interop: an aligned row-major container is adopted without a copy and kept alive", "[interop]") {
  Tensor<float> t;
  const float* buffer = nullptr;
  {
    Aligned64<float> c = xt::arange<float>(12.0f).reshape({3, 4});
    buffer = c.data();
    REQUIRE(reinterpret_cast<std::uintptr_t>(buffer) % 64 == 0);
    t = adopt_xtensor(std::move(c));
  }  // the moved-from container is gone; its buffer lives on in t
  CHECK(adopted(t));
  CHECK(t.data() == buffer);
  CHECK(t(2, 3) == 11.0f);
  const auto view = t.slice(0, 1, 3);  // a view keeps the adopted buffer alive too
  t = Tensor<float>();
  CHECK(view(1, 0) == 8.0f);
  // fugue ops run on it: [2, 4] x [4, 2]
  const auto p = ops::matmul(view, view.t());
  CHECK(p(0, 0) == Approx(4 * 4 + 5 * 5 + 6 * 6 + 7 * 7));
}

TEST_CASE("xtensor interop: a column-major or misaligned container is copied", "[interop]") {
  xt::xtensor<double, 2, xt::layout_type::column_major> c = {{1., 2.}, {3., 4.}};
  const auto t = adopt_xtensor(std::move(c));
  CHECK_FALSE(adopted(t));
  CHECK(t.to_vector() == std::vector<double>{1, 2, 3, 4});
  // xtensor's default allocator: adopted exactly when the buffer happens to be 64-byte aligned.
  xt::xtensor<float, 2> d = xt::ones<float>({5, 7});
  const bool aligned = reinterpret_cast<std::uintptr_t>(d.data()) % 64 == 0;
  const auto u = adopt_xtensor(std::move(d));
  CHECK(adopted(u) == aligned);
  CHECK(u(4, 6) == 1.0f);
}
