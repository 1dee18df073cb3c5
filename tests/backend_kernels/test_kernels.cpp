// CPU backend kernels (elementwise, reductions, softmax, layer norm) against
// plain references computed in long double, for every (Arch, T) configuration
// of kt::configs (AVX-512F, FMA3+AVX2, scalar; float and double), on odd sizes,
// with 1 and 2 threads. Tolerances are stated next to each check, as multiples
// of T's epsilon; "worst" is the largest error/tolerance ratio seen (<= 1 passes).
#include "common.hpp"

using namespace kt;

TEMPLATE_LIST_TEST_CASE("fill writes every element and nothing beyond", "[kernels][elementwise]", configs) {
  using A = typename TestType::arch;
  using T = typename TestType::type;
  INFO(TestType::name());
  for (index_t n : odd_sizes) {
    std::vector<T> y(static_cast<std::size_t>(n) + 3, T(-1));
    K::fill<A>(n, T(2.5), y.data() + 1);
    CHECK(y[0] == T(-1));
    bool ok = true;
    for (index_t i = 0; i < n; ++i) ok = ok && y[static_cast<std::size_t>(i) + 1] == T(2.5);
    CHECK(ok);
    CHECK(y[static_cast<std::size_t>(n) + 1] == T(-1));
  }
}

TEMPLATE_LIST_TEST_CASE("map, zip, zip3 with exact functors match scalar arithmetic", "[kernels][elementwise]",
                        configs) {
  using A = typename TestType::arch;
  using T = typename TestType::type;
  INFO(TestType::name());
  std::mt19937_64 g(1);
  for (index_t n : odd_sizes) {
    INFO("n = " << n);
    auto a = uniform<T>(g, n, -3, 3), b = uniform<T>(g, n, 0.5, 2), c = uniform<T>(g, n, -1, 1);
    std::vector<T> y(a.size());
    auto check1 = [&](auto f, auto ref) {
      K::map<A>(n, a.data(), y.data(), f);
      bool ok = true;
      for (std::size_t i = 0; i < y.size(); ++i) ok = ok && y[i] == ref(a[i]);
      return ok;
    };
    CHECK(check1(fugue::fn::identity{}, [](T x) { return x; }));
    CHECK(check1(fugue::fn::neg{}, [](T x) { return -x; }));
    CHECK(check1(fugue::fn::square{}, [](T x) { return x * x; }));
    CHECK(check1(fugue::fn::abs{}, [](T x) { return std::fabs(x); }));
    CHECK(check1(fugue::fn::relu{}, [](T x) { return x > 0 ? x : T(0); }));
    CHECK(check1(fugue::fn::sqrt{}, [](T x) { return std::sqrt(x); }) == (n == 0));  // NaN for x < 0
    auto check2 = [&](auto f, auto ref) {
      K::zip<A>(n, a.data(), b.data(), y.data(), f);
      bool ok = true;
      for (std::size_t i = 0; i < y.size(); ++i) ok = ok && y[i] == ref(a[i], b[i]);
      return ok;
    };
    CHECK(check2(fugue::fn::add{}, [](T x, T z) { return x + z; }));
    CHECK(check2(fugue::fn::sub{}, [](T x, T z) { return x - z; }));
    CHECK(check2(fugue::fn::mul{}, [](T x, T z) { return x * z; }));
    CHECK(check2(fugue::fn::div{}, [](T x, T z) { return x / z; }));
    CHECK(check2(fugue::fn::max{}, [](T x, T z) { return x < z ? z : x; }));
    CHECK(check2(fugue::fn::min{}, [](T x, T z) { return z < x ? z : x; }));
    // fma: fused in the body, maybe not in the tail: within one rounding of a*b+c.
    K::zip3<A>(n, a.data(), b.data(), c.data(), y.data(), fugue::fn::fma{});
    LD worst = 0;
    for (std::size_t i = 0; i < y.size(); ++i) {
      const LD ref = LD(a[i]) * LD(b[i]) + LD(c[i]);
      worst =
          std::max(worst, std::fabs(y[i] - ref) / (2 * eps<T>() * (std::fabs(LD(a[i]) * b[i]) + std::fabs(LD(c[i])))));
    }
    CHECK(worst <= 1);
    // In place: y aliases x.
    std::vector<T> z = a;
    K::map<A>(n, z.data(), z.data(), fugue::fn::neg{});
    bool ok = true;
    for (std::size_t i = 0; i < z.size(); ++i) ok = ok && z[i] == -a[i];
    CHECK(ok);
  }
}

TEMPLATE_LIST_TEST_CASE("sum, max, dot on odd sizes", "[kernels][reduce]", configs) {
  using A = typename TestType::arch;
  using T = typename TestType::type;
  INFO(TestType::name());
  std::mt19937_64 g(2);
  for (index_t n : odd_sizes) {
    INFO("n = " << n);
    auto x = uniform<T>(g, n, -1, 1), w = uniform<T>(g, n, -1, 1);
    LD s = 0, sa = 0, d = 0, da = 0;
    T m = -std::numeric_limits<T>::infinity();
    for (std::size_t i = 0; i < x.size(); ++i) {
      s += x[i];
      sa += std::fabs(LD(x[i]));
      d += LD(x[i]) * w[i];
      da += std::fabs(LD(x[i]) * w[i]);
      m = std::max(m, x[i]);
    }
    // Blocked sums: |error| <= 48 eps sum|x| for any n (see reduce.hpp), + tiny.
    CHECK(std::fabs(K::sum<A>(n, x.data()) - s) <= 48 * eps<T>() * sa + 1e-300L);
    CHECK(std::fabs(K::dot<A>(n, x.data(), w.data()) - d) <= 48 * eps<T>() * da + 1e-300L);
    CHECK(K::max<A>(n, x.data()) == m);  // exact; -inf for n == 0
  }
  CHECK(K::sum<A>(0, static_cast<const T*>(nullptr)) == T(0));
}

TEMPLATE_LIST_TEST_CASE("max finds the maximum wherever it is", "[kernels][reduce]", configs) {
  using A = typename TestType::arch;
  using T = typename TestType::type;
  for (index_t n : {1, 5, 16, 17, 64, 100}) {
    std::vector<T> x(static_cast<std::size_t>(n), T(-5));
    bool ok = true;
    for (index_t k = 0; k < n; ++k) {
      x[static_cast<std::size_t>(k)] = T(3);
      ok = ok && K::max<A>(n, x.data()) == T(3);
      x[static_cast<std::size_t>(k)] = T(-5);
    }
    CHECK(ok);
  }
}

TEMPLATE_LIST_TEST_CASE("float sums of a million elements stay accurate", "[kernels][reduce][accuracy]", configs) {
  using A = typename TestType::arch;
  using T = typename TestType::type;
  INFO(TestType::name());
  std::mt19937_64 g(3);
  const index_t n = 1 << 20;
  auto x = uniform<T>(g, n, 0, 1);  // all positive: a sequential float loop loses ~4 digits here
  LD s = 0;
  for (T v : x) s += v;
  const LD rel = std::fabs(K::sum<A>(n, x.data()) - s) / s;
  INFO("relative error " << double(rel) << " = " << double(rel / eps<T>()) << " eps");
  CHECK(rel <= 8 * eps<T>());  // bound: 48 eps in theory, a few eps observed
  std::vector<T> y(x.size());
  for (std::size_t i = 0; i < y.size(); ++i) y[i] = T(1) - x[i];
  LD d = 0;
  for (std::size_t i = 0; i < y.size(); ++i) d += LD(x[i]) * y[i];
  CHECK(std::fabs(K::dot<A>(n, x.data(), y.data()) - d) / d <= 8 * eps<T>());
}

TEMPLATE_LIST_TEST_CASE("row_sum and col_sum against long double", "[kernels][reduce]", configs) {
  using A = typename TestType::arch;
  using T = typename TestType::type;
  INFO(TestType::name());
  std::mt19937_64 g(4);
  const std::vector<std::pair<index_t, index_t>> shapes = {
      {0, 5}, {3, 0}, {1, 1}, {3, 15}, {7, 16}, {5, 17}, {1000, 3}, {130, 33}, {64, 512}, {17, 1000}, {300, 129}};
  with_threads([&](int nt) {
    INFO("threads " << nt);
    for (auto [rows, cols] : shapes) {
      INFO("shape " << rows << "x" << cols);
      auto x = uniform<T>(g, rows * cols, -1, 1);
      std::vector<T> rs(static_cast<std::size_t>(rows)), cs(static_cast<std::size_t>(cols), T(7));
      K::row_sum<A>(rows, cols, x.data(), rs.data());
      LD worst = 0;
      for (index_t r = 0; r < rows; ++r) {
        LD s = 0, sa = 0;
        for (index_t c = 0; c < cols; ++c) s += x[r * cols + c], sa += std::fabs(LD(x[r * cols + c]));
        worst = std::max(worst, std::fabs(rs[r] - s) / (48 * eps<T>() * sa + 1e-300L));
      }
      CHECK(worst <= 1);
      // col_sum: |error| <= (64 + rows/64 + 4) eps sum|x| per column.
      for (bool acc : {false, true}) {
        std::vector<T> base = cs;
        K::col_sum<A>(rows, cols, x.data(), cs.data(), acc);
        worst = 0;
        for (index_t c = 0; c < cols; ++c) {
          LD s = acc ? LD(base[c]) : 0, sa = std::fabs(s);
          for (index_t r = 0; r < rows; ++r) s += x[r * cols + c], sa += std::fabs(LD(x[r * cols + c]));
          worst = std::max(worst, std::fabs(cs[c] - s) / ((64 + rows / 64 + 4) * eps<T>() * sa + 1e-300L));
        }
        CHECK(worst <= 1);
      }
    }
  });
}

TEMPLATE_LIST_TEST_CASE("results do not depend on the thread count", "[kernels][threads]", configs) {
  using A = typename TestType::arch;
  using T = typename TestType::type;
  std::mt19937_64 g(5);
  const index_t rows = 37, cols = 301;
  auto x = uniform<T>(g, rows * cols, -4, 4);
  auto gam = uniform<T>(g, cols, 0.5, 1.5), bet = uniform<T>(g, cols, -1, 1);
  std::vector<std::vector<T>> out[2];
  int k = 0;
  with_threads([&](int) {
    std::vector<T> rs(rows), cs(cols), sm(x.size()), ls(x.size()), ln(x.size()), mu(rows), rstd(rows);
    K::row_sum<A>(rows, cols, x.data(), rs.data());
    K::col_sum<A>(rows, cols, x.data(), cs.data());
    K::softmax_rows<A>(rows, cols, x.data(), sm.data());
    K::log_softmax_rows<A>(rows, cols, x.data(), ls.data());
    K::layer_norm_rows<A>(rows, cols, x.data(), gam.data(), bet.data(), T(1e-5), ln.data(), mu.data(), rstd.data());
    out[k++] = {rs, cs, sm, ls, ln, mu, rstd};
  });
  CHECK(out[0] == out[1]);
}

// --- softmax -------------------------------------------------------------------

template <class T>
static void softmax_ref(index_t cols, const T* x, std::vector<LD>& p, std::vector<LD>& lp) {
  LD m = -INFINITY;
  for (index_t c = 0; c < cols; ++c) m = std::max(m, LD(x[c]));
  LD s = 0;
  for (index_t c = 0; c < cols; ++c) s += std::exp(LD(x[c]) - m);
  p.resize(cols);
  lp.resize(cols);
  for (index_t c = 0; c < cols; ++c) {
    p[c] = std::exp(LD(x[c]) - m) / s;
    lp[c] = (LD(x[c]) - m) - std::log(s);
  }
}

TEMPLATE_LIST_TEST_CASE("softmax_rows and log_softmax_rows against long double", "[kernels][softmax]", configs) {
  using A = typename TestType::arch;
  using T = typename TestType::type;
  INFO(TestType::name());
  std::mt19937_64 g(6);
  const std::vector<std::pair<index_t, index_t>> shapes = {{0, 4},  {4, 0},  {1, 1},    {3, 3},    {2, 15},  {5, 16},
                                                           {4, 17}, {3, 33}, {64, 512}, {7, 1000}, {2, 4097}};
  with_threads([&](int nt) {
    INFO("threads " << nt);
    for (auto [rows, cols] : shapes) {
      for (double scale : {1.0, 30.0}) {
        INFO("shape " << rows << "x" << cols << " scale " << scale);
        auto x = uniform<T>(g, rows * cols, -scale, scale);
        std::vector<T> y(x.size()), ly(x.size()), yin = x;
        K::softmax_rows<A>(rows, cols, x.data(), y.data());
        K::log_softmax_rows<A>(rows, cols, x.data(), ly.data());
        K::softmax_rows<A>(rows, cols, yin.data(), yin.data());  // in place
        CHECK(yin == y);
        std::vector<LD> p, lp;
        LD worst = 0, worst_l = 0;
        for (index_t r = 0; r < rows; ++r) {
          const T* xr = x.data() + r * cols;
          softmax_ref(cols, xr, p, lp);
          const LD m = cols ? *std::max_element(xr, xr + cols) : 0;
          for (index_t c = 0; c < cols; ++c) {
            // softmax: relative error <= (|x - m| (rounding of x - m, amplified by exp)
            //          + cols (the sum of exps, worst case) + 16) eps.
            const LD tol = (std::fabs(LD(xr[c]) - m) + cols + 16) * eps<T>() * p[c];
            worst = std::max(worst, std::fabs(y[r * cols + c] - p[c]) / tol);
            // log_softmax: absolute error <= (|x - m| + |y| + cols + 16) eps.
            const LD tol_l = (std::fabs(LD(xr[c]) - m) + std::fabs(lp[c]) + cols + 16) * eps<T>();
            worst_l = std::max(worst_l, std::fabs(ly[r * cols + c] - lp[c]) / tol_l);
          }
        }
        CHECK(worst <= 1);
        CHECK(worst_l <= 1);
      }
    }
  });
}

TEMPLATE_LIST_TEST_CASE("softmax edge semantics: -inf, huge values, all -inf rows", "[kernels][softmax]", configs) {
  using A = typename TestType::arch;
  using T = typename TestType::type;
  INFO(TestType::name());
  const T inf = std::numeric_limits<T>::infinity();
  const T big = std::numeric_limits<T>::max() / 4;
  for (index_t cols : {1, 3, 16, 17, 40}) {
    INFO("cols " << cols);
    // Row 0: -inf everywhere except two entries; row 1: huge values; row 2: all -inf.
    std::vector<T> x(3 * static_cast<std::size_t>(cols));
    for (index_t c = 0; c < cols; ++c) {
      x[c] = -inf;
      x[cols + c] = c % 2 ? big : big / 2;
      x[2 * cols + c] = -inf;
    }
    x[0] = T(1);
    if (cols > 1) x[cols - 1] = T(1) + std::log(T(3));  // p = 1/4, 3/4
    std::vector<T> y(x.size()), ly(x.size());
    K::softmax_rows<A>(3, cols, x.data(), y.data());
    K::log_softmax_rows<A>(3, cols, x.data(), ly.data());
    const T p0 = cols > 1 ? T(0.25) : T(1);
    CHECK(y[0] == Approx(p0).epsilon(8 * eps<T>()));
    CHECK(ly[0] == Approx(std::log(p0)).epsilon(8 * eps<T>()).margin(8 * eps<T>()));
    if (cols > 1) CHECK(y[cols - 1] == Approx(0.75).epsilon(8 * eps<T>()));
    bool zeros = true, neg_infs = true;
    for (index_t c = 1; c + 1 < cols; ++c) {
      zeros = zeros && y[c] == T(0);
      neg_infs = neg_infs && ly[c] == -inf;
    }
    CHECK(zeros);
    CHECK(neg_infs);
    // Huge values: no overflow; equal split between the two values present.
    const index_t n_big = cols / 2;  // odd c hold big
    bool finite = true;
    LD total = 0;
    for (index_t c = 0; c < cols; ++c) {
      finite = finite && std::isfinite(y[cols + c]) && std::isfinite(ly[cols + c]);
      total += y[cols + c];
      if (c % 2 && n_big) CHECK(y[cols + c] == Approx(1.0 / n_big).epsilon(64 * eps<T>()));
      if (c % 2 == 0 && n_big) CHECK(y[cols + c] == T(0));
    }
    CHECK(finite);
    CHECK(double(total) == Approx(1.0).epsilon(64 * eps<T>()));
    // All -inf: NaN, as PyTorch.
    bool nans = true, lnans = true;
    for (index_t c = 0; c < cols; ++c) {
      nans = nans && std::isnan(y[2 * cols + c]);
      lnans = lnans && std::isnan(ly[2 * cols + c]);
    }
    CHECK(nans);
    CHECK(lnans);
  }
}

// --- layer norm ----------------------------------------------------------------

TEMPLATE_LIST_TEST_CASE("layer_norm_rows against long double, with and without gamma/beta", "[kernels][layer_norm]",
                        configs) {
  using A = typename TestType::arch;
  using T = typename TestType::type;
  INFO(TestType::name());
  std::mt19937_64 g(7);
  const std::vector<std::pair<index_t, index_t>> shapes = {{0, 8},  {1, 1},  {3, 3},     {2, 15},   {5, 16},
                                                           {4, 17}, {3, 33}, {256, 512}, {3, 1000}, {2, 4097}};
  with_threads([&](int nt) {
    INFO("threads " << nt);
    for (auto [rows, cols] : shapes) {
      // offset / spread: 1000 / 1 is a row with a large mean, where sum-of-squares fails in float.
      for (auto [offset, spread] : {std::pair{0.0, 1.0}, std::pair{1000.0, 1.0}, std::pair{-3.0, 1e-3}}) {
        INFO("shape " << rows << "x" << cols << " offset " << offset << " spread " << spread);
        auto x = uniform<T>(g, rows * cols, offset - spread, offset + spread);
        auto gam = uniform<T>(g, cols, 0.5, 1.5), bet = uniform<T>(g, cols, -1, 1);
        const T eps_ln = T(1e-5);
        for (int variant = 0; variant < 4; ++variant) {
          const T* gp = variant & 1 ? gam.data() : nullptr;
          const T* bp = variant & 2 ? bet.data() : nullptr;
          INFO("gamma " << bool(gp) << " beta " << bool(bp));
          std::vector<T> y(x.size()), mu(rows), rs(rows);
          K::layer_norm_rows<A>(rows, cols, x.data(), gp, bp, eps_ln, y.data(), mu.data(), rs.data());
          LD worst = 0, worst_mu = 0, worst_rs = 0;
          for (index_t r = 0; r < rows; ++r) {
            const T* xr = x.data() + r * cols;
            LD mean = 0, var = 0;
            for (index_t c = 0; c < cols; ++c) mean += xr[c];
            mean /= cols;
            for (index_t c = 0; c < cols; ++c) var += (xr[c] - mean) * (xr[c] - mean);
            var /= cols;
            const LD rstd = 1 / std::sqrt(var + LD(eps_ln));
            // Conditioning: the rounding of x and of the mean is amplified by |mean|/std.
            const LD kappa = 1 + std::fabs(mean) * rstd;
            worst_mu = std::max(worst_mu, std::fabs(mu[r] - mean) / (8 * eps<T>() * (std::fabs(mean) + 1 / rstd)));
            worst_rs = std::max(worst_rs, std::fabs(rs[r] - rstd) / (16 * eps<T>() * kappa * rstd));
            for (index_t c = 0; c < cols; ++c) {
              const LD z = (xr[c] - mean) * rstd;
              const LD gz = gp ? z * gp[c] : z;
              const LD ref = bp ? gz + bp[c] : gz;
              // |error| <= 32 eps kappa (|gamma z| + |beta| + 1).
              const LD tol = 32 * eps<T>() * kappa * (std::fabs(gz) + (bp ? std::fabs(LD(bp[c])) : 0) + 1);
              worst = std::max(worst, std::fabs(y[r * cols + c] - ref) / tol);
            }
          }
          CHECK(worst <= 1);
          CHECK(worst_mu <= 1);
          CHECK(worst_rs <= 1);
        }
      }
    }
  });
}

TEMPLATE_LIST_TEST_CASE("layer_norm of a constant row gives beta, rstd = 1/sqrt(eps)", "[kernels][layer_norm]",
                        configs) {
  using A = typename TestType::arch;
  using T = typename TestType::type;
  INFO(TestType::name());
  for (index_t cols : {1, 3, 16, 17, 100, 1000}) {
    for (T v : {T(0), T(3.7), T(-1234.567), T(1e6) + T(0.1)}) {
      INFO("cols " << cols << " value " << v);
      std::vector<T> x(static_cast<std::size_t>(cols), v), y(x.size()), bet(x.size());
      for (index_t c = 0; c < cols; ++c) bet[c] = T(c % 5) - 2;
      T mu, rs;
      K::layer_norm_rows<A, T>(1, cols, x.data(), nullptr, bet.data(), T(1e-5), y.data(), &mu, &rs);
      CHECK(mu == v);
      CHECK(rs == Approx(1 / std::sqrt(1e-5)).epsilon(4 * eps<T>()));
      CHECK(y == bet);
      K::layer_norm_rows<A, T>(1, cols, x.data(), nullptr, nullptr, T(1e-5), x.data(), nullptr, nullptr);  // in place
      bool zeros = true;
      for (T e : x) zeros = zeros && e == T(0);
      CHECK(zeros);
    }
  }
}
