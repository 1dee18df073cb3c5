// Tensor handles and views, checked element by element against index arithmetic.
#include <catch2/catch.hpp>

#include <memory>
#include <vector>

#include "fugue/ops.hpp"
#include "fugue/tensor.hpp"

using namespace fugue;

namespace {
Tensor<double> iota(const Shape& s) {
  std::vector<double> v(std::size_t(s.numel()));
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = double(i);
  return Tensor<double>::from(v, s);
}
}  // namespace

TEST_CASE("tensor storage is aligned, zero-filled and shared by copies", "[core][tensor]") {
  Tensor<float> a(Shape{3, 5});
  REQUIRE(reinterpret_cast<std::uintptr_t>(a.data()) % 64 == 0);
  for (float v : a.to_vector()) REQUIRE(v == 0.0f);
  Tensor<float> b = a;
  b(1, 2) = 7.0f;
  REQUIRE(a(1, 2) == 7.0f);
  Tensor<float> c = a.clone();
  c(1, 2) = 1.0f;
  REQUIRE(a(1, 2) == 7.0f);
  REQUIRE_FALSE(c.shares_storage_with(a));
}

TEST_CASE("slice, select, transpose, permute and broadcast views index correctly", "[core][tensor]") {
  auto x = iota({4, 5, 6});                      // x(i,j,k) = 30i + 6j + k
  auto v = x.slice(1, 1, 5, 2).slice(2, -4, 6);  // j in {1,3}, k in {2..5}
  REQUIRE(v.shape() == Shape{4, 2, 4});
  REQUIRE_FALSE(v.is_contiguous());
  for (index_t i = 0; i < 4; ++i)
    for (index_t j = 0; j < 2; ++j)
      for (index_t k = 0; k < 4; ++k) REQUIRE(v(i, j, k) == 30.0 * i + 6.0 * (1 + 2 * j) + (2 + k));

  auto s = x.select(1, 3);  // [4, 6]
  REQUIRE(s.shape() == Shape{4, 6});
  REQUIRE(s(2, 5) == 30.0 * 2 + 18 + 5);

  auto p = x.permute({2, 0, 1});  // p(k,i,j) = x(i,j,k)
  REQUIRE(p.shape() == Shape{6, 4, 5});
  auto pc = p.contiguous();
  REQUIRE(pc.is_contiguous());
  for (index_t k = 0; k < 6; ++k)
    for (index_t i = 0; i < 4; ++i)
      for (index_t j = 0; j < 5; ++j) REQUIRE(pc(k, i, j) == x(i, j, k));

  auto t = x.transpose(0, 2);
  REQUIRE(t(5, 4, 3) == x(3, 4, 5));

  auto row = iota({1, 6});
  auto b = row.broadcast_to({3, 4, 6});
  auto bc = b.clone();
  for (index_t a = 0; a < 3; ++a)
    for (index_t i = 0; i < 4; ++i)
      for (index_t k = 0; k < 6; ++k) REQUIRE(bc(a, i, k) == double(k));

  auto u = x.unsqueeze(1);
  REQUIRE(u.shape() == Shape{4, 1, 5, 6});
  REQUIRE(u.squeeze(1).shape() == x.shape());
}

TEST_CASE("reshape is a view of contiguous data and refuses to copy silently", "[core][tensor]") {
  auto x = iota({2, 3, 4});
  auto r = x.reshape({6, -1});
  REQUIRE(r.shape() == Shape{6, 4});
  REQUIRE(r.shares_storage_with(x));
  REQUIRE(r(5, 3) == 23.0);
  REQUIRE_THROWS_AS(x.reshape({5, 5}), error);
  REQUIRE_THROWS_AS(x.reshape({-1, -1}), error);
  REQUIRE_THROWS_WITH(x.transpose(0, 1).reshape({24}), Catch::Contains("non-contiguous"));
  REQUIRE(x.transpose(0, 1).contiguous().reshape({24}).numel() == 24);
}

TEST_CASE("copy_from writes through strided destinations", "[core][tensor]") {
  auto dst = Tensor<double>::zeros({4, 6});
  auto src = iota({6, 2}).t();  // [2, 6] non-contiguous
  dst.slice(0, 1, 3).copy_from(src);
  for (index_t j = 0; j < 6; ++j) {
    REQUIRE(dst(0, j) == 0.0);
    REQUIRE(dst(1, j) == src(0, j));
    REQUIRE(dst(2, j) == src(1, j));
    REQUIRE(dst(3, j) == 0.0);
  }
  REQUIRE_THROWS_AS(dst.copy_from(src), error);
}

TEST_CASE("run-time shape errors say what and where", "[core][errors]") {
  auto x = iota({2, 3});
  REQUIRE_THROWS_WITH(x(2, 0), Catch::Contains("index 2 out of range for dimension 0 of shape [2, 3]"));
  REQUIRE_THROWS_WITH(x(0), Catch::Contains("indexing a rank-2 tensor with 1 indices"));
  REQUIRE_THROWS_WITH(x.slice(3, 0, 1), Catch::Contains("dimension 3 out of range"));
  REQUIRE_THROWS_WITH(Tensor<float>::from({1, 2, 3}, {2, 2}), Catch::Contains("3 values for shape [2, 2]"));
  REQUIRE_THROWS_WITH(broadcast_shapes({2, 3}, {4, 3}), Catch::Contains("cannot be broadcast"));
  REQUIRE_THROWS_WITH(ops::matmul(x, x), Catch::Contains("inner dimensions differ"));
  try {
    (void)x.select(0, 9);
    FAIL("no error");
  } catch (const error& e) {
    REQUIRE(std::string(e.what()).find("fugue/core/tensor.hpp:") != std::string::npos);
  }
}

namespace {
template <class A, class B>
concept can_matmul = requires(const A& a, const B& b) { ops::matmul(a, b); };
template <class A, class B>
concept can_add = requires(const A& a, const B& b) { ops::add(a, b); };
}  // namespace

TEST_CASE("static extents catch mismatches at compile time, dynamic ones at run time", "[core][errors]") {
  using A23 = ShapedTensor<double, Extents<2, 3>>;
  using A34 = ShapedTensor<double, Extents<3, 4>>;
  using A3d = ShapedTensor<double, Extents<3, dyn>>;
  using A43 = ShapedTensor<double, Extents<4, 3>>;
  static_assert(can_matmul<A23, A34>);
  static_assert(can_matmul<A23, A3d>);
  static_assert(!can_matmul<A23, A43>, "inner extents 3 vs 4 must not compile");
  static_assert(!can_matmul<A23, A23>);
  static_assert(std::is_same_v<decltype(ops::matmul(A23{}, A34{}))::extents, Extents<2, 4>>);
  // dtype mismatches do not compile either
  static_assert(can_add<Tensor<float>, Tensor<float>>);
  static_assert(!can_add<Tensor<float>, Tensor<double>>);
  static_assert(!can_matmul<Tensor<float>, Tensor<double>>);

  A3d ok(Tensor<double>::ones({3, 7}));
  REQUIRE(ops::matmul(A23{}, ok).shape() == Shape{2, 7});
  REQUIRE_THROWS_WITH(A3d(Tensor<double>::ones({4, 7})), Catch::Contains("dimension 0 must be 3"));
  REQUIRE_THROWS_WITH(A23(Tensor<double>::ones({2, 3, 1})), Catch::Contains("expected rank 2"));
}

TEST_CASE("ops on views match the same ops on contiguous copies", "[core][ops]") {
  Philox rng{42, 0};
  auto a = Tensor<double>::normal({7, 9}, rng);
  auto b = Tensor<double>::normal({9, 7}, Philox{42, 1});
  auto bt = b.t();  // non-contiguous [7, 9]
  auto s1 = ops::add(a, bt), s2 = ops::add(a, bt.contiguous());
  REQUIRE(s1.to_vector() == s2.to_vector());
  auto m1 = ops::matmul(a, b), m2 = ops::matmul(a, bt.t().contiguous());
  auto v1 = m1.to_vector(), v2 = m2.to_vector();
  for (std::size_t i = 0; i < v1.size(); ++i) REQUIRE(v1[i] == Approx(v2[i]).epsilon(1e-12));
  // matmul against a plain triple loop, with a transposed left operand
  auto at = a.t();               // [9, 7]
  auto m3 = ops::matmul(at, a);  // [9, 9]
  for (index_t i = 0; i < 9; ++i)
    for (index_t j = 0; j < 9; ++j) {
      double acc = 0;
      for (index_t k = 0; k < 7; ++k) acc += a(k, i) * a(k, j);
      REQUIRE(m3(i, j) == Approx(acc).epsilon(1e-12));
    }
  // row reductions
  auto rs = ops::sum(a, 1), cs = ops::sum(a, 0, true);
  REQUIRE(cs.shape() == Shape{1, 9});
  for (index_t i = 0; i < 7; ++i) {
    double acc = 0;
    for (index_t j = 0; j < 9; ++j) acc += a(i, j);
    REQUIRE(rs(i) == Approx(acc).epsilon(1e-12));
  }
  for (index_t j = 0; j < 9; ++j) {
    double acc = 0;
    for (index_t i = 0; i < 7; ++i) acc += a(i, j);
    REQUIRE(cs(0, j) == Approx(acc).epsilon(1e-12));
  }
}

TEST_CASE("tensors copy between backends", "[core][backend]") {
  auto a = Tensor<float>::uniform({5, 3}, Philox{3, 0});
  auto s = a.to<cpu::scalar>();
  static_assert(std::is_same_v<decltype(s)::backend, cpu::scalar>);
  REQUIRE(s.to_vector() == a.to_vector());
  auto back = s.t().to<cpu::native>();
  REQUIRE(back(2, 4) == a(4, 2));
}

TEST_CASE("Tensor::adopt: another owner's memory, no copy, kept alive by every handle", "[core][tensor]") {
  auto buffer = std::make_shared<std::vector<double>>(std::vector<double>{1, 2, 3, 4, 5, 6});
  std::weak_ptr<std::vector<double>> watch = buffer;
  double* raw = buffer->data();
  auto t = fugue::Tensor<double>::adopt(raw, {2, 3}, buffer);
  CHECK(t.is_adopted());
  CHECK_FALSE(fugue::Tensor<double>::zeros({2}).is_adopted());
  CHECK(t.data() == raw);
  buffer.reset();  // the tensor holds the owner now
  CHECK_FALSE(watch.expired());
  t(1, 2) = 60;
  CHECK((*watch.lock())[5] == 60);
  auto column = t.select(1, 2);  // a view shares the adopted storage
  t = fugue::Tensor<double>();
  CHECK_FALSE(watch.expired());
  CHECK(column(1) == 60);
  column = fugue::Tensor<double>();
  CHECK(watch.expired());  // the last handle released the owner (and nothing was freed twice)

  auto owner = std::make_shared<std::vector<float>>(9, 1.0f);
  CHECK_THROWS_WITH(fugue::Tensor<float>::adopt(owner->data(), {3, 3}, nullptr),
                    Catch::Contains("needs the memory and the object that owns it"));
  auto* odd = reinterpret_cast<float*>(reinterpret_cast<char*>(owner->data()) + 1);
  CHECK_THROWS_WITH(fugue::Tensor<float>::adopt(odd, {2}, owner), Catch::Contains("not aligned to 4 bytes"));
}
